// The CPU features our kernels dispatch on, and the EDGEPERF_MAX_ISA cap.
#include "edgeperf/core/cpu_features.h"

#include <gtest/gtest.h>

#include "edgeperf/core/error.h"

namespace edgeperf {
namespace {

CpuFeatures everything() {
  return CpuFeatures{.avx2_fma = true,
                     .avx512 = true,
                     .avx512_vnni = true,
                     .avx512_vbmi = true,
                     .neon = true,
                     .dotprod = true};
}

TEST(CpuFeatures, CappingAtAvx2DropsEveryAvx512Feature) {
  const CpuFeatures capped = everything().capped("avx2");
  EXPECT_TRUE(capped.avx2_fma);
  EXPECT_FALSE(capped.avx512 || capped.avx512_vnni || capped.avx512_vbmi);
  EXPECT_EQ(capped.best(), "avx2");
}

TEST(CpuFeatures, CappingAtScalarDropsEverything) {
  EXPECT_EQ(everything().capped("scalar").best(), "scalar");
}

TEST(CpuFeatures, NativeAndAvx512KeepWhatTheCpuHas) {
  EXPECT_EQ(everything().capped("native").best(), "avx512_vnni");
  EXPECT_EQ(everything().capped("avx512").best(), "avx512_vnni");
}

TEST(CpuFeatures, BestNamesTheWidestLevel) {
  EXPECT_EQ((CpuFeatures{.avx2_fma = true, .avx512 = true}.best()), "avx512");
  EXPECT_EQ((CpuFeatures{.neon = true, .dotprod = true}.best()), "neon_dotprod");
  EXPECT_EQ(CpuFeatures{.neon = true}.best(), "neon");
  EXPECT_EQ(CpuFeatures{}.best(), "scalar");
}

TEST(CpuFeatures, AnUnknownCapIsAnErrorNamingTheVariable) {
  try {
    (void)everything().capped("avx3");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("EDGEPERF_MAX_ISA"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("avx3"), std::string::npos);
  }
}

TEST(CpuFeatures, TheHostAgreesWithDetect) {
  EXPECT_EQ(CpuFeatures::host().best(), CpuFeatures::detect().best());
}

}  // namespace
}  // namespace edgeperf
