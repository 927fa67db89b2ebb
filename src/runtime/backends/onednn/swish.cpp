#include "swish.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "edgeperf/core/isa_target.h"
#include "vector_isa.h"

namespace edgeperf::runtime::onednn {
namespace {

namespace baseline {
#include "swish_body.inc"
}  // namespace baseline

#if defined(__x86_64__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps, which -Wmaybe-uninitialized
// reports when they are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
EP_TARGET_BEGIN(EP_ISA_AVX512)
namespace avx512 {
#include "swish_avx512.inc"
}  // namespace avx512
EP_TARGET_END
#pragma GCC diagnostic pop

EP_TARGET_BEGIN(EP_ISA_AVX2)
namespace avx2 {
#include "swish_body.inc"
}  // namespace avx2
EP_TARGET_END
#endif

}  // namespace

void swish_scalar(const float* x, float* y, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) y[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void swish(const float* x, float* y, std::int64_t count) {
  switch (host_vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512:
      avx512::run(x, y, count);
      return;
    case VectorIsa::avx2:
      avx2::run(x, y, count);
      return;
#endif
    default:
      baseline::run(x, y, count);
  }
}

namespace {

template <typename Int>
void dequantized_with(const Int* q, const Dequantization& dq, float* y, std::int64_t count) {
  const auto zero_point = static_cast<float>(dq.zero_point);
  switch (host_vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512:
      avx512::run_dequantized(q, dq.scale, zero_point, y, count);
      return;
    case VectorIsa::avx2:
      avx2::run_dequantized(q, dq.scale, zero_point, y, count);
      return;
#endif
    default:
      baseline::run_dequantized(q, dq.scale, zero_point, y, count);
  }
}

}  // namespace

void swish_dequantized_scalar(const void* q, const Dequantization& dq, float* y,
                              std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) {
    const float level = dq.is_signed ? static_cast<const std::int8_t*>(q)[i]
                                     : static_cast<const std::uint8_t*>(q)[i];
    y[i] = (level - static_cast<float>(dq.zero_point)) * dq.scale;
  }
  swish_scalar(y, y, count);
}

void swish_dequantized(const void* q, const Dequantization& dq, float* y, std::int64_t count) {
  if (dq.is_signed) {
    dequantized_with(static_cast<const std::int8_t*>(q), dq, y, count);
  } else {
    dequantized_with(static_cast<const std::uint8_t*>(q), dq, y, count);
  }
}

const char* swish_isa() { return vector_isa_name(host_vector_isa()); }

}  // namespace edgeperf::runtime::onednn
