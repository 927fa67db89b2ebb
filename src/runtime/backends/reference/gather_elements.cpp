// GatherElements (opsets 11, 13): output[i...] = data[i... with axis index replaced by
// indices[i...]]; the output has the indices' shape. Any dtype; i32/i64 indices,
// negative ones count from the end; an index out of range is a one-line error.
#include <cstring>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct ElementsGeometry {
  std::size_t axis = 0;
  Shape data, indices;
};

ElementsGeometry elements_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 2, 2);
  check_dtype(context, 1, {DType::i32, DType::i64}, "indices");
  ElementsGeometry g;
  g.data = context.inputs[0].shape;
  g.indices = context.inputs[1].shape;
  EP_CHECK(!g.data.empty() && g.data.size() == g.indices.size(),
           "node {}: data {} and indices {} need the same rank >= 1", node.label(),
           shape_to_string(g.data), shape_to_string(g.indices));
  g.axis = static_cast<std::size_t>(
      normalize_axis(node, node.attr_int("axis", 0), static_cast<std::int64_t>(g.data.size())));
  for (std::size_t d = 0; d < g.data.size(); ++d) {
    EP_CHECK(d == g.axis || g.indices[d] <= g.data[d],
             "node {}: indices dim {} ({}) exceeds data's ({})", node.label(), d, g.indices[d],
             g.data[d]);
  }
  return g;
}

void run_gather_elements(const ElementsGeometry& g, const Tensor& data,
                         const std::vector<std::int64_t>& indices, Tensor& output,
                         const std::string& label) {
  const std::size_t element = dtype_size(data.dtype());
  const std::vector<std::int64_t> data_strides = contiguous_strides(g.data);
  const std::size_t rank = g.indices.size();
  const std::int64_t length = g.data[g.axis];
  std::vector<std::int64_t> position(rank, 0);
  const auto* source = static_cast<const std::byte*>(data.raw());
  auto* target = static_cast<std::byte*>(output.raw());
  for (std::size_t flat = 0; flat < indices.size(); ++flat) {
    std::int64_t index = indices[flat];
    EP_CHECK(index >= -length && index < length,
             "node {}: index {} is out of range for axis {} of size {}", label, index, g.axis,
             length);
    if (index < 0) index += length;
    std::int64_t offset = 0;
    for (std::size_t d = 0; d < rank; ++d) {
      offset += (d == g.axis ? index : position[d]) * data_strides[d];
    }
    std::memcpy(target + flat * element, source + static_cast<std::size_t>(offset) * element,
                element);
    for (std::size_t d = rank; d-- > 0;) {
      if (++position[d] < g.indices[d]) break;
      position[d] = 0;
    }
  }
}

}  // namespace

void infer_gather_elements(PrepareContext& context) {
  const ElementsGeometry g = elements_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, g.indices);
}

std::unique_ptr<Kernel> create_gather_elements(const PrepareContext& context) {
  const ElementsGeometry g = elements_geometry(context);
  const std::string label = context.node.label();
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    run_gather_elements(g, in[0], in[1].to_int64s(), out[0], label);
  });
}

}  // namespace edgeperf::runtime::reference
