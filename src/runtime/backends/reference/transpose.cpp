// Data movement through strided views: Transpose (permutation) and Expand (broadcast).
#include <algorithm>
#include <cstring>
#include <numeric>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

std::vector<std::int64_t> permutation(const PrepareContext& context) {
  const auto rank = static_cast<std::int64_t>(context.inputs[0].shape.size());
  std::vector<std::int64_t> identity(static_cast<std::size_t>(rank));
  std::iota(identity.rbegin(), identity.rend(), 0);  // default: reverse the dims
  std::vector<std::int64_t> perm = context.node.attr_ints("perm", identity);
  EP_CHECK(static_cast<std::int64_t>(perm.size()) == rank,
           "node {}: perm has {} entries for rank {}", context.node.label(), perm.size(), rank);
  std::vector<std::int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < rank; ++i) {
    EP_CHECK(sorted[static_cast<std::size_t>(i)] == i, "node {}: perm is not a permutation",
             context.node.label());
  }
  return perm;
}

Shape expanded_shape(const PrepareContext& context) {
  const std::vector<std::int64_t> target = constant_ints(context, 1, "shape");
  return broadcast_shapes(context.node, context.inputs[0].shape, target);
}

}  // namespace

void infer_transpose(PrepareContext& context) {
  check_input_count(context, 1, 1);
  const std::vector<std::int64_t> perm = permutation(context);
  const Shape& input = context.inputs[0].shape;
  Shape output;
  for (std::int64_t axis : perm) output.push_back(input[static_cast<std::size_t>(axis)]);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, output);
}

std::unique_ptr<Kernel> create_transpose(const PrepareContext& context) {
  const std::vector<std::int64_t> perm = permutation(context);
  const Shape input = context.inputs[0].shape;
  const std::vector<std::int64_t> dense = contiguous_strides(input);
  std::vector<std::int64_t> strides;
  Shape output;
  for (std::int64_t axis : perm) {
    strides.push_back(dense[static_cast<std::size_t>(axis)]);
    output.push_back(input[static_cast<std::size_t>(axis)]);
  }
  const std::size_t size = dtype_size(context.inputs[0].dtype);
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    copy_strided(static_cast<const std::byte*>(in[0].raw()), 0, strides, output, size,
                 static_cast<std::byte*>(out[0].raw()));
  });
}

void infer_expand(PrepareContext& context) {
  check_input_count(context, 2, 2);
  const Shape output = expanded_shape(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, output);
}

std::unique_ptr<Kernel> create_expand(const PrepareContext& context) {
  const Shape output = expanded_shape(context);
  const std::vector<std::int64_t> strides = broadcast_strides(context.inputs[0].shape, output);
  const std::size_t size = dtype_size(context.inputs[0].dtype);
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    copy_strided(static_cast<const std::byte*>(in[0].raw()), 0, strides, output, size,
                 static_cast<std::byte*>(out[0].raw()));
  });
}

// Tile: output index o on each axis reads input index o % size.
namespace {

Shape tiled_shape(const PrepareContext& context) {
  check_input_count(context, 2, 2);
  const Shape& input = context.inputs[0].shape;
  const std::vector<std::int64_t> repeats = constant_ints(context, 1, "repeats");
  EP_CHECK(repeats.size() == input.size(), "node {}: repeats has {} values for rank {}",
           context.node.label(), repeats.size(), input.size());
  Shape output;
  for (std::size_t i = 0; i < input.size(); ++i) {
    EP_CHECK(repeats[i] >= 0 && repeats[i] <= kMaxParameter, "node {}: repeat {} is invalid",
             context.node.label(), repeats[i]);
    output.push_back(input[i] * repeats[i]);
  }
  return output;
}

}  // namespace

void infer_tile(PrepareContext& context) {
  const Shape output = tiled_shape(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, output);
}

std::unique_ptr<Kernel> create_tile(const PrepareContext& context) {
  const Shape output = tiled_shape(context);
  const Shape input = context.inputs[0].shape;
  const std::size_t size = dtype_size(context.inputs[0].dtype);
  // Copy the input once into the leading block, then replicate blocks axis by axis,
  // innermost first, inside the output buffer.
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    if (out[0].numel() == 0) return;
    auto* base = static_cast<std::byte*>(out[0].raw());
    const std::size_t rank = input.size();
    // Scatter input rows to their place in the output (first repeat on every axis).
    const std::vector<std::int64_t> out_strides = contiguous_strides(output);
    const auto* source = static_cast<const std::byte*>(in[0].raw());
    if (rank == 0) {
      std::memcpy(base, source, size);
      return;
    }
    const std::vector<std::int64_t> in_strides = contiguous_strides(input);
    for_each_row(
        input, {in_strides, out_strides}, [&](const std::vector<std::int64_t>& o, std::int64_t n) {
          std::memcpy(base + o[1] * size, source + o[0] * size, static_cast<std::size_t>(n) * size);
        });
    // Replicate along each axis from the innermost: the block [input dims so far] repeats.
    for (std::size_t axis = rank; axis-- > 0;) {
      const std::int64_t block = input[axis] * out_strides[axis];  // elements per first copy
      const std::int64_t repeats = input[axis] == 0 ? 0 : output[axis] / input[axis];
      Shape outer_shape(output.begin(), output.begin() + static_cast<std::ptrdiff_t>(axis));
      for (std::size_t d = 0; d < axis; ++d) outer_shape[d] = input[d];
      const std::int64_t outer_count = element_count(outer_shape);
      std::vector<std::int64_t> index(axis, 0);
      for (std::int64_t k = 0; k < outer_count; ++k) {
        std::int64_t offset = 0;
        for (std::size_t d = 0; d < axis; ++d) offset += index[d] * out_strides[d];
        for (std::int64_t r = 1; r < repeats; ++r) {
          std::memcpy(base + (offset + r * block) * size, base + offset * size,
                      static_cast<std::size_t>(block) * size);
        }
        for (std::size_t d = axis; d-- > 0;) {
          if (++index[d] < input[d]) break;
          index[d] = 0;
        }
      }
    }
  });
}

}  // namespace edgeperf::runtime::reference
