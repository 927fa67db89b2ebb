// Softmax and LogSoftmax. Opset < 13 coerces the input to 2-D at `axis` (default 1);
// opset 13+ normalizes along the single `axis` (default -1).
#include <cmath>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct SoftmaxGeometry {
  std::int64_t outer = 1, length = 1, inner = 1;
  bool log = false;
};

SoftmaxGeometry softmax_geometry(const PrepareContext& context) {
  check_input_count(context, 1, 1);
  check_dtype(context, 0, {DType::f32}, "input");
  const Shape& shape = context.inputs[0].shape;
  const auto rank = static_cast<std::int64_t>(shape.size());
  const bool coerce = context.opset < 13;
  SoftmaxGeometry g;
  g.log = context.node.op_type == "LogSoftmax";
  if (rank == 0) return g;
  const std::int64_t axis =
      normalize_axis(context.node, context.node.attr_int("axis", coerce ? 1 : -1), rank);
  const auto a = static_cast<std::size_t>(axis);
  g.outer = product(shape, 0, a);
  if (coerce) {
    g.length = product(shape, a, shape.size());
  } else {
    g.length = shape[a];
    g.inner = product(shape, a + 1, shape.size());
  }
  return g;
}

void run_softmax(const SoftmaxGeometry& g, const float* x, float* y) {
  for (std::int64_t o = 0; o < g.outer; ++o) {
    for (std::int64_t i = 0; i < g.inner; ++i) {
      const std::int64_t base = o * g.length * g.inner + i;
      float max = -INFINITY;
      for (std::int64_t k = 0; k < g.length; ++k) max = std::fmax(max, x[base + k * g.inner]);
      double sum = 0.0;
      for (std::int64_t k = 0; k < g.length; ++k) {
        sum += std::exp(static_cast<double>(x[base + k * g.inner]) - max);
      }
      for (std::int64_t k = 0; k < g.length; ++k) {
        const double shifted = static_cast<double>(x[base + k * g.inner]) - max;
        y[base + k * g.inner] =
            static_cast<float>(g.log ? shifted - std::log(sum) : std::exp(shifted) / sum);
      }
    }
  }
}

}  // namespace

void infer_softmax(PrepareContext& context) {
  softmax_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::f32, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_softmax(const PrepareContext& context) {
  const SoftmaxGeometry g = softmax_geometry(context);
  return make_kernel([g](std::span<const Tensor> in, std::span<Tensor> out) {
    run_softmax(g, in[0].data<float>(), out[0].data<float>());
  });
}

}  // namespace edgeperf::runtime::reference
