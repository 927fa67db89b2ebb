#pragma once
// The vector level our region kernels with AVX-512, AVX2 and baseline versions run at
// (channel_affine.cpp, swish.cpp): the widest this CPU has, under EDGEPERF_MAX_ISA.
#include "edgeperf/core/cpu_features.h"

namespace edgeperf::runtime::onednn {

enum class VectorIsa { avx512, avx2, baseline };

inline VectorIsa host_vector_isa() {
#if defined(__x86_64__)
  const CpuFeatures& cpu = CpuFeatures::host();
  if (cpu.avx512) return VectorIsa::avx512;
  if (cpu.avx2_fma) return VectorIsa::avx2;
#endif
  return VectorIsa::baseline;
}

// "avx512", "avx2" or "baseline".
inline const char* vector_isa_name(VectorIsa isa) {
  switch (isa) {
    case VectorIsa::avx512:
      return "avx512";
    case VectorIsa::avx2:
      return "avx2";
    default:
      return "baseline";
  }
}

}  // namespace edgeperf::runtime::onednn
