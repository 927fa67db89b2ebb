// The roofline's peak, measured: a loop of independent multiply-accumulates at the
// widest f32 and int8 instructions this CPU runs (chosen at run time), on every thread at
// once. It replaces an assumed count of vector units, which is wrong on CPUs that split
// 512-bit instructions in two (AMD Zen 4) and unknown on new ones.
#include "peak_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "edgeperf/core/clock.h"

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

namespace edgeperf::bench {
namespace {

constexpr std::int64_t kIterations = 1 << 20;

// Each returns the MACs it did; `sink` keeps the work from being optimized away.
using PeakLoop = double (*)(std::int64_t iterations, float* sink);

double scalar_f32(std::int64_t iterations, float* sink) {
  float a[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (float& x : a) x = x * 0.999999f + 1e-6f;
  }
  *sink = a[0] + a[7];
  return static_cast<double>(iterations) * 8;
}

#if defined(__x86_64__)
// Twelve accumulators cover FMA latency x units on current cores.
__attribute__((target("avx512f"))) double avx512_f32(std::int64_t iterations, float* sink) {
  __m512 acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm512_set1_ps(static_cast<float>(k));
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (auto& a : acc) a = _mm512_fmadd_ps(a, b, c);
  }
  for (int k = 1; k < 12; ++k) acc[0] = _mm512_add_ps(acc[0], acc[k]);
  float out[16];
  _mm512_storeu_ps(out, acc[0]);
  *sink = out[0] + out[15];
  return static_cast<double>(iterations) * 12 * 16;
}

__attribute__((target("avx2,fma"))) double avx2_f32(std::int64_t iterations, float* sink) {
  __m256 acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_ps(static_cast<float>(k));
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (auto& a : acc) a = _mm256_fmadd_ps(a, b, c);
  }
  for (int k = 1; k < 12; ++k) acc[0] = _mm256_add_ps(acc[0], acc[k]);
  float out[8];
  _mm256_storeu_ps(out, acc[0]);
  *sink = out[0] + out[7];
  return static_cast<double>(iterations) * 12 * 8;
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) double avx512_vnni_int8(
    std::int64_t iterations, float* sink) {
  __m512i acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = _mm512_set1_epi32(k);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (auto& x : acc) x = _mm512_dpbusd_epi32(x, a, b);
  }
  for (int k = 1; k < 12; ++k) acc[0] = _mm512_add_epi32(acc[0], acc[k]);
  std::int32_t out[16];
  _mm512_storeu_si512(out, acc[0]);
  *sink = static_cast<float>(out[0] + out[15]);
  return static_cast<double>(iterations) * 12 * 64;
}

// u8 x s8 pairs to i16, pairs of i16 to i32: the AVX2 int8 dot product (32 MACs).
__attribute__((target("avx2"))) double avx2_int8(std::int64_t iterations, float* sink) {
  __m256i acc[8];
  for (int k = 0; k < 8; ++k) acc[k] = _mm256_set1_epi32(k);
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (auto& x : acc) {
      x = _mm256_add_epi32(x, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones));
    }
  }
  for (int k = 1; k < 8; ++k) acc[0] = _mm256_add_epi32(acc[0], acc[k]);
  *sink = static_cast<float>(_mm256_extract_epi32(acc[0], 0));
  return static_cast<double>(iterations) * 8 * 32;
}
#elif defined(__aarch64__)
double neon_f32(std::int64_t iterations, float* sink) {
  float32x4_t acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = vdupq_n_f32(static_cast<float>(k));
  const float32x4_t b = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-6f);
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (auto& a : acc) a = vfmaq_f32(c, a, b);
  }
  for (int k = 1; k < 12; ++k) acc[0] = vaddq_f32(acc[0], acc[k]);
  *sink = vaddvq_f32(acc[0]);
  return static_cast<double>(iterations) * 12 * 4;
}

__attribute__((target("arch=armv8.2-a+dotprod"))) double neon_dotprod_int8(std::int64_t iterations,
                                                                           float* sink) {
  int32x4_t acc[12];
  for (int k = 0; k < 12; ++k) acc[k] = vdupq_n_s32(k);
  const int8x16_t a = vdupq_n_s8(3), b = vdupq_n_s8(-2);
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (auto& x : acc) x = vdotq_s32(x, a, b);
  }
  for (int k = 1; k < 12; ++k) acc[0] = vaddq_s32(acc[0], acc[k]);
  *sink = static_cast<float>(vaddvq_s32(acc[0]));
  return static_cast<double>(iterations) * 12 * 16;
}
#endif

struct Choice {
  PeakLoop loop;
  const char* name;
};

Choice f32_choice() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return {avx512_f32, "avx512f FMA"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {avx2_f32, "avx2 FMA"};
  }
#elif defined(__aarch64__)
  return {neon_f32, "neon FMLA"};
#endif
  return {scalar_f32, "scalar"};
}

Choice int8_choice() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) {
    return {avx512_vnni_int8, "avx512_vnni VPDPBUSD"};
  }
  if (__builtin_cpu_supports("avx2")) return {avx2_int8, "avx2 VPMADDUBSW+VPMADDWD"};
#elif defined(__aarch64__)
  if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) return {neon_dotprod_int8, "neon SDOT"};
#endif
  return {nullptr, "none"};
}

// Best of three timed rounds of `loop` on `threads` threads at once, GMAC/s.
double measure(PeakLoop loop, int threads) {
  if (loop == nullptr) return 0;
  double best = 0;
  float sink = 0;
  for (int round = 0; round < 3; ++round) {
    double macs = 0;
    const Stopwatch clock;
#pragma omp parallel num_threads(threads) reduction(+ : macs)
    {
      float local = 0;
      macs += loop(kIterations, &local);
#pragma omp atomic
      sink += local;
    }
    const double seconds = clock.elapsed_seconds();
    best = std::max(best, macs / seconds / 1e9);
  }
  asm volatile("" : : "r"(&sink) : "memory");
  return best;
}

}  // namespace

MeasuredPeak measure_peak_gmacs(int threads) {
  const Choice f32 = f32_choice();
  const Choice int8 = int8_choice();
  return {measure(f32.loop, threads), measure(int8.loop, threads), f32.name, int8.name};
}

}  // namespace edgeperf::bench
