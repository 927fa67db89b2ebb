#pragma once
// Gemm/MatMul weights for oneDNN's inner product, which wants them as [N, K] rows.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "int8_patterns.h"
#include "node_specs.h"

namespace edgeperf::runtime::onednn {

// A row-major [k, n] matrix as [n, k].
template <typename T>
std::vector<T> transposed_kn(std::span<const T> values, std::int64_t k, std::int64_t n) {
  std::vector<T> transposed(values.size());
  for (std::int64_t row = 0; row < k; ++row) {
    for (std::int64_t column = 0; column < n; ++column) {
      transposed[static_cast<std::size_t>(column * k + row)] =
          values[static_cast<std::size_t>(row * n + column)];
    }
  }
  return transposed;
}

std::vector<float> gemm_weights_nk(const GemmSpec& spec);
// The s8 weights match the Gemm's B and are quantized per tensor or along N.
bool int8_weights_fit(const GemmSpec& spec, const QuantizedWeights& weights);
// The s8 weights behind spec.weights as [N, K]; nullopt unless int8_weights_fit.
std::optional<std::vector<std::int8_t>> int8_weights_nk(const GemmSpec& spec,
                                                        const QuantizedWeights& weights);

}  // namespace edgeperf::runtime::onednn
