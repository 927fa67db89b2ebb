// GatherND (opsets 11, 12, 13): slices of `data` addressed by the last axis of `indices`,
// after `batch_dims` leading dims both share (12+). Any dtype; negative indices count
// from the end; an index out of range is a one-line error naming the node.
#include <cstring>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct GatherNdGeometry {
  Shape data, output;
  std::size_t batch_dims = 0, depth = 0;
  std::int64_t batches = 1, tuples = 1, slice = 1;  // per batch: `tuples` index tuples
};

GatherNdGeometry gather_nd_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 2, 2);
  check_dtype(context, 1, {DType::i64}, "indices");
  const Shape& data = context.inputs[0].shape;
  const Shape& indices = context.inputs[1].shape;
  EP_CHECK(!data.empty() && !indices.empty(), "node {}: data and indices need rank >= 1",
           node.label());
  const std::int64_t batch_dims = node.attr_int("batch_dims", 0);
  EP_CHECK(batch_dims >= 0 && batch_dims < static_cast<std::int64_t>(indices.size()) &&
               batch_dims < static_cast<std::int64_t>(data.size()),
           "node {}: batch_dims {} must be below the ranks of data and indices", node.label(),
           batch_dims);
  GatherNdGeometry g;
  g.data = data;
  g.batch_dims = static_cast<std::size_t>(batch_dims);
  for (std::size_t i = 0; i < g.batch_dims; ++i) {
    EP_CHECK(data[i] == indices[i], "node {}: batch dim {} is {} in data but {} in indices",
             node.label(), i, data[i], indices[i]);
  }
  const std::int64_t depth = indices.back();
  EP_CHECK(depth >= 1 && batch_dims + depth <= static_cast<std::int64_t>(data.size()),
           "node {}: the last dim of indices ({}) plus batch_dims ({}) exceeds the data rank {}",
           node.label(), depth, batch_dims, data.size());
  g.depth = static_cast<std::size_t>(depth);
  g.batches = product(data, 0, g.batch_dims);
  g.tuples = product(indices, g.batch_dims, indices.size() - 1);
  g.slice = product(data, g.batch_dims + g.depth, data.size());
  g.output.assign(indices.begin(), indices.end() - 1);
  g.output.insert(g.output.end(),
                  data.begin() + static_cast<std::ptrdiff_t>(g.batch_dims + g.depth), data.end());
  return g;
}

void run_gather_nd(const GatherNdGeometry& g, const Tensor& data, const std::int64_t* indices,
                   Tensor& output, const std::string& label) {
  const std::size_t element = dtype_size(data.dtype());
  const std::size_t slice_bytes = static_cast<std::size_t>(g.slice) * element;
  const std::int64_t batch_elements = product(g.data, g.batch_dims, g.data.size());
  const auto* source = static_cast<const std::byte*>(data.raw());
  auto* target = static_cast<std::byte*>(output.raw());
  for (std::int64_t b = 0; b < g.batches; ++b) {
    for (std::int64_t t = 0; t < g.tuples; ++t) {
      const std::int64_t* tuple = indices + (b * g.tuples + t) * static_cast<std::int64_t>(g.depth);
      std::int64_t offset = 0;
      for (std::size_t d = 0; d < g.depth; ++d) {
        const std::int64_t size = g.data[g.batch_dims + d];
        std::int64_t index = tuple[d];
        EP_CHECK(index >= -size && index < size,
                 "node {}: index {} is out of range for data axis {} of size {}", label, index,
                 g.batch_dims + d, size);
        if (index < 0) index += size;
        offset = offset * size + index;
      }
      const std::int64_t first = b * batch_elements + offset * g.slice;
      if (slice_bytes > 0) {
        std::memcpy(target, source + static_cast<std::size_t>(first) * element, slice_bytes);
      }
      target += slice_bytes;
    }
  }
}

}  // namespace

void infer_gather_nd(PrepareContext& context) {
  const GatherNdGeometry g = gather_nd_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, g.output);
}

std::unique_ptr<Kernel> create_gather_nd(const PrepareContext& context) {
  const GatherNdGeometry g = gather_nd_geometry(context);
  const std::string label = context.node.label();
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    run_gather_nd(g, in[0], in[1].data<std::int64_t>(), out[0], label);
  });
}

}  // namespace edgeperf::runtime::reference
