#include "requantization.h"

namespace edgeperf::runtime::onednn {

Requantization requantization(const ActivationQuant& input, const QuantizedWeights& weights,
                              const std::vector<std::int8_t>& weights_by_channel,
                              const Tensor* bias, std::int64_t channels, float dst_scale,
                              bool fold_zero_point) {
  Requantization result;
  const std::size_t per_channel = weights_by_channel.size() / static_cast<std::size_t>(channels);
  for (std::int64_t c = 0; c < channels; ++c) {
    const double accumulator_scale = static_cast<double>(input.scale) * weights.scale(c);
    result.scales.push_back(static_cast<float>(accumulator_scale / dst_scale));
    double value = 0.0;
    const auto at = static_cast<std::size_t>(c);
    if (bias != nullptr && bias->dtype() == DType::i32) {
      value = bias->values<std::int32_t>()[at];  // QLinearConv: already accumulator units
    } else if (bias != nullptr && accumulator_scale > 0.0) {
      value = bias->values<float>()[at] / accumulator_scale;
    }
    if (fold_zero_point) {
      std::int64_t sum = 0;
      for (std::size_t i = 0; i < per_channel; ++i) {
        sum += weights_by_channel[static_cast<std::size_t>(c) * per_channel + i];
      }
      value -= static_cast<double>(input.zero_point) * static_cast<double>(sum);
    }
    result.bias.push_back(static_cast<float>(value));
  }
  return result;
}

}  // namespace edgeperf::runtime::onednn
