// BatchNormalization in inference mode: y = (x - mean) / sqrt(var + epsilon) * scale + bias.
#include <cmath>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

void check_batch_normalization(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 5, 5);
  EP_CHECK(node.attr_int("training_mode", 0) == 0,
           "node {}: training_mode=1 is not supported (inference only)", node.label());
  const Shape& x = context.inputs[0].shape;
  EP_CHECK(x.size() >= 2, "node {}: input X {} must have rank >= 2", node.label(),
           shape_to_string(x));
  static constexpr const char* kNames[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (std::size_t i = 0; i < 5; ++i) {
    check_dtype(context, i, {DType::f32}, kNames[i]);
    if (i == 0) continue;
    EP_CHECK(context.inputs[i].shape == Shape{x[1]}, "node {}: input '{}' {} must have shape [{}]",
             node.label(), kNames[i], shape_to_string(context.inputs[i].shape), x[1]);
  }
}

}  // namespace

void infer_batch_normalization(PrepareContext& context) {
  check_batch_normalization(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::f32, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_batch_normalization(const PrepareContext& context) {
  check_batch_normalization(context);
  const Shape x = context.inputs[0].shape;
  const float epsilon = context.node.attr_float("epsilon", 1e-5f);
  const std::int64_t channels = x[1];
  const std::int64_t plane = product(x, 2, x.size());
  const std::int64_t batch = x[0];
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    const float* data = in[0].data<float>();
    const float* scale = in[1].data<float>();
    const float* bias = in[2].data<float>();
    const float* mean = in[3].data<float>();
    const float* var = in[4].data<float>();
    float* y = out[0].data<float>();
    for (std::int64_t n = 0; n < batch; ++n) {
      for (std::int64_t c = 0; c < channels; ++c) {
        const float multiplier = scale[c] / std::sqrt(var[c] + epsilon);
        const float shift = bias[c] - mean[c] * multiplier;
        const std::int64_t base = (n * channels + c) * plane;
        for (std::int64_t i = 0; i < plane; ++i) y[base + i] = data[base + i] * multiplier + shift;
      }
    }
  });
}

}  // namespace edgeperf::runtime::reference
