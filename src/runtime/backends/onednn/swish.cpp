#include "swish.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/isa_target.h"

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

enum class Isa { avx512, avx2, baseline };

Isa host_isa() {
#if defined(__x86_64__)
  const CpuFeatures& cpu = CpuFeatures::host();
  if (cpu.avx512) return Isa::avx512;
  if (cpu.avx2_fma) return Isa::avx2;
#endif
  return Isa::baseline;
}

}  // namespace

void swish_scalar(const float* x, float* y, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) y[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void swish(const float* x, float* y, std::int64_t count) {
  switch (host_isa()) {
#if defined(__x86_64__)
    case Isa::avx512:
      avx512::run(x, y, count);
      return;
    case Isa::avx2:
      avx2::run(x, y, count);
      return;
#endif
    default:
      baseline::run(x, y, count);
  }
}

const char* swish_isa() {
  switch (host_isa()) {
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    default:
      return "baseline";
  }
}

}  // namespace edgeperf::runtime::onednn
