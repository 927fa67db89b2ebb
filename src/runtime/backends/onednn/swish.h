#pragma once
// Swish (SiLU), y = x * sigmoid(x) = x / (1 + e^-x), over `count` floats; y may be x. It
// runs after a conv instead of oneDNN 2.6's swish post-op, which costs about twice as
// much per element on AVX-512 (see the note in ops/conv.cpp), and for a Sigmoid and Mul
// that no op before them took (ops/swish.cpp).
#include <cstdint>

namespace edgeperf::runtime::onednn {

// The oracle: std::exp, element by element.
void swish_scalar(const float* x, float* y, std::int64_t count);
// The widest version this CPU runs (AVX-512, AVX2 or the baseline, which is NEON on
// arm64), chosen at run time: no libm call, within 3e-7 of the oracle relative to |y|
// (1e-30 absolute where y underflows). NaN stays NaN; +inf gives +inf, -inf gives NaN
// (as -inf * 0 does).
void swish(const float* x, float* y, std::int64_t count);
// swish((q - zero_point) * scale) from 8-bit integers q (a DequantizeLinear's input).
struct Dequantization {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  bool is_signed = false;  // q are int8, else uint8
};
void swish_dequantized_scalar(const void* q, const Dequantization& dq, float* y,
                              std::int64_t count);
void swish_dequantized(const void* q, const Dequantization& dq, float* y, std::int64_t count);

// "avx512", "avx2" or "baseline": what swish runs here.
const char* swish_isa();

}  // namespace edgeperf::runtime::onednn
