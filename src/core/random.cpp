#include "edgeperf/core/random.h"

#include <cmath>

namespace edgeperf {
namespace {

// SplitMix64: tiny, fast and identical on every platform (std distributions are not).
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

}  // namespace

Tensor random_tensor(DType dtype, const Shape& shape, std::uint64_t seed, double low,
                     double high) {
  Tensor tensor(dtype, shape);
  SplitMix64 generator{seed};
  const auto count = static_cast<std::size_t>(tensor.numel());
  void* raw = tensor.raw();
  for (std::size_t i = 0; i < count; ++i) {
    const double value = low + (high - low) * generator.uniform();
    switch (dtype) {
      case DType::f32: static_cast<float*>(raw)[i] = static_cast<float>(value); break;
      case DType::f16: static_cast<std::uint16_t*>(raw)[i] = float_to_half(static_cast<float>(value)); break;
      case DType::i8: static_cast<std::int8_t*>(raw)[i] = static_cast<std::int8_t>(std::floor(value)); break;
      case DType::u8: static_cast<std::uint8_t*>(raw)[i] = static_cast<std::uint8_t>(std::floor(value)); break;
      case DType::i32: static_cast<std::int32_t*>(raw)[i] = static_cast<std::int32_t>(std::floor(value)); break;
      case DType::i64: static_cast<std::int64_t*>(raw)[i] = static_cast<std::int64_t>(std::floor(value)); break;
      case DType::boolean: static_cast<bool*>(raw)[i] = value >= (low + high) / 2; break;
    }
  }
  return tensor;
}

}  // namespace edgeperf
