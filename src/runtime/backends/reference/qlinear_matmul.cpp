// QLinearMatMul and MatMulInteger (opset 10): numpy-style integer matmul of uint8/int8
// operands with batch broadcasting. Zero points and scales are per tensor, per row of A
// ([M] or [..., M, 1]) or per column of B ([N] or [..., 1, N]).
#include <algorithm>

#include "matmul_geometry.h"
#include "ops.h"
#include "quant_util.h"

namespace edgeperf::runtime::reference {
namespace {

// Where a scale or zero point of A (per row) or B (per column) sits: one value, or
// value (batch, line) at batch_offsets[batch] + line.
struct ParamLayout {
  bool per_tensor = true;
  std::vector<std::int64_t> batch_offsets;
  std::int64_t at(std::size_t batch, std::int64_t line) const {
    return per_tensor ? 0 : batch_offsets[batch] + line;
  }
};

ParamLayout param_layout(const PrepareContext& context, std::size_t index, const char* name,
                         const MatMulGeometry& g, bool per_row) {
  ParamLayout layout;
  if (!context.has_input(index)) return layout;
  const Shape& shape = context.inputs[index].shape;
  if (element_count(shape) == 1) return layout;
  const std::int64_t lines = per_row ? g.m : g.n;
  Shape full = shape;
  if (full.size() == 1) full = per_row ? Shape{full[0], 1} : Shape{1, full[0]};
  const std::size_t rank = full.size();
  const bool fits = per_row ? full[rank - 2] == lines && full[rank - 1] == 1
                            : full[rank - 2] == 1 && full[rank - 1] == lines;
  const Shape param_batch(full.begin(), full.end() - 2);
  EP_CHECK(fits && param_batch.size() <= g.batch.size() &&
               broadcast_shapes(context.node, param_batch, g.batch) == g.batch,
           "node {}: '{}' has shape {}; per-{} quantization needs [{}] or [..., {}]",
           context.node.label(), name, shape_to_string(shape), per_row ? "row" : "column", lines,
           per_row ? fmt::format("{}, 1", lines) : fmt::format("1, {}", lines));
  layout.per_tensor = false;
  layout.batch_offsets = batch_offsets(param_batch, g.batch, lines);
  return layout;
}

// row[j] += a_value * (b[j] - b_zero). The restrict pointers let the loop vectorize (int8/uint8
// data could otherwise alias the accumulator).
template <typename TB>
inline void accumulate_row(std::uint32_t* __restrict row, const TB* __restrict b, std::int64_t n,
                           std::int32_t a_value, std::int32_t b_zero) {
  for (std::int64_t j = 0; j < n; ++j) {
    row[j] += static_cast<std::uint32_t>(a_value * (static_cast<std::int32_t>(b[j]) - b_zero));
  }
}

template <typename TB>
inline void accumulate_row_column_zeros(std::uint32_t* __restrict row, const TB* __restrict b,
                                        const TB* __restrict b_zeros, std::int64_t n,
                                        std::int32_t a_value) {
  for (std::int64_t j = 0; j < n; ++j) {
    row[j] += static_cast<std::uint32_t>(
        a_value * (static_cast<std::int32_t>(b[j]) - static_cast<std::int32_t>(b_zeros[j])));
  }
}

// acc[batch][i][j] = sum_p (a[i][p] - a_zero(i)) * (b[p][j] - b_zero(j)), wrapping in 32 bits.
template <typename TA, typename TB>
void accumulate_matmul(const MatMulGeometry& g, int threads, const TA* a,
                       const Tensor& a_zero_point, const ParamLayout& a_zero_layout, const TB* b,
                       const Tensor& b_zero_point, const ParamLayout& b_zero_layout,
                       std::int32_t* acc) {
  const std::int64_t batches = static_cast<std::int64_t>(g.a_batch.size());
  const std::int64_t rows = batches * g.m;
  const TB* b_zeros = b_zero_point.numel() > 0 ? b_zero_point.data<TB>() : nullptr;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto batch = static_cast<std::size_t>(r / g.m);
    const std::int64_t i = r % g.m;
    const TA* a_row = a + g.a_batch[batch] + i * g.k;
    const TB* b_matrix = b + g.b_batch[batch];
    const std::int32_t a_zero = zero_point_at(a_zero_point, a_zero_layout.at(batch, i));
    auto* row = reinterpret_cast<std::uint32_t*>(acc + r * g.n);
    std::fill(row, row + g.n, 0u);
    const TB* column_zeros = b_zeros == nullptr || b_zero_layout.per_tensor
                                 ? nullptr
                                 : b_zeros + b_zero_layout.at(batch, 0);
    const std::int32_t b_zero = b_zeros != nullptr && b_zero_layout.per_tensor ? b_zeros[0] : 0;
    for (std::int64_t p = 0; p < g.k; ++p) {
      const std::int32_t a_value = static_cast<std::int32_t>(a_row[p]) - a_zero;
      if (a_value == 0) continue;
      const TB* b_row = b_matrix + p * g.n;
      if (column_zeros == nullptr) {
        accumulate_row(row, b_row, g.n, a_value, b_zero);
      } else {
        accumulate_row_column_zeros(row, b_row, column_zeros, g.n, a_value);
      }
    }
  }
}

struct MatMulParams {
  ParamLayout a_zero, b_zero, a_scale, b_scale;
};

template <typename F>
void dispatch_matmul_types(const graph::Node& node, DType a, DType b, F&& f) {
  dispatch_quantized(node, a, "a", [&](auto a_type) {
    dispatch_quantized(node, b, "b", [&](auto b_type) { f(a_type, b_type); });
  });
}

// ---- QLinearMatMul: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale,
// y_zero_point ----

enum QLinearMatMulInput : std::size_t { kA, kAScale, kAZero, kB, kBScale, kBZero, kYScale, kYZero };

MatMulGeometry qlinear_matmul_geometry(const PrepareContext& context, MatMulParams* params) {
  check_input_count(context, 8, 8);
  check_dtype(context, kA, {DType::u8, DType::i8}, "a");
  check_dtype(context, kB, {DType::u8, DType::i8}, "b");
  MatMulGeometry g = resolve_matmul_geometry(context, kA, kB);
  check_scale_input(context, kAScale, "a_scale", false);
  check_scale_input(context, kBScale, "b_scale", false);
  check_scale_input(context, kYScale, "y_scale", true);
  check_zero_point_dtype(context, kAZero, "a_zero_point", context.inputs[kA].dtype, "a");
  check_zero_point_dtype(context, kBZero, "b_zero_point", context.inputs[kB].dtype, "b");
  check_dtype(context, kYZero, {DType::u8, DType::i8}, "y_zero_point");
  check_param_shape(context, kYScale, "y_scale", 0);
  check_param_shape(context, kYZero, "y_zero_point", 0);
  params->a_scale = param_layout(context, kAScale, "a_scale", g, true);
  params->a_zero = param_layout(context, kAZero, "a_zero_point", g, true);
  params->b_scale = param_layout(context, kBScale, "b_scale", g, false);
  params->b_zero = param_layout(context, kBZero, "b_zero_point", g, false);
  return g;
}

template <typename TY>
void requantize_matmul(const MatMulGeometry& g, const MatMulParams& params,
                       std::span<const Tensor> in, const std::int32_t* acc, TY* y) {
  const QuantRange range = quant_range(dtype_of<TY>());
  const float* a_scales = in[kAScale].data<float>();
  const float* b_scales = in[kBScale].data<float>();
  const float y_scale = scale_at(in[kYScale], 0);
  const std::int32_t y_zero = zero_point_at(in[kYZero], 0);
  const std::int64_t rows = static_cast<std::int64_t>(g.a_batch.size()) * g.m;
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto batch = static_cast<std::size_t>(r / g.m);
    const float a_scale = a_scales[params.a_scale.at(batch, r % g.m)];
    for (std::int64_t j = 0; j < g.n; ++j) {
      const float multiplier = a_scale * b_scales[params.b_scale.at(batch, j)] / y_scale;
      y[r * g.n + j] = static_cast<TY>(requantize(acc[r * g.n + j], multiplier, y_zero, range));
    }
  }
}

// ---- MatMulInteger: A, B, a_zero_point (optional), b_zero_point (optional) ----

MatMulGeometry matmul_integer_geometry(const PrepareContext& context, MatMulParams* params) {
  check_input_count(context, 2, 4);
  check_dtype(context, 0, {DType::u8, DType::i8}, "A");
  check_dtype(context, 1, {DType::u8, DType::i8}, "B");
  MatMulGeometry g = resolve_matmul_geometry(context, 0, 1);
  check_zero_point_dtype(context, 2, "a_zero_point", context.inputs[0].dtype, "A");
  check_zero_point_dtype(context, 3, "b_zero_point", context.inputs[1].dtype, "B");
  params->a_zero = param_layout(context, 2, "a_zero_point", g, true);
  params->b_zero = param_layout(context, 3, "b_zero_point", g, false);
  return g;
}

Tensor input_or_empty(std::span<const Tensor> inputs, std::size_t index) {
  return index < inputs.size() ? inputs[index] : Tensor();
}

}  // namespace

void infer_qlinear_matmul(PrepareContext& context) {
  MatMulParams params;
  const MatMulGeometry g = qlinear_matmul_geometry(context, &params);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[kYZero].dtype, g.output);
}

std::unique_ptr<Kernel> create_qlinear_matmul(const PrepareContext& context) {
  MatMulParams params;
  const MatMulGeometry g = qlinear_matmul_geometry(context, &params);
  const DType a_type = context.inputs[kA].dtype;
  const DType b_type = context.inputs[kB].dtype;
  const DType y_type = context.inputs[kYZero].dtype;
  const graph::Node node = context.node;
  const auto acc = std::make_shared<std::vector<std::int32_t>>(
      static_cast<std::size_t>(element_count(g.output)));
  return make_workspace_kernel(
      [=](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
        check_scale_values(node, "a_scale", in[kAScale].values<float>(), false);
        check_scale_values(node, "b_scale", in[kBScale].values<float>(), false);
        check_scale_values(node, "y_scale", in[kYScale].values<float>(), true);
        dispatch_matmul_types(node, a_type, b_type, [&](auto ta, auto tb) {
          using TA = decltype(ta);
          using TB = decltype(tb);
          accumulate_matmul(g, threads, in[kA].data<TA>(), in[kAZero], params.a_zero,
                            in[kB].data<TB>(), in[kBZero], params.b_zero, acc->data());
        });
        dispatch_quantized(node, y_type, "y_zero_point", [&](auto ty) {
          using TY = decltype(ty);
          requantize_matmul(g, params, in, acc->data(), out[0].data<TY>());
        });
      },
      acc->size() * sizeof(std::int32_t));
}

void infer_matmul_integer(PrepareContext& context) {
  MatMulParams params;
  const MatMulGeometry g = matmul_integer_geometry(context, &params);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::i32, g.output);
}

std::unique_ptr<Kernel> create_matmul_integer(const PrepareContext& context) {
  MatMulParams params;
  const MatMulGeometry g = matmul_integer_geometry(context, &params);
  const DType a_type = context.inputs[0].dtype;
  const DType b_type = context.inputs[1].dtype;
  const graph::Node node = context.node;
  return make_parallel_kernel([=](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
    dispatch_matmul_types(node, a_type, b_type, [&](auto ta, auto tb) {
      using TA = decltype(ta);
      using TB = decltype(tb);
      accumulate_matmul(g, threads, in[0].data<TA>(), input_or_empty(in, 2), params.a_zero,
                        in[1].data<TB>(), input_or_empty(in, 3), params.b_zero,
                        out[0].data<std::int32_t>());
    });
  });
}

}  // namespace edgeperf::runtime::reference
