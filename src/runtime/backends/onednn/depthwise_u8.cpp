#include "depthwise_u8.h"

#include <algorithm>
#include <cmath>

#include "byte_kernel_parts.h"
#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/isa_target.h"

// On x86 the kernel is compiled for AVX-512 VNNI whatever the build's baseline, and runs
// only where the CPU has it (available()). On arm64 it is NEON, and its SDOT version is
// compiled for ARMv8.2 dotprod and runs only where the CPU has it.
#if defined(__x86_64__)
#include <immintrin.h>
#define EP_DEPTHWISE_U8_VNNI 1
#elif defined(__aarch64__)
#include <arm_neon.h>

#include <cstring>
#define EP_DEPTHWISE_U8_NEON 1
#endif

namespace edgeperf::runtime::onednn {
namespace {

constexpr std::int64_t kBlock = 64;    // channels per block: one zmm of bytes
constexpr std::int64_t kQuarters = 4;  // accumulators per block, 16 channels each
constexpr std::int64_t kTaps = 3;

std::uint8_t round_to_u8(float value) {
  return static_cast<std::uint8_t>(std::clamp(std::nearbyint(value), 0.0f, 255.0f));
}

}  // namespace

bool DepthwiseConvU8::available() {
#if defined(EP_DEPTHWISE_U8_VNNI)
  return CpuFeatures::host().avx512_vnni;
#elif defined(EP_DEPTHWISE_U8_NEON)
  return CpuFeatures::host().neon;
#else
  return false;
#endif
}

bool depthwise_window_fits(const DepthwiseU8Shape& shape) {
  const std::int64_t k = shape.kernel;
  const bool strided = shape.stride == 1 || shape.stride == 2;
  const bool padded =
      shape.pad_top >= 0 && shape.pad_top < k && shape.pad_left >= 0 && shape.pad_left < k;
  return strided && padded && shape.channels > 0 && shape.images > 0 && shape.out_height > 0 &&
         shape.out_width > 0 &&
         (shape.out_height - 1) * shape.stride - shape.pad_top < shape.in_height &&
         (shape.out_width - 1) * shape.stride - shape.pad_left < shape.in_width;
}

void pack_vnni_requant(std::int64_t channels, const DepthwiseU8Requant& requant,
                       std::vector<float>& scale, std::vector<float>& offset) {
  const std::int64_t blocks = (channels + kBlock - 1) / kBlock;
  scale.assign(static_cast<std::size_t>(blocks * kQuarters * 16), 0.0f);
  offset.assign(scale.size(), 0.0f);
  for_each_vnni_lane(channels, [&](std::int64_t block, std::int64_t quarter, std::int64_t dword,
                                   std::int64_t channel) {
    const auto lane = static_cast<std::size_t>((block * kQuarters + quarter) * 16 + dword);
    scale[lane] = requant.scale[static_cast<std::size_t>(channel)];
    offset[lane] = requant.offset[static_cast<std::size_t>(channel)];
  });
}

bool DepthwiseConvU8::supports(const DepthwiseU8Shape& shape) {
  return available() && shape.kernel == kTaps && depthwise_window_fits(shape);
}

DepthwiseConvU8::DepthwiseConvU8(const DepthwiseU8Shape& shape,
                                 std::span<const std::int8_t> weights,
                                 const DepthwiseU8Requant& requant)
    : shape_(shape),
      input_zero_point_(requant.input_zero_point),
      min_(requant.min),
      max_(requant.max),
      blocks_((shape.channels + kBlock - 1) / kBlock) {
  const auto channels = static_cast<std::size_t>(shape.channels);
  EP_CHECK(supports(shape), "depthwise u8: unsupported shape");
  EP_CHECK(weights.size() == channels * kTaps * kTaps && requant.scale.size() == channels &&
               requant.offset.size() == channels,
           "depthwise u8: {} weights and {} scales for {} channels", weights.size(),
           requant.scale.size(), channels);
  // Padded to whole blocks so masked loads of the last block stay inside.
  pad_row_.assign(static_cast<std::size_t>(shape.in_width * shape.channels + kBlock),
                  requant.input_zero_point);
#ifdef EP_DEPTHWISE_U8_NEON
  pack_for_neon(weights, requant);
#else
  pack_for_vnni(weights, requant);
#endif
}

// Per block: [kw][quarter][64 bytes], each channel's column taps as [w0, w1, w2, 0], in the
// channel order of the AVX-512 byte unpacks (for_each_vnni_lane).
void DepthwiseConvU8::pack_for_vnni(std::span<const std::int8_t> weights,
                                    const DepthwiseU8Requant& requant) {
  pack_vnni_requant(shape_.channels, requant, scale_, offset_);
  weights_.assign(static_cast<std::size_t>(blocks_ * kTaps * kQuarters * kBlock), 0);
  for_each_vnni_lane(shape_.channels, [&](std::int64_t block, std::int64_t quarter,
                                          std::int64_t dword, std::int64_t channel) {
    const auto c = static_cast<std::size_t>(channel);
    for (std::int64_t kw = 0; kw < kTaps; ++kw) {
      const auto base = static_cast<std::size_t>(
          ((block * kTaps + kw) * kQuarters + quarter) * kBlock + dword * 4);
      for (std::int64_t kh = 0; kh < kTaps; ++kh) {
        weights_[base + static_cast<std::size_t>(kh)] =
            weights[c * kTaps * kTaps + static_cast<std::size_t>(kh * kTaps + kw)];
      }
    }
  });
}

std::size_t DepthwiseConvU8::packed_bytes() const {
  return weights_.size() + (scale_.size() + offset_.size()) * sizeof(float) +
         compensation_.size() * sizeof(std::int32_t);
}

std::size_t DepthwiseConvU8::workspace_bytes() const { return pad_row_.size(); }

void DepthwiseConvU8::run(const std::uint8_t* src, std::uint8_t* dst, int threads) const {
  run_in_parts(*this, src, dst, threads);
}

void DepthwiseConvU8::run_part(const std::uint8_t* src, std::uint8_t* dst, int part,
                               int parts) const {
  for_row_blocks_of_part(
      shape_, blocks_, src, dst, part, parts,
      [this](const std::uint8_t* image_src, std::uint8_t* image_dst, std::int64_t out_row,
             std::int64_t block) { run_row(image_src, image_dst, out_row, block); });
}

#ifdef EP_DEPTHWISE_U8_VNNI

EP_TARGET_BEGIN(EP_ISA_AVX512_VNNI)
// GCC 12 flags the _mm512_undefined_* inside the conversion intrinsics (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace {

// Ties to even, as QuantizeLinear rounds (and std::nearbyint in the oracle).
constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

struct Quads {
  __m512i q[kQuarters];
};

// The three rows' bytes at one column as [top, middle, bottom, 0] per channel.
inline Quads column_quads(const std::uint8_t* top, const std::uint8_t* middle,
                          const std::uint8_t* bottom, __mmask64 mask) {
  const __m512i a = _mm512_maskz_loadu_epi8(mask, top);
  const __m512i b = _mm512_maskz_loadu_epi8(mask, middle);
  const __m512i c = _mm512_maskz_loadu_epi8(mask, bottom);
  const __m512i zero = _mm512_setzero_si512();
  const __m512i ab_lo = _mm512_unpacklo_epi8(a, b);
  const __m512i ab_hi = _mm512_unpackhi_epi8(a, b);
  const __m512i c_lo = _mm512_unpacklo_epi8(c, zero);
  const __m512i c_hi = _mm512_unpackhi_epi8(c, zero);
  return {{_mm512_unpacklo_epi16(ab_lo, c_lo), _mm512_unpackhi_epi16(ab_lo, c_lo),
           _mm512_unpacklo_epi16(ab_hi, c_hi), _mm512_unpackhi_epi16(ab_hi, c_hi)}};
}

}  // namespace

void DepthwiseConvU8::run_row(const std::uint8_t* src, std::uint8_t* dst, std::int64_t out_row,
                              std::int64_t block) const {
  const std::int64_t channels = shape_.channels;
  const std::int64_t in_width = shape_.in_width;
  const std::int64_t stride = shape_.stride;
  const std::int64_t first_channel = block * kBlock;
  const std::int64_t left = channels - first_channel;
  const __mmask64 mask = left >= kBlock ? ~__mmask64{0} : (__mmask64{1} << left) - 1;

  const std::uint8_t* rows[kTaps];
  for (std::int64_t kh = 0; kh < kTaps; ++kh) {
    const std::int64_t in_row = out_row * stride - shape_.pad_top + kh;
    rows[kh] = (in_row >= 0 && in_row < shape_.in_height ? src + in_row * in_width * channels
                                                         : pad_row_.data()) +
               first_channel;
  }
  // The 12 weight vectors stay in registers; the requantization constants are read
  // from L1 (8 more registers would spill the column quads).
  __m512i weights[kTaps][kQuarters];
  for (std::int64_t kw = 0; kw < kTaps; ++kw) {
    for (std::int64_t quarter = 0; quarter < kQuarters; ++quarter) {
      weights[kw][quarter] = _mm512_load_si512(
          weights_.data() + ((block * kTaps + kw) * kQuarters + quarter) * kBlock);
    }
  }
  const float* scale = scale_.data() + block * kQuarters * 16;
  const float* offset = offset_.data() + block * kQuarters * 16;
  const __m512i low = _mm512_set1_epi8(static_cast<char>(min_));
  const __m512i high = _mm512_set1_epi8(static_cast<char>(max_));

  // Columns outside the image read zero points from the padding row: a pointer select,
  // not a branch (merging two Quads results made the compiler go through the stack).
  const std::uint8_t* padding = pad_row_.data() + first_channel;
  auto column = [&](std::int64_t in_column) {
    const bool inside = in_column >= 0 && in_column < in_width;
    const std::int64_t at = in_column * channels;
    return column_quads(inside ? rows[0] + at : padding, inside ? rows[1] + at : padding,
                        inside ? rows[2] + at : padding, mask);
  };
  std::uint8_t* out = dst + out_row * shape_.out_width * channels + first_channel;
  auto emit = [&](const Quads& q0, const Quads& q1, const Quads& q2, std::int64_t out_column) {
    __m512i result[kQuarters];
    for (std::int64_t quarter = 0; quarter < kQuarters; ++quarter) {
      __m512i acc = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q0.q[quarter], weights[0][quarter]);
      acc = _mm512_dpbusd_epi32(acc, q1.q[quarter], weights[1][quarter]);
      acc = _mm512_dpbusd_epi32(acc, q2.q[quarter], weights[2][quarter]);
      const __m512 real = _mm512_fmadd_ps(_mm512_cvt_roundepi32_ps(acc, kNearest),
                                          _mm512_loadu_ps(scale + quarter * 16),
                                          _mm512_loadu_ps(offset + quarter * 16));
      result[quarter] = _mm512_cvt_roundps_epi32(real, kNearest);
    }
    // The saturating packs undo the unpacks' channel order.
    const __m512i low_half = _mm512_packs_epi32(result[0], result[1]);
    const __m512i high_half = _mm512_packs_epi32(result[2], result[3]);
    __m512i bytes = _mm512_packus_epi16(low_half, high_half);
    bytes = _mm512_min_epu8(_mm512_max_epu8(bytes, low), high);
    _mm512_mask_storeu_epi8(out + out_column * channels, mask, bytes);
  };

  const std::int64_t first_column = -shape_.pad_left;
  if (stride == 1) {
    Quads q0 = column(first_column);
    Quads q1 = column(first_column + 1);
    for (std::int64_t ow = 0; ow < shape_.out_width; ++ow) {
      const Quads q2 = column(first_column + ow + 2);
      emit(q0, q1, q2, ow);
      q0 = q1;
      q1 = q2;
    }
  } else {
    Quads q0 = column(first_column);
    for (std::int64_t ow = 0; ow < shape_.out_width; ++ow) {
      const std::int64_t base = first_column + ow * stride;
      const Quads q1 = column(base + 1);
      const Quads q2 = column(base + 2);
      emit(q0, q1, q2, ow);
      q0 = q2;
    }
  }
}

#pragma GCC diagnostic pop
EP_TARGET_END

#elif defined(EP_DEPTHWISE_U8_NEON)

namespace {

constexpr std::int64_t kGroup = 16;  // channels per NEON register of bytes
constexpr std::int64_t kGroupsPerBlock = kBlock / kGroup;

// 16 channels' bytes; fewer at the end of the channels, read through a zeroed copy so
// that no load passes the end of a row.
inline uint8x16_t load_group(const std::uint8_t* at, std::int64_t count) {
  if (count == kGroup) return vld1q_u8(at);
  std::uint8_t bytes[kGroup] = {};
  std::memcpy(bytes, at, static_cast<std::size_t>(count));
  return vld1q_u8(bytes);
}

// y = clamp(round_half_even(acc * scale + offset)) for 16 channels, as the oracle: the
// conversion to float rounds to nearest, the multiply-add is fused, the narrowing
// saturates.
inline void store_requantized(const int32x4_t acc[4], const float* scale, const float* offset,
                              uint8x16_t low, uint8x16_t high, std::uint8_t* out,
                              std::int64_t count) {
  uint16x4_t halves[4];
  for (int quarter = 0; quarter < 4; ++quarter) {
    const float32x4_t real = vfmaq_f32(vld1q_f32(offset + 4 * quarter), vcvtq_f32_s32(acc[quarter]),
                                       vld1q_f32(scale + 4 * quarter));
    halves[quarter] = vqmovun_s32(vcvtnq_s32_f32(real));
  }
  uint8x16_t bytes = vcombine_u8(vqmovn_u16(vcombine_u16(halves[0], halves[1])),
                                 vqmovn_u16(vcombine_u16(halves[2], halves[3])));
  bytes = vminq_u8(vmaxq_u8(bytes, low), high);
  if (count == kGroup) {
    vst1q_u8(out, bytes);
    return;
  }
  std::uint8_t staged[kGroup];
  vst1q_u8(staged, bytes);
  std::memcpy(out, staged, static_cast<std::size_t>(count));
}

}  // namespace

// Per group of 16 channels, natural order: scale, offset and compensation [16]; weights
// for SDOT [kw][quarter][4 channels x (top, middle, bottom, 0)], otherwise [kh][kw][16].
void DepthwiseConvU8::pack_for_neon(std::span<const std::int8_t> weights,
                                    const DepthwiseU8Requant& requant) {
  dotprod_ = CpuFeatures::host().dotprod;
  const std::int64_t groups = blocks_ * kGroupsPerBlock;
  // SDOT: [kw][quarter][16] per group (a zero byte per channel and column); otherwise 9 taps.
  const std::int64_t per_group = dotprod_ ? kTaps * 4 * kGroup : kTaps * kTaps * kGroup;
  weights_.assign(static_cast<std::size_t>(groups * per_group), 0);
  scale_.assign(static_cast<std::size_t>(groups * kGroup), 0.0f);
  offset_.assign(scale_.size(), 0.0f);
  compensation_.assign(scale_.size(), 0);
  for (std::int64_t channel = 0; channel < shape_.channels; ++channel) {
    const auto c = static_cast<std::size_t>(channel);
    const std::int64_t group = channel / kGroup;
    const std::int64_t lane = channel % kGroup;
    scale_[c] = requant.scale[c];
    offset_[c] = requant.offset[c];
    std::int32_t sum = 0;
    for (std::int64_t kh = 0; kh < kTaps; ++kh) {
      for (std::int64_t kw = 0; kw < kTaps; ++kw) {
        const std::int8_t w =
            weights[c * kTaps * kTaps + static_cast<std::size_t>(kh * kTaps + kw)];
        sum += w;
        const std::int64_t at =
            dotprod_ ? ((group * kTaps + kw) * 4 + lane / 4) * kGroup + (lane % 4) * 4 + kh
                     : ((group * kTaps + kh) * kTaps + kw) * kGroup + lane;
        weights_[static_cast<std::size_t>(at)] = w;
      }
    }
    compensation_[c] = 128 * sum;
  }
}

void DepthwiseConvU8::run_row(const std::uint8_t* src, std::uint8_t* dst, std::int64_t out_row,
                              std::int64_t block) const {
  const std::int64_t channels = shape_.channels;
  for (std::int64_t sub = 0; sub < kGroupsPerBlock; ++sub) {
    const std::int64_t group = block * kGroupsPerBlock + sub;
    const std::int64_t first_channel = group * kGroup;
    if (first_channel >= channels) return;
    const std::uint8_t* rows[kTaps];
    for (std::int64_t kh = 0; kh < kTaps; ++kh) {
      const std::int64_t in_row = out_row * shape_.stride - shape_.pad_top + kh;
      rows[kh] =
          (in_row >= 0 && in_row < shape_.in_height ? src + in_row * shape_.in_width * channels
                                                    : pad_row_.data()) +
          first_channel;
    }
    std::uint8_t* out = dst + out_row * shape_.out_width * channels + first_channel;
    const std::int64_t count = std::min(kGroup, channels - first_channel);
    if (dotprod_) {
      run_group_dotprod(rows, out, group, count);
    } else {
      run_group_neon(rows, out, group, count);
    }
  }
}

// Cortex-A72 (no dotprod): each tap widens 16 inputs and weights to 16 bits and
// multiply-adds them into four 32-bit accumulators.
void DepthwiseConvU8::run_group_neon(const std::uint8_t* const rows[3], std::uint8_t* out,
                                     std::int64_t group, std::int64_t count) const {
  const std::int64_t channels = shape_.channels;
  int16x8_t weights[kTaps * kTaps][2];
  for (std::int64_t tap = 0; tap < kTaps * kTaps; ++tap) {
    const int8x16_t w = vld1q_s8(weights_.data() + (group * kTaps * kTaps + tap) * kGroup);
    weights[tap][0] = vmovl_s8(vget_low_s8(w));
    weights[tap][1] = vmovl_high_s8(w);
  }
  const float* scale = scale_.data() + group * kGroup;
  const float* offset = offset_.data() + group * kGroup;
  const uint8x16_t low = vdupq_n_u8(min_);
  const uint8x16_t high = vdupq_n_u8(max_);
  const std::uint8_t* padding = pad_row_.data() + group * kGroup;
  for (std::int64_t ow = 0; ow < shape_.out_width; ++ow) {
    int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    for (std::int64_t kw = 0; kw < kTaps; ++kw) {
      const std::int64_t in_column = ow * shape_.stride - shape_.pad_left + kw;
      const bool inside = in_column >= 0 && in_column < shape_.in_width;
      for (std::int64_t kh = 0; kh < kTaps; ++kh) {
        const uint8x16_t x = load_group(inside ? rows[kh] + in_column * channels : padding, count);
        const int16x8_t x_low = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(x)));
        const int16x8_t x_high = vreinterpretq_s16_u16(vmovl_high_u8(x));
        const int16x8_t* w = weights[kh * kTaps + kw];
        acc[0] = vmlal_s16(acc[0], vget_low_s16(x_low), vget_low_s16(w[0]));
        acc[1] = vmlal_high_s16(acc[1], x_low, w[0]);
        acc[2] = vmlal_s16(acc[2], vget_low_s16(x_high), vget_low_s16(w[1]));
        acc[3] = vmlal_high_s16(acc[3], x_high, w[1]);
      }
    }
    store_requantized(acc, scale, offset, low, high, out + ow * channels, count);
  }
}

EP_TARGET_BEGIN("arch=armv8.2-a+dotprod")

namespace {

struct Columns {
  int8x16_t q[4];  // channels 4q..4q+3, each as (top, middle, bottom, 0) - 128
};

// One input column's three rows, shuffled so that SDOT multiplies each channel's three
// vertical taps at once: the same idea as the AVX-512 kernel's column quads.
inline Columns column_bytes(const std::uint8_t* top, const std::uint8_t* middle,
                            const std::uint8_t* bottom, std::int64_t count) {
  const uint8x16_t bias = vdupq_n_u8(0x80);
  const int8x16_t a = vreinterpretq_s8_u8(veorq_u8(load_group(top, count), bias));
  const int8x16_t b = vreinterpretq_s8_u8(veorq_u8(load_group(middle, count), bias));
  const int8x16_t c = vreinterpretq_s8_u8(veorq_u8(load_group(bottom, count), bias));
  const int8x16_t zero = vdupq_n_s8(0);
  const int16x8_t ab_low = vreinterpretq_s16_s8(vzip1q_s8(a, b));
  const int16x8_t ab_high = vreinterpretq_s16_s8(vzip2q_s8(a, b));
  const int16x8_t c_low = vreinterpretq_s16_s8(vzip1q_s8(c, zero));
  const int16x8_t c_high = vreinterpretq_s16_s8(vzip2q_s8(c, zero));
  return {{vreinterpretq_s8_s16(vzip1q_s16(ab_low, c_low)),
           vreinterpretq_s8_s16(vzip2q_s16(ab_low, c_low)),
           vreinterpretq_s8_s16(vzip1q_s16(ab_high, c_high)),
           vreinterpretq_s8_s16(vzip2q_s16(ab_high, c_high))}};
}

}  // namespace

// Cortex-A76 and later: three SDOTs per 4 channels and output column, each column's
// shuffled bytes computed once for every output that reads it.
void DepthwiseConvU8::run_group_dotprod(const std::uint8_t* const rows[3], std::uint8_t* out,
                                        std::int64_t group, std::int64_t count) const {
  const std::int64_t channels = shape_.channels;
  int8x16_t weights[kTaps][4];
  for (std::int64_t kw = 0; kw < kTaps; ++kw) {
    for (std::int64_t quarter = 0; quarter < 4; ++quarter) {
      weights[kw][quarter] =
          vld1q_s8(weights_.data() + ((group * kTaps + kw) * 4 + quarter) * kGroup);
    }
  }
  const std::int32_t* compensation = compensation_.data() + group * kGroup;
  const float* scale = scale_.data() + group * kGroup;
  const float* offset = offset_.data() + group * kGroup;
  const uint8x16_t low = vdupq_n_u8(min_);
  const uint8x16_t high = vdupq_n_u8(max_);
  const std::uint8_t* padding = pad_row_.data() + group * kGroup;
  auto column = [&](std::int64_t in_column) {
    const bool inside = in_column >= 0 && in_column < shape_.in_width;
    const std::int64_t at = in_column * channels;
    return column_bytes(inside ? rows[0] + at : padding, inside ? rows[1] + at : padding,
                        inside ? rows[2] + at : padding, count);
  };
  auto emit = [&](const Columns& c0, const Columns& c1, const Columns& c2, std::int64_t ow) {
    int32x4_t acc[4];
    for (int quarter = 0; quarter < 4; ++quarter) {
      acc[quarter] =
          vdotq_s32(vld1q_s32(compensation + 4 * quarter), c0.q[quarter], weights[0][quarter]);
      acc[quarter] = vdotq_s32(acc[quarter], c1.q[quarter], weights[1][quarter]);
      acc[quarter] = vdotq_s32(acc[quarter], c2.q[quarter], weights[2][quarter]);
    }
    store_requantized(acc, scale, offset, low, high, out + ow * channels, count);
  };
  const std::int64_t first_column = -shape_.pad_left;
  if (shape_.stride == 1) {
    Columns c0 = column(first_column);
    Columns c1 = column(first_column + 1);
    for (std::int64_t ow = 0; ow < shape_.out_width; ++ow) {
      const Columns c2 = column(first_column + ow + 2);
      emit(c0, c1, c2, ow);
      c0 = c1;
      c1 = c2;
    }
  } else {
    Columns c0 = column(first_column);
    for (std::int64_t ow = 0; ow < shape_.out_width; ++ow) {
      const std::int64_t base = first_column + ow * shape_.stride;
      const Columns c1 = column(base + 1);
      const Columns c2 = column(base + 2);
      emit(c0, c1, c2, ow);
      c0 = c2;
    }
  }
}

EP_TARGET_END

#else

void DepthwiseConvU8::run_row(const std::uint8_t*, std::uint8_t*, std::int64_t,
                              std::int64_t) const {
  fail("depthwise u8: built without AVX-512 VNNI");
}

#endif

void depthwise_u8_scalar(const DepthwiseU8Shape& shape, std::span<const std::int8_t> weights,
                         const DepthwiseU8Requant& requant, const std::uint8_t* src,
                         std::uint8_t* dst) {
  const std::int64_t c_count = shape.channels;
  const std::int64_t k = shape.kernel;
  for (std::int64_t image = 0; image < shape.images; ++image) {
    const std::uint8_t* in = src + image * shape.in_height * shape.in_width * c_count;
    std::uint8_t* out = dst + image * shape.out_height * shape.out_width * c_count;
    for (std::int64_t oh = 0; oh < shape.out_height; ++oh) {
      for (std::int64_t ow = 0; ow < shape.out_width; ++ow) {
        for (std::int64_t c = 0; c < c_count; ++c) {
          std::int32_t acc = 0;
          for (std::int64_t kh = 0; kh < k; ++kh) {
            for (std::int64_t kw = 0; kw < k; ++kw) {
              const std::int64_t ih = oh * shape.stride - shape.pad_top + kh;
              const std::int64_t iw = ow * shape.stride - shape.pad_left + kw;
              const bool inside = ih >= 0 && ih < shape.in_height && iw >= 0 && iw < shape.in_width;
              const std::int32_t x =
                  inside ? in[(ih * shape.in_width + iw) * c_count + c] : requant.input_zero_point;
              acc += x * weights[static_cast<std::size_t>((c * k + kh) * k + kw)];
            }
          }
          const auto at = static_cast<std::size_t>(c);
          const float real =
              std::fmaf(static_cast<float>(acc), requant.scale[at], requant.offset[at]);
          out[(oh * shape.out_width + ow) * c_count + c] =
              std::clamp(round_to_u8(real), requant.min, requant.max);
        }
      }
    }
  }
}

}  // namespace edgeperf::runtime::onednn
