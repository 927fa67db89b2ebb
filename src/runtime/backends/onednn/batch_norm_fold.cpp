#include "batch_norm_fold.h"

#include "edgeperf/graph/ops/batch_norm.h"

namespace edgeperf::runtime::onednn {

std::vector<float> to_vector(const Tensor* tensor) {
  if (tensor == nullptr) return {};
  auto values = tensor->values<float>();
  return {values.begin(), values.end()};
}

PackedWeights fold_batch_norm(PackedWeights packed, std::int64_t out_channels,
                              const BatchNormSpec& bn) {
  if (packed.bias.empty()) packed.bias.assign(static_cast<std::size_t>(out_channels), 0.0f);
  graph::ops::BatchNormParams::from_tensors(*bn.scale, *bn.shift, *bn.mean, *bn.variance,
                                            bn.epsilon)
      .fold_into(packed.weights, packed.bias);
  return packed;
}

}  // namespace edgeperf::runtime::onednn
