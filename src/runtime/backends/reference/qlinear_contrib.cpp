// com.microsoft QLinearAdd and QLinearGlobalAveragePool (ONNX Runtime contrib ops that its
// QOperator quantizer emits). Both are dequantize -> float op -> quantize, with per-tensor
// scales and zero points:
//   QLinearAdd: A, A_scale, A_zero_point?, B, B_scale, B_zero_point?, C_scale, C_zero_point?
//     C = saturate(round(A_scale / C_scale * (A - A_zero) + B_scale / C_scale * (B - B_zero))
//                  + C_zero), numpy broadcasting.
//   QLinearGlobalAveragePool: X, x_scale, x_zero_point, y_scale, y_zero_point; channels_last.
//     Y = saturate(round(sum(X - x_zero) * x_scale / (y_scale * spatial size)) + y_zero).
#include <algorithm>

#include "ops.h"
#include "quant_util.h"

namespace edgeperf::runtime::reference {
namespace {

enum QLinearAddInput : std::size_t { kA, kAScale, kAZero, kB, kBScale, kBZero, kCScale, kCZero };

DType check_qlinear_add(const PrepareContext& context) {
  check_input_count(context, 2, 8);
  EP_CHECK(context.inputs.size() >= 7, "node {}: expects 7 to 8 inputs, got {}",
           context.node.label(), context.inputs.size());
  for (const std::size_t required : {kA, kAScale, kB, kBScale, kCScale}) {
    EP_CHECK(context.has_input(required), "node {}: required input {} is missing",
             context.node.label(), required);
  }
  check_dtype(context, kA, {DType::u8, DType::i8}, "A");
  check_same_dtype(context, kA, kB);
  const DType type = context.inputs[kA].dtype;
  const std::pair<std::size_t, const char*> scales[] = {
      {kAScale, "A_scale"}, {kBScale, "B_scale"}, {kCScale, "C_scale"}};
  for (const auto& [index, name] : scales) {
    check_scale_input(context, index, name, index == kCScale);
    check_param_shape(context, index, name, 0);
  }
  const std::pair<std::size_t, const char*> zeros[] = {
      {kAZero, "A_zero_point"}, {kBZero, "B_zero_point"}, {kCZero, "C_zero_point"}};
  for (const auto& [index, name] : zeros) {
    if (!context.has_input(index)) continue;
    check_zero_point_dtype(context, index, name, type, "A");
    check_param_shape(context, index, name, 0);
  }
  return type;
}

template <typename T>
void qlinear_add(std::span<const Tensor> in, Tensor& out) {
  const QuantRange range = quant_range(dtype_of<T>());
  const auto zero = [&](std::size_t index) {
    return index < in.size() ? zero_point_at(in[index], 0) : 0;
  };
  const float c_scale = scale_at(in[kCScale], 0);
  const float a_ratio = scale_at(in[kAScale], 0) / c_scale;
  const float b_ratio = scale_at(in[kBScale], 0) / c_scale;
  const std::int32_t a_zero = zero(kAZero), b_zero = zero(kBZero), c_zero = zero(kCZero);
  const Tensor& a = in[kA];
  const Tensor& b = in[kB];
  const Shape& shape = out.shape();
  const auto sa = broadcast_strides(a.shape(), shape);
  const auto sb = broadcast_strides(b.shape(), shape);
  const std::int64_t step_a = shape.empty() ? 0 : sa.back();
  const std::int64_t step_b = shape.empty() ? 0 : sb.back();
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* y = out.data<T>();
  for_each_row(shape, {sa, sb}, [&](const std::vector<std::int64_t>& offsets, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
      const float value =
          a_ratio *
              static_cast<float>(static_cast<std::int32_t>(pa[offsets[0] + i * step_a]) - a_zero) +
          b_ratio *
              static_cast<float>(static_cast<std::int32_t>(pb[offsets[1] + i * step_b]) - b_zero);
      y[i] = static_cast<T>(round_and_saturate(value, c_zero, range));
    }
    y += n;
  });
}

// ---- QLinearGlobalAveragePool ----

struct PoolGeometry {
  std::int64_t batch = 0, channels = 0, spatial = 1;
  bool channels_last = false;
  Shape output;
};

PoolGeometry check_qlinear_global_pool(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 5, 5);
  check_dtype(context, 0, {DType::u8, DType::i8}, "X");
  check_scale_input(context, 1, "x_scale", false);
  check_scale_input(context, 3, "y_scale", true);
  check_param_shape(context, 1, "x_scale", 0);
  check_param_shape(context, 3, "y_scale", 0);
  check_zero_point_dtype(context, 2, "x_zero_point", context.inputs[0].dtype, "X");
  check_zero_point_dtype(context, 4, "y_zero_point", context.inputs[0].dtype, "X");
  check_param_shape(context, 2, "x_zero_point", 0);
  check_param_shape(context, 4, "y_zero_point", 0);
  const Shape& x = context.inputs[0].shape;
  EP_CHECK(x.size() >= 3, "node {}: input 'X' must have rank >= 3, got {}", node.label(),
           shape_to_string(x));
  PoolGeometry g;
  g.channels_last = node.attr_int("channels_last", 0) != 0;
  g.batch = x[0];
  g.channels = g.channels_last ? x.back() : x[1];
  g.spatial = g.channels_last ? product(x, 1, x.size() - 1) : product(x, 2, x.size());
  EP_CHECK(g.spatial > 0, "node {}: input 'X' {} has no spatial elements", node.label(),
           shape_to_string(x));
  g.output = Shape(x.size(), 1);
  g.output[0] = g.batch;
  g.output[g.channels_last ? x.size() - 1 : 1] = g.channels;
  return g;
}

template <typename T>
void qlinear_global_pool(const PoolGeometry& g, std::span<const Tensor> in, T* y) {
  const QuantRange range = quant_range(dtype_of<T>());
  const std::int32_t x_zero = zero_point_at(in[2], 0);
  const std::int32_t y_zero = zero_point_at(in[4], 0);
  const float multiplier =
      scale_at(in[1], 0) / (scale_at(in[3], 0) * static_cast<float>(g.spatial));
  const T* x = in[0].data<T>();
  // Element (n, c, s) sits at (n * C + c) * S + s (channels first) or (n * S + s) * C + c.
  const std::int64_t channel_step = g.channels_last ? 1 : g.spatial;
  const std::int64_t spatial_step = g.channels_last ? g.channels : 1;
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const T* image = x + n * g.channels * g.spatial;
    for (std::int64_t c = 0; c < g.channels; ++c) {
      std::uint32_t sum = 0;
      for (std::int64_t s = 0; s < g.spatial; ++s) {
        accumulate(sum,
                   static_cast<std::int32_t>(image[c * channel_step + s * spatial_step]) - x_zero);
      }
      y[n * g.channels + c] =
          static_cast<T>(requantize(static_cast<std::int32_t>(sum), multiplier, y_zero, range));
    }
  }
}

}  // namespace

void infer_qlinear_add(PrepareContext& context) {
  const DType type = check_qlinear_add(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, type,
             broadcast_shapes(context.node, context.inputs[kA].shape, context.inputs[kB].shape));
}

std::unique_ptr<Kernel> create_qlinear_add(const PrepareContext& context) {
  const DType type = check_qlinear_add(context);
  const graph::Node node = context.node;
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    check_scale_values(node, "A_scale", in[kAScale].values<float>(), false);
    check_scale_values(node, "B_scale", in[kBScale].values<float>(), false);
    check_scale_values(node, "C_scale", in[kCScale].values<float>(), true);
    dispatch_quantized(node, type, "A", [&](auto t) { qlinear_add<decltype(t)>(in, out[0]); });
  });
}

void infer_qlinear_global_average_pool(PrepareContext& context) {
  const PoolGeometry g = check_qlinear_global_pool(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, g.output);
}

std::unique_ptr<Kernel> create_qlinear_global_average_pool(const PrepareContext& context) {
  const PoolGeometry g = check_qlinear_global_pool(context);
  const DType type = context.inputs[0].dtype;
  const graph::Node node = context.node;
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    check_scale_values(node, "x_scale", in[1].values<float>(), false);
    check_scale_values(node, "y_scale", in[3].values<float>(), true);
    dispatch_quantized(node, type, "X", [&](auto t) {
      using T = decltype(t);
      qlinear_global_pool(g, in, out[0].data<T>());
    });
  });
}

}  // namespace edgeperf::runtime::reference
