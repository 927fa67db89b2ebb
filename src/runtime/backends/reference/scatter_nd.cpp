// ScatterND (opsets 11, 13, 16, 18): a copy of `data` with the slices addressed by the
// last axis of `indices` replaced by `updates`, or combined with them (reduction add,
// mul from 16; max, min from 18). Negative indices count from the end; an index out of
// range is a one-line error at run time.
#include <algorithm>
#include <cstring>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

enum class Reduction { none, add, mul, max, min };

Reduction parse_reduction(const graph::Node& node) {
  const std::string name = node.attr_string("reduction", "none");
  if (name == "none") return Reduction::none;
  if (name == "add") return Reduction::add;
  if (name == "mul") return Reduction::mul;
  if (name == "max") return Reduction::max;
  if (name == "min") return Reduction::min;
  fail("node {}: reduction '{}' is not none, add, mul, max or min", node.label(), name);
}

// The geometry: `count` index tuples of `depth` coordinates, each addressing a slice of
// `slice` elements of data.
struct ScatterGeometry {
  Shape data;
  std::int64_t depth = 0, count = 0, slice = 0;
};

ScatterGeometry scatter_geometry(const PrepareContext& context) {
  check_input_count(context, 3, 3);
  check_dtype(context, 1, {DType::i64}, "indices");
  check_same_dtype(context, 0, 2);
  const Shape& data = context.inputs[0].shape;
  const Shape& indices = context.inputs[1].shape;
  const Shape& updates = context.inputs[2].shape;
  const std::string label = context.node.label();
  EP_CHECK(!data.empty() && !indices.empty(), "node {}: data and indices need rank >= 1", label);
  ScatterGeometry g;
  g.data = data;
  g.depth = indices.back();
  EP_CHECK(g.depth >= 1 && g.depth <= static_cast<std::int64_t>(data.size()),
           "node {}: the last dim of indices ({}) must be in [1, data rank {}]", label, g.depth,
           data.size());
  Shape expected(indices.begin(), indices.end() - 1);
  expected.insert(expected.end(), data.begin() + g.depth, data.end());
  EP_CHECK(updates == expected, "node {}: updates have shape {}, expected {}", label,
           shape_to_string(updates), shape_to_string(expected));
  g.count = product(indices, 0, indices.size() - 1);
  g.slice = product(data, static_cast<std::size_t>(g.depth), data.size());
  if (parse_reduction(context.node) != Reduction::none) {
    check_dtype(context, 0, {DType::f32, DType::i32, DType::i64}, "data");
  }
  return g;
}

// Offset (in elements) of tuple `t`'s slice in data.
std::int64_t slice_offset(const ScatterGeometry& g, const std::int64_t* tuple,
                          const std::string& label) {
  std::int64_t offset = 0;
  for (std::int64_t d = 0; d < g.depth; ++d) {
    const std::int64_t size = g.data[static_cast<std::size_t>(d)];
    std::int64_t index = tuple[d];
    EP_CHECK(index >= -size && index < size,
             "node {}: index {} is out of range for axis {} of size {}", label, index, d, size);
    if (index < 0) index += size;
    offset = offset * size + index;
  }
  return offset * g.slice;
}

template <typename T>
void combine(Reduction reduction, T* target, const T* update, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    switch (reduction) {
      case Reduction::add:
        target[i] = static_cast<T>(target[i] + update[i]);
        break;
      case Reduction::mul:
        target[i] = static_cast<T>(target[i] * update[i]);
        break;
      case Reduction::max:
        target[i] = std::max(target[i], update[i]);
        break;
      case Reduction::min:
        target[i] = std::min(target[i], update[i]);
        break;
      case Reduction::none:
        target[i] = update[i];
        break;
    }
  }
}

}  // namespace

void infer_scatter_nd(PrepareContext& context) {
  scatter_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_scatter_nd(const PrepareContext& context) {
  const ScatterGeometry g = scatter_geometry(context);
  const Reduction reduction = parse_reduction(context.node);
  const DType dtype = context.inputs[0].dtype;
  const std::size_t element = dtype_size(dtype);
  const std::string label = context.node.label();
  const graph::Node node = context.node;
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    if (in[0].nbytes() > 0) std::memcpy(out[0].raw(), in[0].raw(), in[0].nbytes());
    const std::int64_t* tuples = in[1].data<std::int64_t>();
    auto* target = static_cast<std::byte*>(out[0].raw());
    const auto* updates = static_cast<const std::byte*>(in[2].raw());
    const std::size_t slice_bytes = static_cast<std::size_t>(g.slice) * element;
    for (std::int64_t t = 0; t < g.count; ++t) {
      const std::int64_t offset = slice_offset(g, tuples + t * g.depth, label);
      std::byte* slice = target + static_cast<std::size_t>(offset) * element;
      const std::byte* update = updates + static_cast<std::size_t>(t) * slice_bytes;
      if (reduction == Reduction::none) {
        if (slice_bytes > 0) std::memcpy(slice, update, slice_bytes);
        continue;
      }
      dispatch_numeric(node, dtype, [&](auto tag) {
        using T = decltype(tag);
        combine(reduction, reinterpret_cast<T*>(slice), reinterpret_cast<const T*>(update),
                g.slice);
      });
    }
  });
}

}  // namespace edgeperf::runtime::reference
