#include "image_quantize.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/isa_target.h"

// On x86 the kernel is compiled for AVX-512 VBMI whatever the build's baseline, and runs
// only where the CPU has it (image_quantize_available()). On arm64 it is NEON, which
// every ARMv8-A CPU has.
#if defined(__x86_64__)
#include <immintrin.h>
#define EP_IMAGE_QUANTIZE_VBMI 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define EP_IMAGE_QUANTIZE_NEON 1
#endif

namespace edgeperf::runtime::onednn {
namespace {

constexpr std::int64_t kChannels = 3;
constexpr std::int64_t kChunk = 16;  // pixels per step: one zmm of f32 per channel

}  // namespace

bool image_quantize_available() {
#if defined(EP_IMAGE_QUANTIZE_VBMI)
  return CpuFeatures::host().avx512_vbmi;
#elif defined(EP_IMAGE_QUANTIZE_NEON)
  return true;
#else
  return false;
#endif
}

namespace {

std::uint8_t quantize_one(float value, const ImageQuantize& job) {
  const float q = std::nearbyint(value * job.inverse_scale) + job.zero_point;
  // !(q >= 0): NaN becomes 0, as the vector conversion's integer indefinite does.
  return !(q >= 0.0f) ? 0 : static_cast<std::uint8_t>(std::min(q, 255.0f));
}

}  // namespace

void quantize_rgb_to_nhwc_u8_scalar(const ImageQuantize& job, const float* src, std::uint8_t* dst) {
  for (std::int64_t image = 0; image < job.images; ++image) {
    for (std::int64_t channel = 0; channel < kChannels; ++channel) {
      const float* plane = src + (image * kChannels + channel) * job.pixels;
      std::uint8_t* out = dst + image * kChannels * job.pixels + channel;
      for (std::int64_t pixel = 0; pixel < job.pixels; ++pixel) {
        out[pixel * kChannels] = quantize_one(plane[pixel], job);
      }
    }
  }
}

#ifdef EP_IMAGE_QUANTIZE_VBMI

EP_TARGET_BEGIN(EP_ISA_AVX512_VBMI)
// GCC 12 flags the _mm512_undefined_* inside the conversion intrinsics (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace {

// Byte 3 * i + c of the output takes byte 16 * c + i of [R | G | B | unused].
__m512i interleave_index() {
  std::array<std::uint8_t, 64> index{};
  for (std::int64_t i = 0; i < kChunk; ++i) {
    for (std::int64_t c = 0; c < kChannels; ++c) {
      index[static_cast<std::size_t>(kChannels * i + c)] = static_cast<std::uint8_t>(16 * c + i);
    }
  }
  return _mm512_loadu_si512(index.data());
}

inline __m128i quantize_chunk(const float* plane, __mmask16 mask, __m512 inverse_scale,
                              __m512i zero_point) {
  constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m512 scaled = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, plane), inverse_scale);
  const __m512i q = _mm512_add_epi32(_mm512_cvt_roundps_epi32(scaled, kNearest), zero_point);
  return _mm512_cvtusepi32_epi8(_mm512_max_epi32(q, _mm512_setzero_si512()));
}

// Chunks [first, last) of one image. The parallel loop stays outside the ISA region
// (clang does not carry the target into OpenMP's outlined body).
void quantize_chunks(const ImageQuantize& job, const float* src, std::uint8_t* dst,
                     std::int64_t image, std::int64_t first, std::int64_t last) {
  const __m512i index = interleave_index();
  const __m512 inverse_scale = _mm512_set1_ps(job.inverse_scale);
  const __m512i zero_point = _mm512_set1_epi32(job.zero_point);
  for (std::int64_t chunk = first; chunk < last; ++chunk) {
    const std::int64_t pixel = chunk * kChunk;
    const std::int64_t count = std::min(kChunk, job.pixels - pixel);
    const auto mask = static_cast<__mmask16>((1u << count) - 1);
    const float* planes = src + image * kChannels * job.pixels + pixel;
    __m512i packed =
        _mm512_castsi128_si512(quantize_chunk(planes, mask, inverse_scale, zero_point));
    packed = _mm512_inserti32x4(
        packed, quantize_chunk(planes + job.pixels, mask, inverse_scale, zero_point), 1);
    packed = _mm512_inserti32x4(
        packed, quantize_chunk(planes + 2 * job.pixels, mask, inverse_scale, zero_point), 2);
    const __mmask64 store = (__mmask64{1} << (kChannels * count)) - 1;
    _mm512_mask_storeu_epi8(dst + (image * job.pixels + pixel) * kChannels, store,
                            _mm512_permutexvar_epi8(index, packed));
  }
}

}  // namespace

#pragma GCC diagnostic pop
EP_TARGET_END

#elif defined(EP_IMAGE_QUANTIZE_NEON)

namespace {

// Eight pixels of one plane: round half to even (FCVTNS), add the zero point with
// saturation, narrow with saturation to u8; NaN lanes become 0 as in the oracle.
inline uint8x8_t quantize_eight(const float* plane, float32x4_t inverse_scale,
                                int32x4_t zero_point) {
  const auto quarter = [&](const float* values) {
    const float32x4_t x = vld1q_f32(values);
    const int32x4_t q = vqaddq_s32(vcvtnq_s32_f32(vmulq_f32(x, inverse_scale)), zero_point);
    return vqmovun_s32(vandq_s32(q, vreinterpretq_s32_u32(vceqq_f32(x, x))));
  };
  return vqmovn_u16(vcombine_u16(quarter(plane), quarter(plane + 4)));
}

void quantize_chunks(const ImageQuantize& job, const float* src, std::uint8_t* dst,
                     std::int64_t image, std::int64_t first, std::int64_t last) {
  const float32x4_t inverse_scale = vdupq_n_f32(job.inverse_scale);
  const int32x4_t zero_point = vdupq_n_s32(job.zero_point);
  const float* planes = src + image * kChannels * job.pixels;
  std::uint8_t* out = dst + image * kChannels * job.pixels;
  const std::int64_t end = std::min(last * kChunk, job.pixels);
  std::int64_t pixel = first * kChunk;
  for (; pixel + 8 <= end; pixel += 8) {
    // vst3 interleaves the three planes' bytes: R G B R G B ...
    const uint8x8x3_t rgb = {
        quantize_eight(planes + pixel, inverse_scale, zero_point),
        quantize_eight(planes + job.pixels + pixel, inverse_scale, zero_point),
        quantize_eight(planes + 2 * job.pixels + pixel, inverse_scale, zero_point)};
    vst3_u8(out + pixel * kChannels, rgb);
  }
  for (; pixel < end; ++pixel) {
    for (std::int64_t channel = 0; channel < kChannels; ++channel) {
      out[pixel * kChannels + channel] = quantize_one(planes[channel * job.pixels + pixel], job);
    }
  }
}

}  // namespace

#endif

#if defined(EP_IMAGE_QUANTIZE_VBMI) || defined(EP_IMAGE_QUANTIZE_NEON)

void quantize_rgb_to_nhwc_u8(const ImageQuantize& job, const float* src, std::uint8_t* dst,
                             int threads) {
  constexpr std::int64_t kChunksPerTask = 64;
  const std::int64_t chunks = (job.pixels + kChunk - 1) / kChunk;
  const std::int64_t tasks = (chunks + kChunksPerTask - 1) / kChunksPerTask;
#pragma omp parallel for collapse(2) schedule(static) num_threads(threads) if (threads > 1)
  for (std::int64_t image = 0; image < job.images; ++image) {
    for (std::int64_t task = 0; task < tasks; ++task) {
      const std::int64_t first = task * kChunksPerTask;
      quantize_chunks(job, src, dst, image, first, std::min(chunks, first + kChunksPerTask));
    }
  }
}

#else

void quantize_rgb_to_nhwc_u8(const ImageQuantize&, const float*, std::uint8_t*, int) {
  fail("image quantize: built without AVX-512 VBMI or NEON");
}

#endif

}  // namespace edgeperf::runtime::onednn
