#include "channel_affine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "edgeperf/core/isa_target.h"
#include "vector_isa.h"

namespace edgeperf::runtime::onednn {
namespace {

namespace baseline {
#include "channel_affine_body.inc"
}  // namespace baseline

#if defined(__x86_64__)
EP_TARGET_BEGIN(EP_ISA_AVX512)
namespace avx512 {
#include "channel_affine_body.inc"
// GCC 12 flags the _mm512_undefined_* inside the conversion intrinsics (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "channel_affine_avx512.inc"
#pragma GCC diagnostic pop
}  // namespace avx512
EP_TARGET_END

EP_TARGET_BEGIN(EP_ISA_AVX2)
namespace avx2 {
#include "channel_affine_body.inc"
}  // namespace avx2
EP_TARGET_END
#endif

}  // namespace

void channel_affine_scalar(const ChannelAffine& affine, const ChannelRows& rows) {
  for (std::int64_t p = 0; p < rows.pixels; ++p) {
    for (std::int64_t l = 0; l < rows.lanes; ++l) {
      const float v = rows.x[p * rows.x_stride + l] * affine.scale[l] + affine.shift[l];
      // ReLU is max(v, 0): -inf gives 0 (not -inf * 0 = NaN) and negatives +0.
      const float negative = affine.slope != 0.0f ? v * affine.slope : 0.0f;
      rows.y[p * rows.y_stride + l] = affine.relu && v < 0.0f ? negative : v;
    }
  }
}

void channel_affine(const ChannelAffine& affine, const ChannelRows& rows) {
  switch (host_vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512:
      avx512::run(affine, rows);
      return;
    case VectorIsa::avx2:
      avx2::run(affine, rows);
      return;
#endif
    default:
      baseline::run(affine, rows);
  }
}

namespace {

template <typename In, typename T>
void byte_affine_oracle(const ByteAffine& affine, const AffineRows<In, T>& rows) {
  for (std::int64_t p = 0; p < rows.pixels; ++p) {
    for (std::int64_t l = 0; l < rows.lanes; ++l) {
      float v =
          static_cast<float>(rows.x[p * rows.x_stride + l]) * affine.scale[l] + affine.shift[l];
      if (affine.relu && v < 0.0f) v = affine.slope != 0.0f ? v * affine.slope : 0.0f;
      // NaN gives the zero point, as QuantizeLinear's reference does.
      const float q = (std::isnan(v) ? 0.0f : std::nearbyint(v)) + static_cast<float>(affine.zero);
      const float low = std::numeric_limits<T>::min(), high = std::numeric_limits<T>::max();
      rows.y[p * rows.y_stride + l] = static_cast<T>(std::clamp(q, low, high));
    }
  }
}

template <typename In, typename T>
void byte_affine(const ByteAffine& affine, const AffineRows<In, T>& rows) {
  switch (host_vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512:
      avx512::run_bytes_avx512(affine, rows);
      return;
    case VectorIsa::avx2:
      avx2::run_bytes(affine, rows);
      return;
#endif
    default:
      baseline::run_bytes(affine, rows);
  }
}

}  // namespace

float byte_affine_scale(float scale) {
  int exponent = 0;
  const float mantissa = std::frexp(scale, &exponent);
  return std::ldexp(std::nearbyint(std::ldexp(mantissa, 16)), exponent - 16);
}

#define EP_CHANNEL_AFFINE_QUANTIZE(In, Out)                                               \
  void channel_affine_scalar(const ByteAffine& affine, const AffineRows<In, Out>& rows) { \
    byte_affine_oracle(affine, rows);                                                     \
  }                                                                                       \
  void channel_affine(const ByteAffine& affine, const AffineRows<In, Out>& rows) {        \
    byte_affine(affine, rows);                                                            \
  }
EP_CHANNEL_AFFINE_QUANTIZE(std::uint8_t, std::uint8_t)
EP_CHANNEL_AFFINE_QUANTIZE(std::int8_t, std::int8_t)
EP_CHANNEL_AFFINE_QUANTIZE(float, std::uint8_t)
EP_CHANNEL_AFFINE_QUANTIZE(float, std::int8_t)
#undef EP_CHANNEL_AFFINE_QUANTIZE

const char* channel_affine_isa() { return vector_isa_name(host_vector_isa()); }

}  // namespace edgeperf::runtime::onednn
