#include "depthwise_u8_wide.h"

#include <algorithm>

#include "byte_kernel_parts.h"
#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/isa_target.h"

// Compiled for AVX-512 VNNI whatever the build's baseline, and run only where the CPU has
// it (available()). Other machines keep oneDNN's kernel for these layers.
#if defined(__x86_64__)
#include <immintrin.h>
#define EP_DEPTHWISE_WIDE_VNNI 1
#endif

namespace edgeperf::runtime::onednn {
namespace {

constexpr std::int64_t kBlock = 64;    // channels per block: one zmm of bytes
constexpr std::int64_t kQuarters = 4;  // accumulators per block, 16 channels each
constexpr std::int64_t kSets = 2;      // 32-bit lanes per channel and column: rows 0-3, 4-6
constexpr std::int64_t kGroup = 4;     // output columns accumulated together
constexpr std::int64_t kTile = 32;     // output columns per column buffer
constexpr std::int64_t kMaxKernel = 7;
// Input columns one tile reads, at stride 2 and the largest kernel.
constexpr std::int64_t kTileColumns = (kTile - 1) * 2 + kMaxKernel;

}  // namespace

bool DepthwiseConvU8Wide::available() {
#if defined(EP_DEPTHWISE_WIDE_VNNI)
  return CpuFeatures::host().avx512_vnni;
#else
  return false;
#endif
}

bool DepthwiseConvU8Wide::supports(const DepthwiseU8Shape& shape) {
  const bool sized = shape.kernel == 5 || shape.kernel == 7;
  return available() && sized && depthwise_window_fits(shape);
}

DepthwiseConvU8Wide::DepthwiseConvU8Wide(const DepthwiseU8Shape& shape,
                                         std::span<const std::int8_t> weights,
                                         const DepthwiseU8Requant& requant)
    : shape_(shape),
      min_(requant.min),
      max_(requant.max),
      blocks_((shape.channels + kBlock - 1) / kBlock) {
  const auto channels = static_cast<std::size_t>(shape.channels);
  const std::int64_t k = shape.kernel;
  EP_CHECK(supports(shape), "depthwise u8 {}x{}: unsupported shape", k, k);
  EP_CHECK(weights.size() == channels * static_cast<std::size_t>(k * k) &&
               requant.scale.size() == channels && requant.offset.size() == channels,
           "depthwise u8 {}x{}: {} weights and {} scales for {} channels", k, k, weights.size(),
           requant.scale.size(), channels);
  // Padded to whole blocks so masked loads of the last block stay inside.
  pad_row_.assign(static_cast<std::size_t>(shape.in_width * shape.channels + kBlock),
                  requant.input_zero_point);
  pack_vnni_requant(shape.channels, requant, scale_, offset_);
  weights_.assign(static_cast<std::size_t>(blocks_ * kQuarters * k * kSets * kBlock), 0);
  for_each_vnni_lane(shape.channels, [&](std::int64_t block, std::int64_t quarter,
                                         std::int64_t dword, std::int64_t channel) {
    const auto c = static_cast<std::size_t>(channel);
    for (std::int64_t kw = 0; kw < k; ++kw) {
      for (std::int64_t kh = 0; kh < k; ++kh) {
        const std::int64_t vector = ((block * kQuarters + quarter) * k + kw) * kSets + kh / 4;
        weights_[static_cast<std::size_t>(vector * kBlock + dword * 4 + kh % 4)] =
            weights[c * static_cast<std::size_t>(k * k) + static_cast<std::size_t>(kh * k + kw)];
      }
    }
  });
}

std::size_t DepthwiseConvU8Wide::packed_bytes() const {
  return weights_.size() + (scale_.size() + offset_.size()) * sizeof(float);
}

std::size_t DepthwiseConvU8Wide::workspace_bytes() const { return pad_row_.size(); }

void DepthwiseConvU8Wide::run(const std::uint8_t* src, std::uint8_t* dst, int threads) const {
  run_in_parts(*this, src, dst, threads);
}

void DepthwiseConvU8Wide::run_part(const std::uint8_t* src, std::uint8_t* dst, int part,
                                   int parts) const {
  for_row_blocks_of_part(
      shape_, blocks_, src, dst, part, parts,
      [this](const std::uint8_t* image_src, std::uint8_t* image_dst, std::int64_t out_row,
             std::int64_t block) { run_row(image_src, image_dst, out_row, block); });
}

#ifdef EP_DEPTHWISE_WIDE_VNNI

EP_TARGET_BEGIN(EP_ISA_AVX512_VNNI)
// GCC 12 flags the _mm512_undefined_* inside the conversion intrinsics (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace {

// Ties to even, as QuantizeLinear rounds (and std::nearbyint in the oracle).
constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

// Four rows' bytes as [a, b, c, d] per channel, one vector per quarter of the channels.
inline void interleave_rows(__m512i a, __m512i b, __m512i c, __m512i d, __m512i* quarters) {
  const __m512i ab_lo = _mm512_unpacklo_epi8(a, b);
  const __m512i ab_hi = _mm512_unpackhi_epi8(a, b);
  const __m512i cd_lo = _mm512_unpacklo_epi8(c, d);
  const __m512i cd_hi = _mm512_unpackhi_epi8(c, d);
  quarters[0 * kSets] = _mm512_unpacklo_epi16(ab_lo, cd_lo);
  quarters[1 * kSets] = _mm512_unpackhi_epi16(ab_lo, cd_lo);
  quarters[2 * kSets] = _mm512_unpacklo_epi16(ab_hi, cd_hi);
  quarters[3 * kSets] = _mm512_unpackhi_epi16(ab_hi, cd_hi);
}

// The column buffer: [quarter][column][set] vectors of 64 bytes.
struct ColumnBuffer {
  alignas(64) __m512i vectors[kQuarters * kTileColumns * kSets];
  __m512i& at(std::int64_t quarter, std::int64_t column, std::int64_t set) {
    return vectors[(quarter * kTileColumns + column) * kSets + set];
  }
  const __m512i* quarter(std::int64_t index) const {
    return vectors + index * kTileColumns * kSets;
  }
};

// One input column of the kernel's K rows, interleaved for VNNI into the buffer.
template <int K>
inline void unpack_column(const std::uint8_t* const* rows, __mmask64 mask, ColumnBuffer& buffer,
                          std::int64_t column) {
  __m512i x[8];
  for (int kh = 0; kh < K; ++kh) x[kh] = _mm512_maskz_loadu_epi8(mask, rows[kh]);
  for (int kh = K; kh < 8; ++kh) x[kh] = _mm512_setzero_si512();
  __m512i quarters[kQuarters * kSets];
  interleave_rows(x[0], x[1], x[2], x[3], quarters);
  interleave_rows(x[4], x[5], x[6], x[7], quarters + 1);
  for (std::int64_t quarter = 0; quarter < kQuarters; ++quarter) {
    for (std::int64_t set = 0; set < kSets; ++set) {
      _mm512_store_si512(&buffer.at(quarter, column, set), quarters[quarter * kSets + set]);
    }
  }
}

// One quarter of the channels over `outputs` (a multiple of kGroup) output columns of the
// tile: requantized int32 results into staged[output][quarter].
template <int K, int S>
inline void run_quarter(const ColumnBuffer& buffer, const std::int8_t* weights, const float* scale,
                        const float* offset, std::int64_t quarter, std::int64_t outputs,
                        __m512i* staged) {
  __m512i w[K][kSets];
  for (int kw = 0; kw < K; ++kw) {
    for (int set = 0; set < kSets; ++set) {
      w[kw][set] = _mm512_load_si512(weights + (kw * kSets + set) * kBlock);
    }
  }
  const __m512 scales = _mm512_loadu_ps(scale);
  const __m512 offsets = _mm512_loadu_ps(offset);
  const __m512i* columns = buffer.quarter(quarter);
  for (std::int64_t first = 0; first < outputs; first += kGroup) {
    __m512i acc[kGroup];
    for (auto& value : acc) value = _mm512_setzero_si512();
    for (int kw = 0; kw < K; ++kw) {
      for (int t = 0; t < kGroup; ++t) {
        const __m512i* column = columns + ((first + t) * S + kw) * kSets;
        acc[t] = _mm512_dpbusd_epi32(acc[t], _mm512_load_si512(column), w[kw][0]);
        acc[t] = _mm512_dpbusd_epi32(acc[t], _mm512_load_si512(column + 1), w[kw][1]);
      }
    }
    for (int t = 0; t < kGroup; ++t) {
      const __m512 real =
          _mm512_fmadd_ps(_mm512_cvt_roundepi32_ps(acc[t], kNearest), scales, offsets);
      _mm512_store_si512(staged + (first + t) * kQuarters + quarter,
                         _mm512_cvt_roundps_epi32(real, kNearest));
    }
  }
}

// One output row of one 64-channel block, kernel K and stride S.
template <int K, int S>
void run_row_vnni(const DepthwiseU8Shape& shape, const std::uint8_t* src, std::uint8_t* dst,
                  std::int64_t out_row, std::int64_t block, const std::int8_t* weights,
                  const float* scale, const float* offset, const std::uint8_t* pad_row,
                  std::uint8_t min, std::uint8_t max) {
  const std::int64_t channels = shape.channels;
  const std::int64_t first_channel = block * kBlock;
  const std::int64_t left = channels - first_channel;
  const __mmask64 mask = left >= kBlock ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
  const std::uint8_t* rows[K];
  for (int kh = 0; kh < K; ++kh) {
    const std::int64_t in_row = out_row * S - shape.pad_top + kh;
    rows[kh] = (in_row >= 0 && in_row < shape.in_height ? src + in_row * shape.in_width * channels
                                                        : pad_row) +
               first_channel;
  }
  const std::uint8_t* padding = pad_row + first_channel;
  const __m512i low = _mm512_set1_epi8(static_cast<char>(min));
  const __m512i high = _mm512_set1_epi8(static_cast<char>(max));
  ColumnBuffer buffer;
  alignas(64) __m512i staged[kTile * kQuarters];
  std::uint8_t* out = dst + out_row * shape.out_width * channels + first_channel;
  for (std::int64_t tile = 0; tile < shape.out_width; tile += kTile) {
    const std::int64_t count = std::min(kTile, shape.out_width - tile);
    const std::int64_t outputs = (count + kGroup - 1) / kGroup * kGroup;
    const std::int64_t first_column = tile * S - shape.pad_left;
    for (std::int64_t column = 0; column < (outputs - 1) * S + K; ++column) {
      const std::int64_t in_column = first_column + column;
      const bool inside = in_column >= 0 && in_column < shape.in_width;
      const std::uint8_t* at[K];
      for (int kh = 0; kh < K; ++kh) at[kh] = inside ? rows[kh] + in_column * channels : padding;
      unpack_column<K>(at, mask, buffer, column);
    }
    for (std::int64_t quarter = 0; quarter < kQuarters; ++quarter) {
      run_quarter<K, S>(buffer, weights + quarter * K * kSets * kBlock, scale + quarter * 16,
                        offset + quarter * 16, quarter, outputs, staged);
    }
    // The saturating packs undo the unpacks' channel order.
    for (std::int64_t t = 0; t < count; ++t) {
      const __m512i* result = staged + t * kQuarters;
      const __m512i low_half = _mm512_packs_epi32(result[0], result[1]);
      const __m512i high_half = _mm512_packs_epi32(result[2], result[3]);
      __m512i bytes = _mm512_packus_epi16(low_half, high_half);
      bytes = _mm512_min_epu8(_mm512_max_epu8(bytes, low), high);
      _mm512_mask_storeu_epi8(out + (tile + t) * channels, mask, bytes);
    }
  }
}

}  // namespace

void DepthwiseConvU8Wide::run_row(const std::uint8_t* src, std::uint8_t* dst, std::int64_t out_row,
                                  std::int64_t block) const {
  const std::int64_t k = shape_.kernel;
  const std::int8_t* weights = weights_.data() + block * kQuarters * k * kSets * kBlock;
  const float* scale = scale_.data() + block * kQuarters * 16;
  const float* offset = offset_.data() + block * kQuarters * 16;
  const auto row = k == 5 ? (shape_.stride == 1 ? run_row_vnni<5, 1> : run_row_vnni<5, 2>)
                          : (shape_.stride == 1 ? run_row_vnni<7, 1> : run_row_vnni<7, 2>);
  row(shape_, src, dst, out_row, block, weights, scale, offset, pad_row_.data(), min_, max_);
}

#pragma GCC diagnostic pop
EP_TARGET_END

#else

void DepthwiseConvU8Wide::run_row(const std::uint8_t*, std::uint8_t*, std::int64_t,
                                  std::int64_t) const {
  fail("depthwise u8 {}x{}: built without AVX-512 VNNI", shape_.kernel, shape_.kernel);
}

#endif

}  // namespace edgeperf::runtime::onednn
