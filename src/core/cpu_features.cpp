#include "edgeperf/core/cpu_features.h"

#include <cstdlib>

#include "edgeperf/core/error.h"

#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

namespace edgeperf {
namespace {

CpuFeatures read_cpu() {
  CpuFeatures features;
#if defined(__x86_64__)
  __builtin_cpu_init();
  features.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  features.avx512 = features.avx2_fma && __builtin_cpu_supports("avx512f") &&
                    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                    __builtin_cpu_supports("avx512vl");
  features.avx512_vnni = features.avx512 && __builtin_cpu_supports("avx512vnni");
  features.avx512_vbmi = features.avx512 && __builtin_cpu_supports("avx512vbmi");
#elif defined(__aarch64__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  features.neon = (hwcap & HWCAP_ASIMD) != 0;
  features.dotprod = features.neon && (hwcap & HWCAP_ASIMDDP) != 0;
#endif
  return features;
}

}  // namespace

CpuFeatures CpuFeatures::capped(std::string_view level) const {
  CpuFeatures features = *this;
  if (level == "native") return features;
  EP_CHECK(level == "scalar" || level == "avx2" || level == "avx512",
           "EDGEPERF_MAX_ISA: unknown level '{}' (expected scalar, avx2, avx512 or native)", level);
  if (level != "avx512") {
    features.avx512 = features.avx512_vnni = features.avx512_vbmi = false;
  }
  if (level == "scalar") features = CpuFeatures{};
  return features;
}

CpuFeatures CpuFeatures::detect() {
  const char* cap = std::getenv("EDGEPERF_MAX_ISA");
  return cap == nullptr || *cap == '\0' ? read_cpu() : read_cpu().capped(cap);
}

const CpuFeatures& CpuFeatures::host() {
  static const CpuFeatures features = detect();
  return features;
}

std::string CpuFeatures::best() const {
  if (avx512_vnni) return "avx512_vnni";
  if (avx512) return "avx512";
  if (avx2_fma) return "avx2";
  if (dotprod) return "neon_dotprod";
  if (neon) return "neon";
  return "scalar";
}

}  // namespace edgeperf
