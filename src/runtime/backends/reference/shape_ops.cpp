// Ops that only change the shape (data is copied unchanged): Reshape Flatten Squeeze
// Unsqueeze Identity Dropout, plus Shape.
#include <algorithm>
#include <cstring>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

std::unique_ptr<Kernel> copy_kernel() {
  return make_kernel([](std::span<const Tensor> in, std::span<Tensor> out) {
    if (out[0].raw() != in[0].raw() && out[0].nbytes() > 0) {
      std::memcpy(out[0].raw(), in[0].raw(), out[0].nbytes());
    }
  });
}

Shape reshape_target(const PrepareContext& context) {
  const graph::Node& node = context.node;
  const Shape& input = context.inputs[0].shape;
  const std::vector<std::int64_t> requested = constant_ints(context, 1, "shape");
  EP_CHECK(context.constant(1)->rank() == 1, "node {}: input 'shape' must be 1-D", node.label());
  const bool allowzero = node.attr_int("allowzero", 0) != 0;
  Shape output(requested.size());
  std::int64_t inferred = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < requested.size(); ++i) {
    const std::int64_t dim = requested[i];
    if (dim == -1) {
      EP_CHECK(inferred < 0, "node {}: shape {} has more than one -1", node.label(),
               shape_to_string(requested));
      inferred = static_cast<std::int64_t>(i);
      continue;
    }
    EP_CHECK(dim >= 0 && dim <= kMaxParameter, "node {}: shape {} has invalid dim {}", node.label(),
             shape_to_string(requested), dim);
    if (dim == 0 && !allowzero) {
      EP_CHECK(i < input.size(), "node {}: shape {} copies dim {} absent from input {}",
               node.label(), shape_to_string(requested), i, shape_to_string(input));
      output[i] = input[i];
    } else {
      output[i] = dim;
    }
    known *= output[i];
    EP_CHECK(known <= kMaxParameter, "node {}: shape {} has too many elements", node.label(),
             shape_to_string(requested));
  }
  const std::int64_t total = element_count(input);
  if (inferred >= 0) {
    EP_CHECK(known != 0 && total % known == 0,
             "node {}: cannot reshape {} to {}: -1 cannot be inferred", node.label(),
             shape_to_string(input), shape_to_string(requested));
    output[static_cast<std::size_t>(inferred)] = total / known;
  }
  EP_CHECK(element_count(output) == total, "node {}: cannot reshape {} ({} elements) to {}",
           node.label(), shape_to_string(input), total, shape_to_string(output));
  return output;
}

Shape squeezed_shape(const PrepareContext& context) {
  const graph::Node& node = context.node;
  const Shape& input = context.inputs[0].shape;
  bool given = false;
  std::vector<std::int64_t> axes = ints_from_input_or_attr(context, 1, "axes", &given);
  axes = normalize_axes(node, axes, static_cast<std::int64_t>(input.size()));
  Shape output;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const bool listed =
        std::find(axes.begin(), axes.end(), static_cast<std::int64_t>(i)) != axes.end();
    if (listed) {
      EP_CHECK(input[i] == 1, "node {}: cannot squeeze axis {} of size {} in {}", node.label(), i,
               input[i], shape_to_string(input));
      continue;
    }
    if (axes.empty() && input[i] == 1) continue;
    output.push_back(input[i]);
  }
  return output;
}

Shape unsqueezed_shape(const PrepareContext& context) {
  const graph::Node& node = context.node;
  const Shape& input = context.inputs[0].shape;
  bool given = false;
  std::vector<std::int64_t> axes = ints_from_input_or_attr(context, 1, "axes", &given);
  EP_CHECK(!axes.empty(), "node {}: 'axes' must be given and non-empty", node.label());
  const auto rank = static_cast<std::int64_t>(input.size() + axes.size());
  axes = normalize_axes(node, axes, rank);
  Shape output(static_cast<std::size_t>(rank), 1);
  std::size_t next = 0;
  for (std::int64_t i = 0; i < rank; ++i) {
    if (std::find(axes.begin(), axes.end(), i) != axes.end()) continue;
    output[static_cast<std::size_t>(i)] = input[next++];
  }
  return output;
}

}  // namespace

void infer_reshape(PrepareContext& context) {
  check_input_count(context, 2, 2);
  const Shape output = reshape_target(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, output);
}
std::unique_ptr<Kernel> create_reshape(const PrepareContext&) { return copy_kernel(); }

void infer_flatten(PrepareContext& context) {
  check_input_count(context, 1, 1);
  const Shape& input = context.inputs[0].shape;
  const auto rank = static_cast<std::int64_t>(input.size());
  const std::int64_t axis = context.node.attr_int("axis", 1);
  EP_CHECK(axis >= -rank && axis <= rank, "node {}: axis {} is out of range for rank {}",
           context.node.label(), axis, rank);
  const auto split = static_cast<std::size_t>(axis < 0 ? axis + rank : axis);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype,
             {product(input, 0, split), product(input, split, input.size())});
}
std::unique_ptr<Kernel> create_flatten(const PrepareContext&) { return copy_kernel(); }

void infer_squeeze(PrepareContext& context) {
  check_input_count(context, 1, 2);
  const Shape output = squeezed_shape(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, output);
}
std::unique_ptr<Kernel> create_squeeze(const PrepareContext&) { return copy_kernel(); }

void infer_unsqueeze(PrepareContext& context) {
  check_input_count(context, 1, 2);
  const Shape output = unsqueezed_shape(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, output);
}
std::unique_ptr<Kernel> create_unsqueeze(const PrepareContext&) { return copy_kernel(); }

// Identity, and Dropout in inference mode (output copy, optional mask of all true).
void infer_identity(PrepareContext& context) {
  const bool dropout = context.node.op_type == "Dropout";
  check_input_count(context, 1, dropout ? 3 : 1);
  prepare_outputs(context, 1, dropout ? 2 : 1);
  set_output(context, 0, context.inputs[0].dtype, context.inputs[0].shape);
  if (context.outputs.size() > 1) set_output(context, 1, DType::boolean, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_identity(const PrepareContext&) {
  return make_kernel([](std::span<const Tensor> in, std::span<Tensor> out) {
    if (out[0].raw() != in[0].raw() && out[0].nbytes() > 0) {
      std::memcpy(out[0].raw(), in[0].raw(), out[0].nbytes());
    }
    if (out.size() > 1) std::fill_n(out[1].data<bool>(), out[1].numel(), true);
  });
}

// Shape (with opset 15 start/end): the value follows from the descriptor alone.
void infer_shape(PrepareContext& context) {
  check_input_count(context, 1, 1);
  const Shape& input = context.inputs[0].shape;
  const auto rank = static_cast<std::int64_t>(input.size());
  auto clamp_index = [rank](std::int64_t index) {
    if (index < 0) index += rank;
    return std::clamp<std::int64_t>(index, 0, rank);
  };
  const std::int64_t start = clamp_index(context.node.attr_int("start", 0));
  const std::int64_t end = clamp_index(context.node.attr_int("end", rank));
  std::vector<std::int64_t> dims;
  for (std::int64_t i = start; i < end; ++i) dims.push_back(input[static_cast<std::size_t>(i)]);
  prepare_outputs(context, 1, 1);
  const auto count = static_cast<std::int64_t>(dims.size());
  set_output(context, 0, DType::i64, {count});
  context.output_values[0] = make_tensor<std::int64_t>({count}, dims);
}

std::unique_ptr<Kernel> create_shape(const PrepareContext& context) {
  PrepareContext copy = context;
  infer_shape(copy);
  const Tensor value = *copy.output_values[0];
  return make_kernel([value](std::span<const Tensor>, std::span<Tensor> out) {
    if (value.nbytes() > 0) std::memcpy(out[0].raw(), value.raw(), value.nbytes());
  });
}

}  // namespace edgeperf::runtime::reference
