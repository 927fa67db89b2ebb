#pragma once
// A level (a value over its scale) as QuantizeLinear stores it: rounded half to even,
// plus the zero point, saturated to T; NaN becomes the zero point. The scalar oracles of
// our int8 kernels (channel_shuffle.cpp, squeeze_excite.cpp) share it.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace edgeperf::runtime::onednn {

template <typename T>
T quantize_level(float level, std::int32_t zero) {
  if (std::isnan(level)) return static_cast<T>(zero);
  const float rounded = std::nearbyint(level) + static_cast<float>(zero);
  const float low = std::numeric_limits<T>::min(), high = std::numeric_limits<T>::max();
  return static_cast<T>(std::clamp(rounded, low, high));
}

}  // namespace edgeperf::runtime::onednn
