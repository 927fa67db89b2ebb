// MatMul with numpy semantics: batch broadcasting and 1-D operands.
#include "matmul_geometry.h"
#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

MatMulGeometry matmul_geometry(const PrepareContext& context) {
  check_input_count(context, 2, 2);
  check_dtype(context, 0, {DType::f32}, "A");
  check_dtype(context, 1, {DType::f32}, "B");
  return resolve_matmul_geometry(context, 0, 1);
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
