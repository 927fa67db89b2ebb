#include "edgeperf/graph/ops/batch_norm.h"

#include <cmath>

#include "edgeperf/core/error.h"

namespace edgeperf::graph::ops {

BatchNormParams BatchNormParams::from_tensors(const Tensor& gamma, const Tensor& beta,
                                              const Tensor& mean, const Tensor& variance,
                                              float epsilon) {
  const std::int64_t channels = gamma.numel();
  for (const Tensor* tensor : {&gamma, &beta, &mean, &variance}) {
    EP_CHECK(tensor->dtype() == DType::f32 && tensor->numel() == channels,
             "BatchNormalization parameters must be f32 with {} values each, got {}{}", channels,
             dtype_name(tensor->dtype()), shape_to_string(tensor->shape()));
  }
  BatchNormParams params;
  for (std::int64_t c = 0; c < channels; ++c) {
    const double s = gamma.data<float>()[c] /
                     std::sqrt(static_cast<double>(variance.data<float>()[c]) + epsilon);
    params.scale.push_back(s);
    params.shift.push_back(beta.data<float>()[c] - mean.data<float>()[c] * s);
  }
  return params;
}

void BatchNormParams::fold_into(std::span<float> weights, std::span<float> bias,
                                ChannelLayout layout) const {
  const auto count = static_cast<std::size_t>(channels());
  EP_CHECK(bias.size() == count && count > 0 && weights.size() % count == 0,
           "BatchNormalization folding: {} weights and {} biases for {} channels", weights.size(),
           bias.size(), count);
  const std::size_t per_channel = weights.size() / count;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const std::size_t channel = layout == ChannelLayout::rows ? i / per_channel : i % count;
    weights[i] = static_cast<float>(weights[i] * scale[channel]);
  }
  for (std::size_t c = 0; c < count; ++c) {
    bias[c] = static_cast<float>(bias[c] * scale[c] + shift[c]);
  }
}

}  // namespace edgeperf::graph::ops
