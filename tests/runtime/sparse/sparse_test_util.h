#pragma once
// Weights with a chosen fraction of nonzeros, for the sparse backend's tests.
#include <cstdint>
#include <vector>

#include "edgeperf/core/random.h"

namespace edgeperf::runtime::testing {

// Uniform values in [-1, 1) of which about `density` are kept (the rest set to 0);
// rows listed in `empty_rows` (of `row_size` values each) are all zeros.
inline Tensor sparse_weights(const Shape& shape, double density, std::uint64_t seed,
                             std::int64_t row_size = 0, std::vector<std::int64_t> empty_rows = {}) {
  Tensor weights = random_tensor(DType::f32, shape, seed);
  const Tensor keep = random_tensor(DType::f32, shape, seed + 1, 0.0, 1.0);
  float* values = weights.data<float>();
  for (std::int64_t i = 0; i < weights.numel(); ++i) {
    if (keep.data<float>()[i] >= density) values[i] = 0.0f;
  }
  for (std::int64_t row : empty_rows) {
    for (std::int64_t i = 0; i < row_size; ++i) values[row * row_size + i] = 0.0f;
  }
  return weights;
}

}  // namespace edgeperf::runtime::testing
