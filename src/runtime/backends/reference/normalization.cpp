// LayerNormalization (opset 17) and InstanceNormalization.
#include <cmath>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct NormGeometry {
  std::int64_t outer = 1;     // independent groups normalized separately
  std::int64_t size = 1;      // elements per group
  std::int64_t channels = 1;  // InstanceNormalization: scale index = group % channels
  bool instance = false;
  float epsilon = 1e-5f;
};

NormGeometry norm_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  NormGeometry g;
  g.instance = node.op_type == "InstanceNormalization";
  g.epsilon = node.attr_float("epsilon", 1e-5f);
  check_input_count(context, g.instance ? 3 : 2, 3);
  for (std::size_t i = 0; i < context.inputs.size(); ++i) {
    if (context.has_input(i)) check_dtype(context, i, {DType::f32}, i == 0 ? "X" : "scale/B");
  }
  EP_CHECK(node.outputs.size() == 1, "node {}: only the Y output is supported", node.label());
  const Shape& x = context.inputs[0].shape;
  const auto rank = static_cast<std::int64_t>(x.size());
  Shape param_shape;
  if (g.instance) {
    EP_CHECK(rank >= 3, "node {}: X {} must have rank >= 3", node.label(), shape_to_string(x));
    g.channels = x[1];
    g.outer = x[0] * x[1];
    g.size = product(x, 2, x.size());
    param_shape = {x[1]};
  } else {
    EP_CHECK(rank >= 1, "node {}: X must have rank >= 1", node.label());
    const auto axis =
        static_cast<std::size_t>(normalize_axis(node, node.attr_int("axis", -1), rank));
    g.outer = product(x, 0, axis);
    g.size = product(x, axis, x.size());
    param_shape.assign(x.begin() + static_cast<std::ptrdiff_t>(axis), x.end());
  }
  for (std::size_t i = 1; i < context.inputs.size(); ++i) {
    if (!context.has_input(i)) continue;
    const Shape& p = context.inputs[i].shape;
    const bool exact = p == param_shape;
    const bool broadcast = !g.instance && element_count(p) == g.size;
    EP_CHECK(exact || broadcast, "node {}: input {} {} must have shape {}", node.label(), i,
             shape_to_string(p), shape_to_string(param_shape));
  }
  return g;
}

void run_norm(const NormGeometry& g, const float* x, const float* scale, const float* bias,
              float* y) {
  for (std::int64_t o = 0; o < g.outer; ++o) {
    const float* in = x + o * g.size;
    float* out = y + o * g.size;
    double sum = 0.0;
    for (std::int64_t i = 0; i < g.size; ++i) sum += in[i];
    const double mean = sum / static_cast<double>(g.size);
    double squares = 0.0;
    for (std::int64_t i = 0; i < g.size; ++i) squares += (in[i] - mean) * (in[i] - mean);
    const double inv_std = 1.0 / std::sqrt(squares / static_cast<double>(g.size) + g.epsilon);
    for (std::int64_t i = 0; i < g.size; ++i) {
      const std::int64_t p = g.instance ? o % g.channels : i;
      const double normalized = (in[i] - mean) * inv_std;
      out[i] = static_cast<float>(normalized * scale[p] + (bias != nullptr ? bias[p] : 0.0f));
    }
  }
}

}  // namespace

void infer_normalization(PrepareContext& context) {
  norm_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::f32, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_normalization(const PrepareContext& context) {
  const NormGeometry g = norm_geometry(context);
  const bool has_bias = context.has_input(2);
  return make_kernel([g, has_bias](std::span<const Tensor> in, std::span<Tensor> out) {
    run_norm(g, in[0].data<float>(), in[1].data<float>(), has_bias ? in[2].data<float>() : nullptr,
             out[0].data<float>());
  });
}

}  // namespace edgeperf::runtime::reference
