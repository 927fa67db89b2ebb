// Constant, ConstantOfShape and Range: outputs that follow from attributes and constants.
#include <cmath>
#include <cstring>

#include "edgeperf/graph/ops/constant.h"
#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

std::unique_ptr<Kernel> constant_kernel(Tensor value) {
  return make_kernel([value](std::span<const Tensor>, std::span<Tensor> out) {
    if (value.nbytes() > 0) std::memcpy(out[0].raw(), value.raw(), value.nbytes());
  });
}

Tensor fill_value(const graph::Node& node) {
  if (!node.has_attr("value")) return make_tensor<float>({1}, {0.0f});
  const Tensor& value = node.attr_tensor("value");
  EP_CHECK(value.numel() == 1, "node {}: attribute 'value' must hold one element, has {}",
           node.label(), value.numel());
  return value;
}

Shape constant_of_shape_dims(const PrepareContext& context) {
  check_input_count(context, 1, 1);
  const std::vector<std::int64_t> dims = constant_ints(context, 0, "input");
  for (std::int64_t dim : dims) {
    EP_CHECK(dim >= 0, "node {}: shape {} has a negative dim", context.node.label(),
             shape_to_string(dims));
  }
  return dims;
}

template <typename T>
Tensor range_values(const PrepareContext& context) {
  const T start = *require_constant(context, 0, "start").data<T>();
  const T limit = *require_constant(context, 1, "limit").data<T>();
  const T delta = *require_constant(context, 2, "delta").data<T>();
  EP_CHECK(delta != T(0), "node {}: delta is 0", context.node.label());
  const double steps = std::ceil((static_cast<double>(limit) - static_cast<double>(start)) /
                                 static_cast<double>(delta));
  EP_CHECK(steps == steps && steps < static_cast<double>(kMaxTensorElements),
           "node {}: range has too many or undefined elements", context.node.label());
  const auto count = static_cast<std::int64_t>(std::max(0.0, steps));
  Tensor out(dtype_of<T>(), {count});
  for (std::int64_t i = 0; i < count; ++i) {
    out.data<T>()[i] = static_cast<T>(start + static_cast<T>(i) * delta);
  }
  return out;
}

Tensor range_tensor(const PrepareContext& context) {
  check_input_count(context, 3, 3);
  check_dtype(context, 0, {DType::f32, DType::i32, DType::i64}, "start");
  check_same_dtype(context, 0, 1);
  check_same_dtype(context, 0, 2);
  for (std::size_t i = 0; i < 3; ++i) {
    EP_CHECK(context.inputs[i].numel() == 1, "node {}: input {} must be a scalar",
             context.node.label(), i);
  }
  switch (context.inputs[0].dtype) {
    case DType::f32:
      return range_values<float>(context);
    case DType::i32:
      return range_values<std::int32_t>(context);
    default:
      return range_values<std::int64_t>(context);
  }
}

}  // namespace

void infer_constant(PrepareContext& context) {
  check_input_count(context, 0, 0);
  Tensor value = graph::ops::constant_node_value(context.node);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, value.dtype(), value.shape());
  context.output_values[0] = std::move(value);
}

std::unique_ptr<Kernel> create_constant(const PrepareContext& context) {
  return constant_kernel(graph::ops::constant_node_value(context.node));
}

void infer_constant_of_shape(PrepareContext& context) {
  const Shape dims = constant_of_shape_dims(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, fill_value(context.node).dtype(), dims);
}

std::unique_ptr<Kernel> create_constant_of_shape(const PrepareContext& context) {
  constant_of_shape_dims(context);
  const Tensor value = fill_value(context.node).clone();
  return make_kernel([value](std::span<const Tensor>, std::span<Tensor> out) {
    const std::size_t size = value.nbytes();
    auto* target = static_cast<std::byte*>(out[0].raw());
    for (std::int64_t i = 0; i < out[0].numel(); ++i) {
      std::memcpy(target + static_cast<std::size_t>(i) * size, value.raw(), size);
    }
  });
}

void infer_range(PrepareContext& context) {
  Tensor value = range_tensor(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, value.dtype(), value.shape());
  context.output_values[0] = std::move(value);
}

std::unique_ptr<Kernel> create_range(const PrepareContext& context) {
  return constant_kernel(range_tensor(context));
}

}  // namespace edgeperf::runtime::reference
