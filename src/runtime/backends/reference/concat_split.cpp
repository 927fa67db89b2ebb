// Concat and Split along one axis (any dtype).
#include <cstring>
#include <numeric>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

std::int64_t concat_axis(const PrepareContext& context) {
  EP_CHECK(context.node.has_attr("axis"), "node {}: missing attribute 'axis'",
           context.node.label());
  return normalize_axis(context.node, context.node.attr_int("axis"),
                        static_cast<std::int64_t>(context.inputs[0].shape.size()));
}

// Split sizes from the `split` input (opset 13+) or attribute, or num_outputs / equal parts.
std::vector<std::int64_t> split_sizes(const PrepareContext& context, std::int64_t length) {
  const graph::Node& node = context.node;
  bool given = false;
  std::vector<std::int64_t> sizes = ints_from_input_or_attr(context, 1, "split", &given);
  const auto parts = static_cast<std::int64_t>(node.outputs.size());
  if (!sizes.empty()) {
    EP_CHECK(static_cast<std::int64_t>(sizes.size()) == parts,
             "node {}: split has {} sizes for {} outputs", node.label(), sizes.size(), parts);
    for (std::int64_t size : sizes) {
      EP_CHECK(size >= 0 && size <= length, "node {}: split size {} is invalid for length {}",
               node.label(), size, length);
    }
    EP_CHECK(std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0}) == length,
             "node {}: split sizes do not add up to the axis length {}", node.label(), length);
    return sizes;
  }
  EP_CHECK(parts >= 1, "node {}: Split needs at least one output", node.label());
  if (node.has_attr("num_outputs")) {
    // Opset 18: the last part may be smaller.
    const std::int64_t chunk = (length + parts - 1) / parts;
    for (std::int64_t i = 0; i < parts; ++i) {
      sizes.push_back(std::max<std::int64_t>(0, std::min(chunk, length - i * chunk)));
    }
    return sizes;
  }
  EP_CHECK(length % parts == 0, "node {}: axis length {} does not split into {} equal parts",
           node.label(), length, parts);
  return std::vector<std::int64_t>(static_cast<std::size_t>(parts), length / parts);
}

}  // namespace

void infer_concat(PrepareContext& context) {
  const graph::Node& node = context.node;
  EP_CHECK(!context.inputs.empty(), "node {}: needs at least one input", node.label());
  const std::int64_t axis = concat_axis(context);
  Shape output = context.inputs[0].shape;
  output[static_cast<std::size_t>(axis)] = 0;
  for (std::size_t i = 0; i < context.inputs.size(); ++i) {
    EP_CHECK(context.inputs[i].present, "node {}: input {} is missing", node.label(), i);
    check_same_dtype(context, 0, i);
    const Shape& shape = context.inputs[i].shape;
    EP_CHECK(shape.size() == output.size(), "node {}: input {} {} has a different rank",
             node.label(), i, shape_to_string(shape));
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (d == static_cast<std::size_t>(axis)) continue;
      EP_CHECK(shape[d] == output[d], "node {}: input {} {} does not match {} off the axis",
               node.label(), i, shape_to_string(shape), shape_to_string(context.inputs[0].shape));
    }
    output[static_cast<std::size_t>(axis)] += shape[static_cast<std::size_t>(axis)];
  }
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, output);
}

std::unique_ptr<Kernel> create_concat(const PrepareContext& context) {
  const auto axis = static_cast<std::size_t>(concat_axis(context));
  const Shape first = context.inputs[0].shape;
  const std::int64_t outer = product(first, 0, axis);
  const std::size_t element = dtype_size(context.inputs[0].dtype);
  std::vector<std::size_t> chunk_bytes;  // per input: bytes per outer index
  for (const TensorDesc& input : context.inputs) {
    chunk_bytes.push_back(static_cast<std::size_t>(product(input.shape, axis, input.shape.size())) *
                          element);
  }
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    auto* target = static_cast<std::byte*>(out[0].raw());
    for (std::int64_t o = 0; o < outer; ++o) {
      for (std::size_t i = 0; i < in.size(); ++i) {
        if (chunk_bytes[i] == 0) continue;
        std::memcpy(target, static_cast<const std::byte*>(in[i].raw()) + o * chunk_bytes[i],
                    chunk_bytes[i]);
        target += chunk_bytes[i];
      }
    }
  });
}

void infer_split(PrepareContext& context) {
  check_input_count(context, 1, 2);
  const Shape& input = context.inputs[0].shape;
  const std::int64_t axis = normalize_axis(context.node, context.node.attr_int("axis", 0),
                                           static_cast<std::int64_t>(input.size()));
  const auto sizes = split_sizes(context, input[static_cast<std::size_t>(axis)]);
  prepare_outputs(context, 1, sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    Shape shape = input;
    shape[static_cast<std::size_t>(axis)] = sizes[i];
    set_output(context, i, context.inputs[0].dtype, shape);
  }
}

std::unique_ptr<Kernel> create_split(const PrepareContext& context) {
  const Shape input = context.inputs[0].shape;
  const auto axis = static_cast<std::size_t>(normalize_axis(
      context.node, context.node.attr_int("axis", 0), static_cast<std::int64_t>(input.size())));
  const auto sizes = split_sizes(context, input[axis]);
  const std::int64_t outer = product(input, 0, axis);
  const std::size_t inner_bytes = static_cast<std::size_t>(product(input, axis + 1, input.size())) *
                                  dtype_size(context.inputs[0].dtype);
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    const auto* source = static_cast<const std::byte*>(in[0].raw());
    for (std::int64_t o = 0; o < outer; ++o) {
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        const std::size_t bytes = static_cast<std::size_t>(sizes[i]) * inner_bytes;
        if (bytes == 0) continue;
        std::memcpy(static_cast<std::byte*>(out[i].raw()) + o * bytes, source, bytes);
        source += bytes;
      }
    }
  });
}

}  // namespace edgeperf::runtime::reference
