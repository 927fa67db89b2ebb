#include "edgeperf/core/dtype.h"

#include <bit>
#include <cstring>
#include <string>

#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"

namespace edgeperf {

std::string bytes_text(std::size_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < (std::size_t{1} << 20)) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f16:
      return 2;
    case DType::i8:
      return 1;
    case DType::u8:
      return 1;
    case DType::i32:
      return 4;
    case DType::i64:
      return 8;
    case DType::boolean:
      return 1;
  }
  fail("invalid dtype {}", static_cast<int>(dtype));
}

namespace {

constexpr auto kDTypes = enum_names<DType>("dtype",
                                           {{DType::f32, "f32"},
                                            {DType::f16, "f16"},
                                            {DType::i8, "i8"},
                                            {DType::u8, "u8"},
                                            {DType::i32, "i32"},
                                            {DType::i64, "i64"},
                                            {DType::boolean, "bool"}},
                                           "invalid");

}  // namespace

std::string_view dtype_name(DType dtype) { return kDTypes.name(dtype); }

DType parse_dtype(std::string_view name) {
  if (const std::optional<DType> dtype = kDTypes.find(name)) return *dtype;
  fail("unknown dtype '{}'", name);
}

float half_to_float(float16_bits bits) {
  const std::uint32_t sign = (bits & 0x8000u) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  std::uint32_t mantissa = bits & 0x3ffu;
  std::uint32_t out;
  if (exponent == 0) {
    if (mantissa == 0) {
      out = sign;
    } else {  // subnormal: normalize
      int shift = 0;
      while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        ++shift;
      }
      mantissa &= 0x3ffu;
      out = sign | static_cast<std::uint32_t>(127 - 15 - shift + 1) << 23 | mantissa << 13;
    }
  } else if (exponent == 0x1f) {
    out = sign | 0x7f800000u | mantissa << 13;
  } else {
    out = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
  }
  return std::bit_cast<float>(out);
}

float16_bits float_to_half(float value) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000u;
  const std::uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<float16_bits>(sign | 0x7e00u);   // NaN
  if (abs >= 0x477ff000u) return static_cast<float16_bits>(sign | 0x7c00u);  // overflow -> inf
  if (abs < 0x38800000u) {  // subnormal or zero in half precision
    if (abs < 0x33000000u) return static_cast<float16_bits>(sign);  // below half of 2^-24
    // value = m * 2^(e - 150) with the implicit bit in m; in units of 2^-24 that is
    // m * 2^(e - 126), a right shift by 126 - e (14..24).
    const std::uint32_t exponent = abs >> 23;
    const std::uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - exponent;
    std::uint32_t half = mantissa >> shift;
    const std::uint32_t remainder = mantissa & ((1u << shift) - 1);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half & 1u))) ++half;
    return static_cast<float16_bits>(sign | half);
  }
  std::uint32_t half = ((abs - 0x38000000u) >> 13);
  const std::uint32_t remainder = abs & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u))) ++half;
  return static_cast<float16_bits>(sign | half);
}

}  // namespace edgeperf
