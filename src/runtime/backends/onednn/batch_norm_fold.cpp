#include "batch_norm_fold.h"

#include <cmath>

namespace edgeperf::runtime::onednn {

std::vector<float> to_vector(const Tensor* tensor) {
  if (tensor == nullptr) return {};
  auto values = tensor->values<float>();
  return {values.begin(), values.end()};
}

PackedWeights fold_batch_norm(PackedWeights packed, std::int64_t out_channels,
                              const BatchNormSpec& bn) {
  const auto channels = static_cast<std::size_t>(out_channels);
  if (packed.bias.empty()) packed.bias.assign(channels, 0.0f);
  const std::size_t per_channel = packed.weights.size() / channels;
  for (std::size_t channel = 0; channel < channels; ++channel) {
    const double scale = static_cast<double>(bn.scale->values<float>()[channel]) /
                         std::sqrt(static_cast<double>(bn.variance->values<float>()[channel]) +
                                   static_cast<double>(bn.epsilon));
    for (std::size_t i = 0; i < per_channel; ++i) {
      float& weight = packed.weights[channel * per_channel + i];
      weight = static_cast<float>(weight * scale);
    }
    packed.bias[channel] =
        static_cast<float>((packed.bias[channel] - bn.mean->values<float>()[channel]) * scale +
                           bn.shift->values<float>()[channel]);
  }
  return packed;
}

}  // namespace edgeperf::runtime::onednn
