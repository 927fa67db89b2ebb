#pragma once
// Affine quantization q = round(x / S) + Z, clamped to the type's range.
#include <cstdint>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/quant/calibration.h"

namespace edgeperf::quant {

struct QuantParams {
  DType dtype = DType::u8;               // i8 or u8
  std::vector<float> scale;              // one per tensor, or one per channel along `axis`
  std::vector<std::int32_t> zero_point;  // same length as scale
  std::int64_t axis = -1;                // -1: per tensor
  bool per_channel() const { return axis >= 0; }
};

// Parameters covering `range` (extended to contain 0). A zero-width range gets a
// positive scale, never 0 or NaN.
QuantParams params_for_range(Range range, QuantType type);
// Weight parameters, per tensor (axis = -1) or per channel along `axis`. An all-zero
// channel gets a positive scale. `bits` below 8 (int8_sym only) maps the range onto
// [-(2^(bits-1) - 1), 2^(bits-1) - 1] held in int8: 7 bits ([-63, 63]) is --reduce-range,
// which u8 x s8 kernels without VNNI (ONNX Runtime's and oneDNN's on AVX2) multiply
// without saturating their int16 pair sums; 4 bits ([-7, 7]) is --weight-bits 4.
QuantParams weight_params(const Tensor& weight, std::int64_t axis, QuantType type, int bits = 8);

Tensor quantize_tensor(const Tensor& x, const QuantParams& params);    // f32 -> i8/u8
Tensor dequantize_tensor(const Tensor& q, const QuantParams& params);  // i8/u8 -> f32
// Bias for a quantized Conv/Gemm: int32, scale = input_scale * weight_scale[c].
Tensor quantize_bias(const Tensor& bias, float input_scale, const QuantParams& weight);

}  // namespace edgeperf::quant
