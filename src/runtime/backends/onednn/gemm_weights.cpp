#include "gemm_weights.h"

namespace edgeperf::runtime::onednn {

std::vector<float> gemm_weights_nk(const GemmSpec& spec) {
  auto values = spec.weights->values<float>();
  if (spec.weights_transposed) return {values.begin(), values.end()};
  return transposed_kn<float>(values, spec.weights->dim(0), spec.weights->dim(1));
}

bool int8_weights_fit(const GemmSpec& spec, const QuantizedWeights& weights) {
  const std::int64_t n_axis = spec.weights_transposed ? 0 : 1;
  return weights.values->shape() == spec.weights->shape() &&
         (weights.scales.size() == 1 || weights.axis == n_axis);
}

std::optional<std::vector<std::int8_t>> int8_weights_nk(const GemmSpec& spec,
                                                        const QuantizedWeights& weights) {
  if (!int8_weights_fit(spec, weights)) return std::nullopt;
  auto values = weights.values->values<std::int8_t>();
  if (spec.weights_transposed) return std::vector<std::int8_t>(values.begin(), values.end());
  return transposed_kn<std::int8_t>(values, weights.values->dim(0), weights.values->dim(1));
}

}  // namespace edgeperf::runtime::onednn
