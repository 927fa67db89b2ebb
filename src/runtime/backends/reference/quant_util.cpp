#include "quant_util.h"

#include <algorithm>
#include <limits>

namespace edgeperf::runtime::reference {
namespace {

class WorkspaceKernel final : public Kernel {
 public:
  WorkspaceKernel(ParallelRunFn run, std::size_t workspace_bytes)
      : run_(std::move(run)), workspace_bytes_(workspace_bytes) {}
  void run(const RunContext& context, std::span<const Tensor> inputs,
           std::span<Tensor> outputs) override {
    run_(std::max(1, context.threads), inputs, outputs);
  }
  std::size_t workspace_bytes() const override { return workspace_bytes_; }

 private:
  ParallelRunFn run_;
  std::size_t workspace_bytes_;
};

}  // namespace

QuantRange quant_range(DType dtype) {
  switch (dtype) {
    case DType::u8:
      return {0, 255};
    case DType::i8:
      return {-128, 127};
    case DType::i32:
      return {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
    default:
      fail("quant_range: dtype {} is not a quantized type", dtype_name(dtype));
  }
}

bool check_param_shape(const PrepareContext& context, std::size_t index, const char* name,
                       std::int64_t axis_length) {
  const Shape& shape = context.inputs[index].shape;
  const std::int64_t count = element_count(shape);
  if (count == 1 && shape.size() <= 1) return false;
  EP_CHECK(axis_length > 0,
           "node {}: '{}' must be a scalar (per-tensor quantization), got shape {}",
           context.node.label(), name, shape_to_string(shape));
  EP_CHECK(shape.size() == 1 && shape[0] == axis_length,
           "node {}: per-axis '{}' has shape {} but the quantized axis has {} elements",
           context.node.label(), name, shape_to_string(shape), axis_length);
  return true;
}

void check_scale_values(const graph::Node& node, const char* name, std::span<const float> scales,
                        bool divides) {
  for (std::size_t i = 0; i < scales.size(); ++i) {
    const float scale = scales[i];
    EP_CHECK(std::isfinite(scale), "node {}: '{}'[{}] is {}; a scale must be finite", node.label(),
             name, i, scale);
    EP_CHECK(!divides || scale != 0.0f,
             "node {}: '{}'[{}] is 0; the op divides by this scale, it must be non-zero",
             node.label(), name, i);
  }
}

void check_scale_input(const PrepareContext& context, std::size_t index, const char* name,
                       bool divides) {
  check_dtype(context, index, {DType::f32}, name);
  if (const Tensor* constant = context.constant(index); constant != nullptr) {
    check_scale_values(context.node, name, constant->values<float>(), divides);
  }
}

void check_zero_point_dtype(const PrepareContext& context, std::size_t index, const char* name,
                            DType expected, const char* owner) {
  if (!context.has_input(index)) return;
  const DType actual = context.inputs[index].dtype;
  EP_CHECK(actual == expected, "node {}: zero point '{}' is {} but '{}' is {}; they must match",
           context.node.label(), name, dtype_name(actual), owner, dtype_name(expected));
}

void check_same_param_count(const PrepareContext& context, std::size_t scale,
                            std::size_t zero_point) {
  if (!context.has_input(zero_point)) return;
  const Shape& s = context.inputs[scale].shape;
  const Shape& z = context.inputs[zero_point].shape;
  EP_CHECK(element_count(s) == element_count(z),
           "node {}: scale {} and zero point {} must have the same number of elements",
           context.node.label(), shape_to_string(s), shape_to_string(z));
}

std::int32_t zero_point_at(const Tensor& zero_points, std::int64_t index) {
  if (zero_points.numel() == 0) return 0;
  const std::int64_t at = zero_points.numel() == 1 ? 0 : index;
  switch (zero_points.dtype()) {
    case DType::u8:
      return zero_points.data<std::uint8_t>()[at];
    case DType::i8:
      return zero_points.data<std::int8_t>()[at];
    case DType::i32:
      return zero_points.data<std::int32_t>()[at];
    default:
      fail("zero point of dtype {} is not supported", dtype_name(zero_points.dtype()));
  }
}

std::unique_ptr<Kernel> make_workspace_kernel(ParallelRunFn run, std::size_t workspace_bytes) {
  return std::make_unique<WorkspaceKernel>(std::move(run), workspace_bytes);
}

}  // namespace edgeperf::runtime::reference
