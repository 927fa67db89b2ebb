#include "matmul_geometry.h"

#include "util.h"

namespace edgeperf::runtime::reference {

std::vector<std::int64_t> batch_offsets(const Shape& operand_batch, const Shape& batch,
                                        std::int64_t matrix_size) {
  std::vector<std::int64_t> strides = broadcast_strides(operand_batch, batch);
  for (auto& stride : strides) stride *= matrix_size;
  std::vector<std::int64_t> offsets;
  offsets.reserve(static_cast<std::size_t>(product(batch, 0, batch.size())));
  Shape rows = batch;
  rows.push_back(1);  // for_each_row visits every index of all dims but the last
  strides.push_back(0);
  for_each_row(rows, {strides}, [&](const std::vector<std::int64_t>& offset, std::int64_t) {
    offsets.push_back(offset[0]);
  });
  return offsets;
}

MatMulGeometry resolve_matmul_geometry(const PrepareContext& context, std::size_t a_index,
                                       std::size_t b_index) {
  const graph::Node& node = context.node;
  Shape a = context.inputs[a_index].shape;
  Shape b = context.inputs[b_index].shape;
  EP_CHECK(!a.empty() && !b.empty(), "node {}: operands must have rank >= 1, got {} and {}",
           node.label(), shape_to_string(a), shape_to_string(b));
  const bool a_vector = a.size() == 1;
  const bool b_vector = b.size() == 1;
  if (a_vector) a.insert(a.begin(), 1);
  if (b_vector) b.push_back(1);
  MatMulGeometry g;
  g.m = a[a.size() - 2];
  g.k = a[a.size() - 1];
  g.n = b[b.size() - 1];
  EP_CHECK(b[b.size() - 2] == g.k, "node {}: inner dimensions differ: {} and {}", node.label(),
           shape_to_string(context.inputs[a_index].shape),
           shape_to_string(context.inputs[b_index].shape));
  const Shape a_batch(a.begin(), a.end() - 2);
  const Shape b_batch(b.begin(), b.end() - 2);
  g.batch = broadcast_shapes(node, a_batch, b_batch);
  g.a_batch = batch_offsets(a_batch, g.batch, g.m * g.k);
  g.b_batch = batch_offsets(b_batch, g.batch, g.k * g.n);
  g.output = g.batch;
  if (!a_vector) g.output.push_back(g.m);
  if (!b_vector) g.output.push_back(g.n);
  return g;
}

}  // namespace edgeperf::runtime::reference
