// QuantizeLinear, DequantizeLinear (opset 10/13: per tensor or per axis) and
// DynamicQuantizeLinear (opset 11: uint8, scale and zero point from the data's range).
#include <algorithm>

#include "ops.h"
#include "quant_util.h"

namespace edgeperf::runtime::reference {
namespace {

// Element (o, c, i) of a tensor seen as [outer, channels, inner]; channels is the quantized
// axis (1 when quantized per tensor).
struct AxisLayout {
  std::int64_t outer = 1, channels = 1, inner = 1;
};

// Layout of the data tensor for the scale at input `scale_index` (per tensor or per axis).
AxisLayout axis_layout(const PrepareContext& context, std::size_t scale_index,
                       std::size_t zero_point_index, const char* scale_name,
                       const char* zero_point_name) {
  const graph::Node& node = context.node;
  const Shape& data = context.inputs[0].shape;
  check_same_param_count(context, scale_index, zero_point_index);
  const Shape& scale = context.inputs[scale_index].shape;
  const bool per_tensor = element_count(scale) == 1 && scale.size() <= 1;
  AxisLayout layout;
  layout.inner = element_count(data);
  if (per_tensor) {
    if (context.has_input(zero_point_index)) {
      check_param_shape(context, zero_point_index, zero_point_name, 0);
    }
    return layout;
  }
  EP_CHECK(!data.empty(), "node {}: per-axis '{}' {} needs an input of rank >= 1", node.label(),
           scale_name, shape_to_string(scale));
  const std::int64_t rank = static_cast<std::int64_t>(data.size());
  const std::int64_t axis = normalize_axis(node, node.attr_int("axis", 1), rank);
  const auto at = static_cast<std::size_t>(axis);
  check_param_shape(context, scale_index, scale_name, data[at]);
  if (context.has_input(zero_point_index)) {
    check_param_shape(context, zero_point_index, zero_point_name, data[at]);
  }
  layout.outer = product(data, 0, at);
  layout.channels = data[at];
  layout.inner = product(data, at + 1, data.size());
  return layout;
}

template <typename In, typename Out>
void quantize(const AxisLayout& layout, const In* x, const Tensor& scales,
              const Tensor& zero_points, Out* y) {
  const QuantRange range = quant_range(dtype_of<Out>());
  for (std::int64_t o = 0; o < layout.outer; ++o) {
    for (std::int64_t c = 0; c < layout.channels; ++c) {
      const float scale = scale_at(scales, c);
      const std::int32_t zero_point = zero_point_at(zero_points, c);
      const std::int64_t base = (o * layout.channels + c) * layout.inner;
      for (std::int64_t i = base; i < base + layout.inner; ++i) {
        y[i] = static_cast<Out>(quantize_value(static_cast<float>(x[i]), scale, zero_point, range));
      }
    }
  }
}

template <typename In>
void dequantize(const AxisLayout& layout, const In* x, const Tensor& scales,
                const Tensor& zero_points, float* y) {
  for (std::int64_t o = 0; o < layout.outer; ++o) {
    for (std::int64_t c = 0; c < layout.channels; ++c) {
      const float scale = scale_at(scales, c);
      const std::int64_t zero_point = zero_point_at(zero_points, c);
      const std::int64_t base = (o * layout.channels + c) * layout.inner;
      for (std::int64_t i = base; i < base + layout.inner; ++i) {
        y[i] = static_cast<float>(static_cast<std::int64_t>(x[i]) - zero_point) * scale;
      }
    }
  }
}

// Blocked scales (opset 21's block_size) are not implemented: refused, never misread.
void check_not_blocked(const PrepareContext& context) {
  EP_CHECK(context.node.attr_int("block_size", 0) == 0,
           "node {}: {} with block_size {} (opset 21 blocked quantization) is not implemented",
           context.node.label(), context.node.op_type, context.node.attr_int("block_size", 0));
}

DType quantize_output_dtype(const PrepareContext& context) {
  check_input_count(context, 2, 3);
  check_not_blocked(context);
  check_dtype(context, 0, {DType::f32, DType::i32}, "x");
  check_scale_input(context, 1, "y_scale", true);
  if (!context.has_input(2)) return DType::u8;
  check_dtype(context, 2, {DType::u8, DType::i8}, "y_zero_point");
  return context.inputs[2].dtype;
}

void check_dequantize_inputs(const PrepareContext& context) {
  check_input_count(context, 2, 3);
  check_not_blocked(context);
  check_dtype(context, 0, {DType::u8, DType::i8, DType::i32}, "x");
  check_scale_input(context, 1, "x_scale", false);
  check_zero_point_dtype(context, 2, "x_zero_point", context.inputs[0].dtype, "x");
  const Tensor* zero_points = context.constant(2);
  if (context.inputs[0].dtype != DType::i32 || zero_points == nullptr) return;
  for (std::int64_t i = 0; i < zero_points->numel(); ++i) {
    EP_CHECK(zero_point_at(*zero_points, i) == 0,
             "node {}: int32 input 'x' needs zero point 0, 'x_zero_point'[{}] is {}",
             context.node.label(), i, zero_point_at(*zero_points, i));
  }
}

}  // namespace

void infer_quantize_linear(PrepareContext& context) {
  const DType out = quantize_output_dtype(context);
  axis_layout(context, 1, 2, "y_scale", "y_zero_point");
  prepare_outputs(context, 1, 1);
  set_output(context, 0, out, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_quantize_linear(const PrepareContext& context) {
  const DType out = quantize_output_dtype(context);
  const AxisLayout layout = axis_layout(context, 1, 2, "y_scale", "y_zero_point");
  const DType in = context.inputs[0].dtype;
  const bool check_scales = context.constant(1) == nullptr;
  const graph::Node node = context.node;
  return make_kernel([=](std::span<const Tensor> inputs, std::span<Tensor> outputs) {
    const Tensor& scales = inputs[1];
    if (check_scales) check_scale_values(node, "y_scale", scales.values<float>(), true);
    const Tensor zero_points = inputs.size() > 2 ? inputs[2] : Tensor();
    dispatch_quantized(node, out, "y_zero_point", [&](auto out_type) {
      using Out = decltype(out_type);
      Out* y = outputs[0].data<Out>();
      if (in == DType::f32) {
        quantize(layout, inputs[0].data<float>(), scales, zero_points, y);
      } else {
        quantize(layout, inputs[0].data<std::int32_t>(), scales, zero_points, y);
      }
    });
  });
}

void infer_dequantize_linear(PrepareContext& context) {
  check_dequantize_inputs(context);
  axis_layout(context, 1, 2, "x_scale", "x_zero_point");
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::f32, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_dequantize_linear(const PrepareContext& context) {
  check_dequantize_inputs(context);
  const AxisLayout layout = axis_layout(context, 1, 2, "x_scale", "x_zero_point");
  const DType in = context.inputs[0].dtype;
  const bool check_scales = context.constant(1) == nullptr;
  const graph::Node node = context.node;
  return make_kernel([=](std::span<const Tensor> inputs, std::span<Tensor> outputs) {
    const Tensor& scales = inputs[1];
    if (check_scales) check_scale_values(node, "x_scale", scales.values<float>(), false);
    const Tensor zero_points = inputs.size() > 2 ? inputs[2] : Tensor();
    float* y = outputs[0].data<float>();
    switch (in) {
      case DType::u8:
        dequantize(layout, inputs[0].data<std::uint8_t>(), scales, zero_points, y);
        break;
      case DType::i8:
        dequantize(layout, inputs[0].data<std::int8_t>(), scales, zero_points, y);
        break;
      default:
        dequantize(layout, inputs[0].data<std::int32_t>(), scales, zero_points, y);
        break;
    }
  });
}

void infer_dynamic_quantize_linear(PrepareContext& context) {
  check_input_count(context, 1, 1);
  check_dtype(context, 0, {DType::f32}, "x");
  prepare_outputs(context, 3, 3);
  set_output(context, 0, DType::u8, context.inputs[0].shape);
  set_output(context, 1, DType::f32, {});
  set_output(context, 2, DType::u8, {});
}

std::unique_ptr<Kernel> create_dynamic_quantize_linear(const PrepareContext& context) {
  check_input_count(context, 1, 1);
  const graph::Node node = context.node;
  return make_kernel([node](std::span<const Tensor> inputs, std::span<Tensor> outputs) {
    const auto x = inputs[0].values<float>();
    // The range always includes 0, so that 0 is exactly representable.
    float min = 0.0f, max = 0.0f;
    for (const float value : x) {
      EP_CHECK(std::isfinite(value), "node {}: input 'x' holds {}; it must be finite", node.label(),
               value);
      min = std::min(min, value);
      max = std::max(max, value);
    }
    const QuantRange range = quant_range(DType::u8);
    // An all-zero input has an empty range: any scale represents it; 1 avoids dividing by 0.
    const float spread = (max - min) / static_cast<float>(range.hi - range.lo);
    const float scale = spread == 0.0f ? 1.0f : spread;
    const std::int32_t zero_point =
        round_and_saturate(static_cast<float>(range.lo) - min / scale, 0, range);
    std::uint8_t* y = outputs[0].data<std::uint8_t>();
    for (std::size_t i = 0; i < x.size(); ++i) {
      y[i] = static_cast<std::uint8_t>(quantize_value(x[i], scale, zero_point, range));
    }
    outputs[1].data<float>()[0] = scale;
    outputs[2].data<std::uint8_t>()[0] = static_cast<std::uint8_t>(zero_point);
  });
}

}  // namespace edgeperf::runtime::reference
