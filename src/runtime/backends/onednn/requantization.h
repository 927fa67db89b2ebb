#pragma once
// The arithmetic of int8 ops whose result is requantized in the primitive.
#include <cstdint>
#include <vector>

#include "int8_patterns.h"

namespace edgeperf::runtime::onednn {

// Output scales s_in * s_w[c] / s_out and the f32 bias in accumulator units, with the
// input zero point folded in (sum_k z_in * w[c, k]) when `fold_zero_point`.
struct Requantization {
  std::vector<float> scales;
  std::vector<float> bias;
};

Requantization requantization(const ActivationQuant& input, const QuantizedWeights& weights,
                              const std::vector<std::int8_t>& weights_by_channel,
                              const Tensor* bias, std::int64_t channels, float dst_scale,
                              bool fold_zero_point);

}  // namespace edgeperf::runtime::onednn
