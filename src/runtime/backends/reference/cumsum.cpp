// CumSum (opsets 11, 14): running sums along one axis (a constant input), optionally
// exclusive (each element's sum leaves itself out) and reversed (from the end).
#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct CumSumGeometry {
  std::int64_t outer = 1, length = 1, inner = 1;
  bool exclusive = false, reverse = false;
};

CumSumGeometry cumsum_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 2, 2);
  check_dtype(context, 0, {DType::f32, DType::i32, DType::i64}, "x");
  const Shape& x = context.inputs[0].shape;
  const std::vector<std::int64_t> axis = constant_ints(context, 1, "axis");
  EP_CHECK(axis.size() == 1, "node {}: axis must hold one value, got {}", node.label(),
           axis.size());
  const auto rank = static_cast<std::int64_t>(x.size());
  EP_CHECK(rank >= 1, "node {}: x must have rank >= 1", node.label());
  const auto a = static_cast<std::size_t>(normalize_axis(node, axis[0], rank));
  CumSumGeometry g;
  g.outer = product(x, 0, a);
  g.length = x[a];
  g.inner = product(x, a + 1, x.size());
  g.exclusive = node.attr_int("exclusive", 0) != 0;
  g.reverse = node.attr_int("reverse", 0) != 0;
  return g;
}

template <typename T>
void run_cumsum(const CumSumGeometry& g, const T* x, T* y) {
  for (std::int64_t o = 0; o < g.outer; ++o) {
    for (std::int64_t i = 0; i < g.inner; ++i) {
      T sum = 0;
      for (std::int64_t k = 0; k < g.length; ++k) {
        const std::int64_t j = g.reverse ? g.length - 1 - k : k;
        const std::int64_t at = (o * g.length + j) * g.inner + i;
        if (g.exclusive) {
          y[at] = sum;
          sum = static_cast<T>(sum + x[at]);
        } else {
          sum = static_cast<T>(sum + x[at]);
          y[at] = sum;
        }
      }
    }
  }
}

}  // namespace

void infer_cumsum(PrepareContext& context) {
  cumsum_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_cumsum(const PrepareContext& context) {
  const CumSumGeometry g = cumsum_geometry(context);
  const graph::Node node = context.node;
  const DType dtype = context.inputs[0].dtype;
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    dispatch_numeric(node, dtype, [&](auto tag) {
      using T = decltype(tag);
      run_cumsum<T>(g, in[0].data<T>(), out[0].data<T>());
    });
  });
}

}  // namespace edgeperf::runtime::reference
