#include "max_pool_bytes.h"

#include <algorithm>
#include <array>

#include "byte_kernel_parts.h"
#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/isa_target.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgeperf::runtime::onednn {
namespace {

constexpr int kMaxKernelHeight = 64;

// The kernel taps [begin, end) of output position `out` that fall inside the image.
struct TapRange {
  std::int64_t first = 0;  // input position of tap 0
  std::int64_t begin = 0, end = 0;
};

TapRange tap_range(std::int64_t out, std::int64_t stride, std::int64_t pad, std::int64_t kernel,
                   std::int64_t size) {
  const std::int64_t first = out * stride - pad;
  return {first, std::max<std::int64_t>(0, -first), std::min(kernel, size - first)};
}

namespace generic {
template <bool Signed>
inline void pixel_max(const std::uint8_t* const* lines, int count, std::int64_t offset, int width,
                      std::int64_t channels, std::uint8_t* out) {
  using Byte = std::conditional_t<Signed, std::int8_t, std::uint8_t>;
  auto* acc = reinterpret_cast<Byte*>(out);
  std::copy(lines[0] + offset, lines[0] + offset + channels, out);
  for (int l = 0; l < count; ++l) {
    for (int w = l == 0 ? 1 : 0; w < width; ++w) {
      const auto* tap = reinterpret_cast<const Byte*>(lines[l] + offset + w * channels);
      for (std::int64_t c = 0; c < channels; ++c) acc[c] = std::max(acc[c], tap[c]);
    }
  }
}
#include "max_pool_bytes_body.inc"
}  // namespace generic

#if defined(__x86_64__)
EP_TARGET_BEGIN(EP_ISA_AVX512 ",bmi2")
namespace avx512 {
template <bool Signed>
inline void pixel_max(const std::uint8_t* const* lines, int count, std::int64_t offset, int width,
                      std::int64_t channels, std::uint8_t* out) {
  for (std::int64_t c = 0; c < channels; c += 64) {
    const std::int64_t left = channels - c;
    const __mmask64 mask = left >= 64 ? ~0ULL : _bzhi_u64(~0ULL, static_cast<unsigned>(left));
    __m512i acc = _mm512_maskz_loadu_epi8(mask, lines[0] + offset + c);
    for (int l = 0; l < count; ++l) {
      const std::uint8_t* tap = lines[l] + offset + c;
      for (int w = l == 0 ? 1 : 0; w < width; ++w) {
        const __m512i row = _mm512_maskz_loadu_epi8(mask, tap + w * channels);
        acc = Signed ? _mm512_max_epi8(acc, row) : _mm512_max_epu8(acc, row);
      }
    }
    _mm512_mask_storeu_epi8(out + c, mask, acc);
  }
}
#include "max_pool_bytes_body.inc"
}  // namespace avx512
EP_TARGET_END

EP_TARGET_BEGIN(EP_ISA_AVX2)
namespace avx2 {
template <bool Signed>
inline void pixel_max(const std::uint8_t* const* lines, int count, std::int64_t offset, int width,
                      std::int64_t channels, std::uint8_t* out) {
  std::int64_t c = 0;
  for (; c + 32 <= channels; c += 32) {
    __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lines[0] + offset + c));
    for (int l = 0; l < count; ++l) {
      const std::uint8_t* tap = lines[l] + offset + c;
      for (int w = l == 0 ? 1 : 0; w < width; ++w) {
        const __m256i row =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tap + w * channels));
        acc = Signed ? _mm256_max_epi8(acc, row) : _mm256_max_epu8(acc, row);
      }
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), acc);
  }
  using Byte = std::conditional_t<Signed, std::int8_t, std::uint8_t>;
  for (; c < channels; ++c) {
    Byte best = static_cast<Byte>(lines[0][offset + c]);
    for (int l = 0; l < count; ++l) {
      for (int w = 0; w < width; ++w) {
        best = std::max(best, static_cast<Byte>(lines[l][offset + w * channels + c]));
      }
    }
    out[c] = static_cast<std::uint8_t>(best);
  }
}
#include "max_pool_bytes_body.inc"
}  // namespace avx2
EP_TARGET_END
#endif

RowsFn pick_rows(bool is_signed, const char** isa) {
#if defined(__x86_64__)
  const CpuFeatures& cpu = CpuFeatures::host();
  if (cpu.avx512) {
    *isa = "avx512";
    return is_signed ? avx512::pool_rows<true> : avx512::pool_rows<false>;
  }
  if (cpu.avx2_fma) {
    *isa = "avx2";
    return is_signed ? avx2::pool_rows<true> : avx2::pool_rows<false>;
  }
#endif
  *isa = "generic";  // NEON on arm64, by the compiler
  return is_signed ? generic::pool_rows<true> : generic::pool_rows<false>;
}

}  // namespace

bool max_pool_bytes_supported(const MaxPoolBytesShape& s) {
  const bool positive = s.images > 0 && s.channels > 0 && s.in_height > 0 && s.in_width > 0 &&
                        s.out_height > 0 && s.out_width > 0 && s.kernel_height > 0 &&
                        s.kernel_width > 0 && s.stride_height > 0 && s.stride_width > 0;
  if (!positive || s.kernel_height > kMaxKernelHeight) return false;
  // Windows move forward, so the first and the last of each axis are the ones to check.
  const auto holds_pixels = [](std::int64_t out, std::int64_t stride, std::int64_t pad,
                               std::int64_t kernel, std::int64_t size) {
    const TapRange first = tap_range(0, stride, pad, kernel, size);
    const TapRange last = tap_range(out - 1, stride, pad, kernel, size);
    return first.begin < first.end && last.begin < last.end;
  };
  return holds_pixels(s.out_height, s.stride_height, s.pad_top, s.kernel_height, s.in_height) &&
         holds_pixels(s.out_width, s.stride_width, s.pad_left, s.kernel_width, s.in_width);
}

void max_pool_bytes_scalar(const MaxPoolBytesShape& s, bool is_signed, const std::uint8_t* src,
                           std::uint8_t* dst) {
  const auto value = [is_signed](std::uint8_t byte) {
    return is_signed ? static_cast<int>(static_cast<std::int8_t>(byte)) : static_cast<int>(byte);
  };
  for (std::int64_t n = 0; n < s.images; ++n) {
    for (std::int64_t oh = 0; oh < s.out_height; ++oh) {
      for (std::int64_t ow = 0; ow < s.out_width; ++ow) {
        for (std::int64_t c = 0; c < s.channels; ++c) {
          int best = 0;
          bool any = false;
          for (std::int64_t kh = 0; kh < s.kernel_height; ++kh) {
            for (std::int64_t kw = 0; kw < s.kernel_width; ++kw) {
              const std::int64_t ih = oh * s.stride_height - s.pad_top + kh;
              const std::int64_t iw = ow * s.stride_width - s.pad_left + kw;
              if (ih < 0 || ih >= s.in_height || iw < 0 || iw >= s.in_width) continue;
              const int v = value(src[((n * s.in_height + ih) * s.in_width + iw) * s.channels + c]);
              best = any ? std::max(best, v) : v;
              any = true;
            }
          }
          dst[((n * s.out_height + oh) * s.out_width + ow) * s.channels + c] =
              static_cast<std::uint8_t>(best);
        }
      }
    }
  }
}

MaxPoolBytes::MaxPoolBytes(const MaxPoolBytesShape& shape, bool is_signed,
                           std::optional<ByteTable> requantize)
    : shape_(shape), pool_rows_(pick_rows(is_signed, &isa_)), requantize_(requantize) {}

void MaxPoolBytes::run(const std::uint8_t* src, std::uint8_t* dst, int threads) const {
  run_in_parts(*this, src, dst, threads);
}

void MaxPoolBytes::run_part(const std::uint8_t* src, std::uint8_t* dst, int part, int parts) const {
  const std::int64_t rows = max_parts();
  const ByteTable* table = requantize_ ? &*requantize_ : nullptr;
  pool_rows_(shape_, src, dst, rows * part / parts, rows * (part + 1) / parts, table);
}

}  // namespace edgeperf::runtime::onednn
