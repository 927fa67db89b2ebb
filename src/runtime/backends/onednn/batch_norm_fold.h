#pragma once
// Folding an inference BatchNormalization into the weights of the op before it.
#include <cstdint>
#include <vector>

#include "node_specs.h"

namespace edgeperf::runtime::onednn {

struct PackedWeights {
  std::vector<float> weights;  // [out_channels, ...] row-major
  std::vector<float> bias;     // empty: no bias
};

std::vector<float> to_vector(const Tensor* tensor);  // empty for nullptr

// w' = w * s, b' = (b - mean) * s + shift with s = scale / sqrt(var + eps), per channel
// (graph::ops::BatchNormParams, the one BatchNorm fold of passes and backends).
PackedWeights fold_batch_norm(PackedWeights packed, std::int64_t out_channels,
                              const BatchNormSpec& batch_norm);

}  // namespace edgeperf::runtime::onednn
