#pragma once
// What the CPU running us can do, read at run time, so that one binary runs each of our
// kernels' fastest version on whatever machine it lands on (cpuid on x86-64, AT_HWCAP on
// arm64). The build targets a baseline ISA; nothing here depends on the build machine.
//
// EDGEPERF_MAX_ISA=scalar|avx2|avx512 caps what is reported, so the lower kernel
// versions can be run and compared on a bigger CPU.
#include <string>
#include <string_view>

namespace edgeperf {

struct CpuFeatures {
  bool avx2_fma = false;     // AVX2 and FMA (x86-64-v3's vector part)
  bool avx512 = false;       // AVX-512 F, BW, DQ and VL (x86-64-v4)
  bool avx512_vnni = false;  // with avx512
  bool avx512_vbmi = false;  // with avx512
  bool neon = false;         // AdvSIMD: every arm64 CPU
  bool dotprod = false;      // SDOT/UDOT: Cortex-A76 and later, not the A72

  // This CPU's features, capped by EDGEPERF_MAX_ISA when it is set.
  static CpuFeatures detect();
  // detect(), read once per process.
  static const CpuFeatures& host();
  // These features with everything above `level` turned off: "scalar", "avx2",
  // "avx512" or "native" (no cap). Throws on another name.
  CpuFeatures capped(std::string_view level) const;
  // The widest level present: "avx512_vnni", "avx512", "avx2", "neon_dotprod", "neon"
  // or "scalar".
  std::string best() const;
};

}  // namespace edgeperf
