#pragma once
#include <cstdint>

#include "edgeperf/core/tensor.h"

namespace edgeperf {

// Deterministic data for seeded runs: the same seed gives the same bytes on every machine.
// Floats are uniform in [low, high); integers uniform in [low, high).
Tensor random_tensor(DType dtype, const Shape& shape, std::uint64_t seed, double low = -1.0,
                     double high = 1.0);

}  // namespace edgeperf
