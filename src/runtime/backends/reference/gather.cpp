// Gather along one axis (any dtype; i32/i64 indices, negative indices count from the end).
#include <cstring>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

std::int64_t gather_axis(const PrepareContext& context) {
  check_input_count(context, 2, 2);
  check_dtype(context, 1, {DType::i32, DType::i64}, "indices");
  const auto rank = static_cast<std::int64_t>(context.inputs[0].shape.size());
  EP_CHECK(rank >= 1, "node {}: data must have rank >= 1", context.node.label());
  return normalize_axis(context.node, context.node.attr_int("axis", 0), rank);
}

template <typename Index>
void gather_rows(const Tensor& data, std::span<const Index> indices, std::int64_t outer,
                 std::int64_t length, std::size_t chunk, const std::string& label, Tensor& output) {
  for (const Index index : indices) {
    EP_CHECK(index >= -length && index < length,
             "node {}: index {} is out of range for axis of size {}", label, index, length);
  }
  const auto* source = static_cast<const std::byte*>(data.raw());
  auto* target = static_cast<std::byte*>(output.raw());
  for (std::int64_t o = 0; o < outer; ++o) {
    for (const Index index : indices) {
      const std::int64_t row = index < 0 ? index + length : index;
      if (chunk > 0) std::memcpy(target, source + (o * length + row) * chunk, chunk);
      target += chunk;
    }
  }
}

}  // namespace

void infer_gather(PrepareContext& context) {
  const auto axis = static_cast<std::size_t>(gather_axis(context));
  const Shape& data = context.inputs[0].shape;
  const Shape& indices = context.inputs[1].shape;
  Shape output(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(axis));
  output.insert(output.end(), indices.begin(), indices.end());
  output.insert(output.end(), data.begin() + static_cast<std::ptrdiff_t>(axis) + 1, data.end());
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, output);
}

std::unique_ptr<Kernel> create_gather(const PrepareContext& context) {
  const auto axis = static_cast<std::size_t>(gather_axis(context));
  const Shape data = context.inputs[0].shape;
  const std::int64_t outer = product(data, 0, axis);
  const std::int64_t length = data[axis];
  const std::size_t chunk = static_cast<std::size_t>(product(data, axis + 1, data.size())) *
                            dtype_size(context.inputs[0].dtype);
  const std::string label = context.node.label();
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    if (in[1].dtype() == DType::i32) {
      gather_rows(in[0], in[1].values<std::int32_t>(), outer, length, chunk, label, out[0]);
    } else {
      gather_rows(in[0], in[1].values<std::int64_t>(), outer, length, chunk, label, out[0]);
    }
  });
}

}  // namespace edgeperf::runtime::reference
