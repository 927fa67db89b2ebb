// MatMul with numpy semantics: batch broadcasting and 1-D operands.
#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct MatMulGeometry {
  std::int64_t m = 0, k = 0, n = 0;
  Shape batch;                        // broadcast batch shape
  std::vector<std::int64_t> a_batch;  // per-batch-index element offsets of A
  std::vector<std::int64_t> b_batch;
  Shape output;
};

std::vector<std::int64_t> batch_offsets(const Shape& operand_batch, const Shape& batch,
                                        std::int64_t matrix_size) {
  std::vector<std::int64_t> strides = broadcast_strides(operand_batch, batch);
  for (auto& stride : strides) stride *= matrix_size;
  std::vector<std::int64_t> offsets;
  offsets.reserve(static_cast<std::size_t>(product(batch, 0, batch.size())));
  Shape rows = batch;
  rows.push_back(1);  // for_each_row walks all but the last dim
  strides.push_back(0);
  for_each_row(rows, {strides}, [&](const std::vector<std::int64_t>& offset, std::int64_t) {
    offsets.push_back(offset[0]);
  });
  return offsets;
}

MatMulGeometry matmul_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 2, 2);
  check_dtype(context, 0, {DType::f32}, "A");
  check_dtype(context, 1, {DType::f32}, "B");
  Shape a = context.inputs[0].shape;
  Shape b = context.inputs[1].shape;
  EP_CHECK(!a.empty() && !b.empty(), "node {}: MatMul operands must have rank >= 1, got {} and {}",
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
           shape_to_string(context.inputs[0].shape), shape_to_string(context.inputs[1].shape));
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

void run_matmul(const MatMulGeometry& g, int threads, const float* a, const float* b, float* y) {
  const std::int64_t batches = static_cast<std::int64_t>(g.a_batch.size());
  const std::int64_t rows = batches * g.m;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t batch = r / g.m;
    const std::int64_t i = r % g.m;
    const float* a_row = a + g.a_batch[static_cast<std::size_t>(batch)] + i * g.k;
    const float* b_matrix = b + g.b_batch[static_cast<std::size_t>(batch)];
    float* row = y + r * g.n;
    for (std::int64_t j = 0; j < g.n; ++j) row[j] = 0.0f;
    for (std::int64_t p = 0; p < g.k; ++p) {
      const float a_ip = a_row[p];
      const float* b_row = b_matrix + p * g.n;
      for (std::int64_t j = 0; j < g.n; ++j) row[j] += a_ip * b_row[j];
    }
  }
}

}  // namespace

void infer_matmul(PrepareContext& context) {
  const MatMulGeometry g = matmul_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::f32, g.output);
}

std::unique_ptr<Kernel> create_matmul(const PrepareContext& context) {
  const MatMulGeometry g = matmul_geometry(context);
  return make_parallel_kernel([g](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
    run_matmul(g, threads, in[0].data<float>(), in[1].data<float>(), out[0].data<float>());
  });
}

}  // namespace edgeperf::runtime::reference
