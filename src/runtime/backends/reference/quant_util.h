#pragma once
// Helpers shared by the quantized reference kernels (QuantizeLinear, QLinearConv,
// MatMulInteger, ...): scale and zero-point checks, rounding, saturation, requantization.
#include <cmath>
#include <cstdint>
#include <span>

#include "util.h"

namespace edgeperf::runtime::reference {

// Inclusive range of a quantized integer type.
struct QuantRange {
  std::int32_t lo = 0;
  std::int32_t hi = 255;
};
QuantRange quant_range(DType dtype);  // u8, i8 or i32

// round_half_even(value) + zero_point, saturated to `range`; NaN gives the zero point.
// std::nearbyint rounds half to even in the default rounding mode (ONNX's rule).
inline std::int32_t round_and_saturate(float value, std::int32_t zero_point, QuantRange range) {
  if (std::isnan(value)) return zero_point;
  const float shifted = std::nearbyint(value) + static_cast<float>(zero_point);
  if (shifted <= static_cast<float>(range.lo)) return range.lo;
  if (shifted >= static_cast<float>(range.hi)) return range.hi;
  return static_cast<std::int32_t>(shifted);
}

// ONNX QuantizeLinear on one value: saturate(round(x / scale) + zero_point).
inline std::int32_t quantize_value(float x, float scale, std::int32_t zero_point,
                                   QuantRange range) {
  return round_and_saturate(x / scale, zero_point, range);
}

// Output of an integer accumulation: saturate(round(acc * multiplier) + zero_point), the
// multiplier being (input scale * weight scale / output scale) computed in float.
inline std::int32_t requantize(std::int32_t acc, float multiplier, std::int32_t zero_point,
                               QuantRange range) {
  return round_and_saturate(static_cast<float>(acc) * multiplier, zero_point, range);
}

// Integer accumulation wraps around in 32 bits (ONNX allows that overflow) without
// undefined behaviour: sums are taken in uint32.
inline void accumulate(std::uint32_t& acc, std::int32_t product) {
  acc += static_cast<std::uint32_t>(product);
}

// Calls f(T{}) with T the C++ type of a quantized dtype (u8 or i8), else throws naming `name`.
template <typename F>
void dispatch_quantized(const graph::Node& node, DType dtype, const char* name, F&& f) {
  switch (dtype) {
    case DType::u8:
      f(std::uint8_t{});
      return;
    case DType::i8:
      f(std::int8_t{});
      return;
    default:
      fail("node {}: input '{}' must be uint8 or int8, got {}", node.label(), name,
           dtype_name(dtype));
  }
}

// Checks input `index` (a scale or zero point) holds one element (per tensor) or, when
// `axis_length` > 0, is the 1-D tensor of axis_length elements (per axis/channel).
// Returns true when it is per axis.
bool check_param_shape(const PrepareContext& context, std::size_t index, const char* name,
                       std::int64_t axis_length);
// Checks input `index` is a float scale; when it is a constant, checks its values too.
void check_scale_input(const PrepareContext& context, std::size_t index, const char* name,
                       bool divides);
// Checks every scale is finite and, when the op divides by it, non-zero. Throws naming the
// node, the input and the element at fault. Used at prepare time and on every run.
void check_scale_values(const graph::Node& node, const char* name, std::span<const float> scales,
                        bool divides);
// Checks zero point input `index` (when present) has the dtype `expected` of the tensor it
// belongs to (`owner` names that tensor in the message).
void check_zero_point_dtype(const PrepareContext& context, std::size_t index, const char* name,
                            DType expected, const char* owner);
// Checks a scale and its zero point (when present) have the same number of elements.
void check_same_param_count(const PrepareContext& context, std::size_t scale,
                            std::size_t zero_point);

// Zero point `index` of an optional u8/i8/i32 zero point tensor (absent or empty: 0).
std::int32_t zero_point_at(const Tensor& zero_points, std::int64_t index);
// Scale `index`, or scale 0 when the tensor holds one element (per tensor).
inline float scale_at(const Tensor& scales, std::int64_t index) {
  return scales.data<float>()[scales.numel() == 1 ? 0 : index];
}

// A kernel parallelized over RunContext::threads that reports the intermediate memory
// (an int32 accumulator) it holds.
std::unique_ptr<Kernel> make_workspace_kernel(ParallelRunFn run, std::size_t workspace_bytes);

}  // namespace edgeperf::runtime::reference
