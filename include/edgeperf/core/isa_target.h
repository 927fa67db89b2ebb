#pragma once
// Compiles the functions between EP_TARGET_BEGIN("isa,...") and EP_TARGET_END for that
// ISA, whatever the build's baseline (GCC's target pragma, clang's attribute push), so a
// kernel can have one version per ISA in one file and pick one at run time with
// CpuFeatures. Code in such a region runs only after a CpuFeatures check.
#define EP_ISA_PRAGMA(text) _Pragma(#text)
#if defined(__clang__)
#define EP_TARGET_BEGIN(isa) \
  EP_ISA_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define EP_TARGET_END EP_ISA_PRAGMA(clang attribute pop)
#else
#define EP_TARGET_BEGIN(isa) EP_ISA_PRAGMA(GCC push_options) EP_ISA_PRAGMA(GCC target(isa))
#define EP_TARGET_END EP_ISA_PRAGMA(GCC pop_options)
#endif

// The ISA sets our x86-64 kernels are compiled for.
#define EP_ISA_AVX2 "avx2,fma"
#define EP_ISA_AVX512 "avx2,fma,avx512f,avx512bw,avx512dq,avx512vl"
#define EP_ISA_AVX512_VNNI "avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni"
#define EP_ISA_AVX512_VBMI "avx2,fma,avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi"
