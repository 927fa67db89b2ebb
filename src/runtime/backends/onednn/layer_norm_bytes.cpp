#include "layer_norm_bytes.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "edgeperf/core/isa_target.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include "byte_kernel_parts.h"
#include "vector_isa.h"

namespace edgeperf::runtime::onednn {
namespace {

// Per row: the mean of q, and the factor s / sqrt(var + eps) applied to q - mean.
struct RowScale {
  float mean_q = 0;
  float factor = 0;
};

// Exact integer sums; the variance of q is (n * squares - sum^2) / n^2, its numerator exact
// in 64 bits. The rest in float, as the reference's f32 LayerNormalization: per-row double
// division and square root took most of the time of ConvNeXt's 96-channel rows.
RowScale row_scale(const LayerNormBytesParams& p, std::int64_t n, std::int64_t sum,
                   std::int64_t squares) {
  const float count = static_cast<float>(n);
  const float mean_q = static_cast<float>(sum) / count;
  const float variance_q = static_cast<float>(n * squares - sum * sum) / (count * count);
  const float scale = p.in.scale;
  return {mean_q, scale / std::sqrt(scale * scale * variance_q + p.epsilon)};
}

using NormalizeRows = void (*)(const LayerNormBytesParams& p, const float* gamma_over_scale,
                               const float* beta_offset, const std::uint8_t* src, std::uint8_t* dst,
                               std::int64_t first_row, std::int64_t end_row);

namespace baseline {
#include "layer_norm_bytes_body.inc"
}  // namespace baseline

#if defined(__x86_64__)
EP_TARGET_BEGIN(EP_ISA_AVX2)
namespace avx2 {
#include "layer_norm_bytes_body.inc"
}  // namespace avx2
EP_TARGET_END

// GCC 12's AVX-512 intrinsics start from undefined vectors, which -Wmaybe-uninitialized
// reports when they are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
EP_TARGET_BEGIN(EP_ISA_AVX512 ",bmi2")
namespace avx512 {
#include "layer_norm_bytes_body.inc"

// Row sums of u8 q and q * q (in 32 bits: rows up to 32768 values).
void u8_sums(const std::uint8_t* q, std::int64_t n, std::int64_t& sum, std::int64_t& squares) {
  __m512i sums = _mm512_setzero_si512();
  __m512i products = _mm512_setzero_si512();
  for (std::int64_t i = 0; i < n; i += 32) {
    const std::int64_t left = n - i;
    const __mmask32 mask = left >= 32 ? ~0U : _bzhi_u32(~0U, static_cast<unsigned>(left));
    const __m512i wide = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, q + i));
    sums = _mm512_add_epi32(sums, _mm512_madd_epi16(wide, _mm512_set1_epi16(1)));
    products = _mm512_add_epi32(products, _mm512_madd_epi16(wide, wide));
  }
  sum = _mm512_reduce_add_epi32(sums);
  squares = static_cast<std::uint32_t>(_mm512_reduce_add_epi32(products));
}

void normalize_u8_rows(const LayerNormBytesParams& p, const float* gamma_over_scale,
                       const float* beta_offset, const std::uint8_t* src, std::uint8_t* dst,
                       std::int64_t first_row, std::int64_t end_row) {
  const std::int64_t n = p.size;
  const __m512i low = _mm512_set1_epi32(p.out.is_signed ? -128 : 0);
  const __m512i high = _mm512_set1_epi32(p.out.is_signed ? 127 : 255);
  // Rows in blocks: all sums first, then all scales, then every row's pass, so that no
  // row waits on its own reductions and square root.
  constexpr std::int64_t kBlock = 32;
  std::array<RowScale, kBlock> scales{};
  for (std::int64_t block = first_row; block < end_row; block += kBlock) {
    const std::int64_t count = std::min(kBlock, end_row - block);
    for (std::int64_t r = 0; r < count; ++r) {
      std::int64_t sum = 0, squares = 0;
      u8_sums(src + (block + r) * n, n, sum, squares);
      scales[static_cast<std::size_t>(r)] = row_scale(p, n, sum, squares);
    }
    for (std::int64_t r = 0; r < count; ++r) {
      const RowScale& scale = scales[static_cast<std::size_t>(r)];
      const std::uint8_t* q = src + (block + r) * n;
      std::uint8_t* out = dst + (block + r) * n;
      const __m512 mean = _mm512_set1_ps(scale.mean_q);
      const __m512 factor = _mm512_set1_ps(scale.factor);
      for (std::int64_t i = 0; i < n; i += 16) {
        const std::int64_t left = n - i;
        const __mmask16 mask = left >= 16 ? 0xFFFF : static_cast<__mmask16>((1U << left) - 1);
        const __m512 x =
            _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, q + i)));
        const __m512 y = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_sub_ps(x, mean), factor),
                                         _mm512_maskz_loadu_ps(mask, gamma_over_scale + i),
                                         _mm512_maskz_loadu_ps(mask, beta_offset + i));
        const __m512i level = _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(y), low), high);
        _mm_mask_storeu_epi8(out + i, mask, _mm512_cvtepi32_epi8(level));
      }
    }
  }
}
}  // namespace avx512
EP_TARGET_END
#pragma GCC diagnostic pop

#endif

constexpr std::int64_t kMaxU8Row = 32768;  // row sums of q * q fit 32 bits

NormalizeRows host_normalize_rows(const LayerNormBytesParams& p) {
#if defined(__x86_64__)
  if (host_vector_isa() == VectorIsa::avx512 && !p.in.is_signed && p.size <= kMaxU8Row) {
    return avx512::normalize_u8_rows;
  }
#endif
  switch (host_vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512:
      return avx512::normalize_rows;
    case VectorIsa::avx2:
      return avx2::normalize_rows;
#endif
    default:
      return baseline::normalize_rows;
  }
}

}  // namespace

void layer_norm_bytes_scalar(const LayerNormBytesParams& p, const std::uint8_t* src,
                             std::uint8_t* dst) {
  const auto value = [](std::uint8_t byte, bool is_signed) {
    return is_signed ? static_cast<double>(static_cast<std::int8_t>(byte))
                     : static_cast<double>(byte);
  };
  const double low = p.out.is_signed ? -128 : 0;
  const double high = p.out.is_signed ? 127 : 255;
  for (std::int64_t row = 0; row < p.rows; ++row) {
    const std::uint8_t* q = src + row * p.size;
    double mean = 0;
    for (std::int64_t i = 0; i < p.size; ++i) {
      mean += p.in.scale * (value(q[i], p.in.is_signed) - p.in.zero_point);
    }
    mean /= static_cast<double>(p.size);
    double variance = 0;
    for (std::int64_t i = 0; i < p.size; ++i) {
      const double d = p.in.scale * (value(q[i], p.in.is_signed) - p.in.zero_point) - mean;
      variance += d * d;
    }
    variance /= static_cast<double>(p.size);
    for (std::int64_t i = 0; i < p.size; ++i) {
      const double x = p.in.scale * (value(q[i], p.in.is_signed) - p.in.zero_point);
      const double y =
          (x - mean) / std::sqrt(variance + p.epsilon) * p.gamma[static_cast<std::size_t>(i)] +
          p.beta[static_cast<std::size_t>(i)];
      const double level =
          std::clamp(std::nearbyint(y / p.out.scale) + p.out.zero_point, low, high);
      dst[row * p.size + i] = static_cast<std::uint8_t>(static_cast<std::int32_t>(level));
    }
  }
}

LayerNormBytes::LayerNormBytes(LayerNormBytesParams params)
    : params_(std::move(params)), normalize_(host_normalize_rows(params_)) {
  for (std::size_t i = 0; i < params_.gamma.size(); ++i) {
    gamma_over_scale_.push_back(params_.gamma[i] / params_.out.scale);
    beta_offset_.push_back(params_.beta[i] / params_.out.scale +
                           static_cast<float>(params_.out.zero_point));
  }
}

void LayerNormBytes::run(const std::uint8_t* src, std::uint8_t* dst, int threads) const {
  run_in_parts(*this, src, dst, threads);
}

void LayerNormBytes::run_part(const std::uint8_t* src, std::uint8_t* dst, int part,
                              int parts) const {
  normalize_(params_, gamma_over_scale_.data(), beta_offset_.data(), src, dst,
             params_.rows * part / parts, params_.rows * (part + 1) / parts);
}

const char* LayerNormBytes::isa() const { return vector_isa_name(host_vector_isa()); }

}  // namespace edgeperf::runtime::onednn
