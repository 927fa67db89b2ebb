// Gemm: Y = alpha * A' * B' + beta * C, with A' / B' optionally transposed and C broadcast.
#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct GemmGeometry {
  std::int64_t m = 0, k = 0, n = 0;
  bool trans_a = false, trans_b = false;
  float alpha = 1.0f, beta = 1.0f;
  bool has_c = false;
  std::vector<std::int64_t> c_strides;  // broadcast strides of C over [M, N]
};

GemmGeometry gemm_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 2, 3);
  check_dtype(context, 0, {DType::f32}, "A");
  check_dtype(context, 1, {DType::f32}, "B");
  const Shape& a = context.inputs[0].shape;
  const Shape& b = context.inputs[1].shape;
  EP_CHECK(a.size() == 2 && b.size() == 2, "node {}: A {} and B {} must be 2-D", node.label(),
           shape_to_string(a), shape_to_string(b));
  GemmGeometry g;
  g.trans_a = node.attr_int("transA", 0) != 0;
  g.trans_b = node.attr_int("transB", 0) != 0;
  g.alpha = node.attr_float("alpha", 1.0f);
  g.beta = node.attr_float("beta", 1.0f);
  g.m = g.trans_a ? a[1] : a[0];
  g.k = g.trans_a ? a[0] : a[1];
  const std::int64_t kb = g.trans_b ? b[1] : b[0];
  g.n = g.trans_b ? b[0] : b[1];
  EP_CHECK(g.k == kb, "node {}: inner dimensions differ: A {} and B {} (transA={}, transB={})",
           node.label(), shape_to_string(a), shape_to_string(b), g.trans_a, g.trans_b);
  g.has_c = context.has_input(2);
  if (g.has_c) {
    check_dtype(context, 2, {DType::f32}, "C");
    const Shape& c = context.inputs[2].shape;
    const Shape out{g.m, g.n};
    EP_CHECK(c.size() <= 2 && broadcast_shapes(node, c, out) == out,
             "node {}: C {} does not broadcast to [{}, {}]", node.label(), shape_to_string(c), g.m,
             g.n);
    g.c_strides = broadcast_strides(c, out);
  }
  return g;
}

void run_gemm(const GemmGeometry& g, int threads, const float* a, const float* b, const float* c,
              float* y) {
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t i = 0; i < g.m; ++i) {
    float* row = y + i * g.n;
    for (std::int64_t j = 0; j < g.n; ++j) row[j] = 0.0f;
    for (std::int64_t p = 0; p < g.k; ++p) {
      const float a_ip = g.trans_a ? a[p * g.m + i] : a[i * g.k + p];
      if (g.trans_b) {
        for (std::int64_t j = 0; j < g.n; ++j) row[j] += a_ip * b[j * g.k + p];
      } else {
        const float* b_row = b + p * g.n;
        for (std::int64_t j = 0; j < g.n; ++j) row[j] += a_ip * b_row[j];
      }
    }
    for (std::int64_t j = 0; j < g.n; ++j) {
      row[j] *= g.alpha;
      if (c != nullptr) row[j] += g.beta * c[i * g.c_strides[0] + j * g.c_strides[1]];
    }
  }
}

}  // namespace

void infer_gemm(PrepareContext& context) {
  const GemmGeometry g = gemm_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::f32, {g.m, g.n});
}

std::unique_ptr<Kernel> create_gemm(const PrepareContext& context) {
  const GemmGeometry g = gemm_geometry(context);
  return make_parallel_kernel([g](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
    run_gemm(g, threads, in[0].data<float>(), in[1].data<float>(),
             g.has_c ? in[2].data<float>() : nullptr, out[0].data<float>());
  });
}

}  // namespace edgeperf::runtime::reference
