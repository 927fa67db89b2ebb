#pragma once
// Recognizes the pieces of quantized graphs (QDQ and QOperator) that the oneDNN
// region lowers to int8 primitives: per-tensor activation quantization parameters
// and int8 weights hidden behind a DequantizeLinear the session folded away.
#include <dnnl.hpp>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/runtime/backend.h"
#include "node_specs.h"

namespace edgeperf::runtime::onednn {

// Whether oneDNN's int8 convolutions and inner products compute exact int32 sums with
// these s8 weights on this CPU. Without VNNI (AVX2, AVX-512 without VNNI) oneDNN
// multiplies with vpmaddubsw, which saturates the sum of two u8*s8 products to int16:
// exact only for 7-bit weights ([-64, 63], as `edgeperf quantize --reduce-range`
// writes); full-range weights give results off by tens of LSB. Where this is false the
// region runs the conv or gemm in f32 between DequantizeLinear and QuantizeLinear.
bool int8_products_exact(const Tensor& s8_weights);
bool cpu_has_vnni();

// real = scale * (q - zero_point), one scale for the whole tensor.
struct ActivationQuant {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  dnnl::memory::data_type type = dnnl::memory::data_type::u8;
};

// s8 weights with one scale per output channel (or one for all) and zero point 0.
struct QuantizedWeights {
  const Tensor* values = nullptr;
  std::vector<float> scales;  // size 1 or the extent of `axis`
  std::int64_t axis = 0;

  float scale(std::int64_t channel) const {
    return scales.size() == 1 ? scales[0] : scales[static_cast<std::size_t>(channel)];
  }
};

dnnl::memory::data_type dnnl_type(DType dtype);  // f32, u8, i8, i32; throws otherwise
bool is_int8(dnnl::memory::data_type type);

// DequantizeLinear of every byte value, as a [256] f32 tensor indexed by the byte (an s8
// value by its two's complement bits): the input of a byte table's computation.
Tensor dequantized_byte_values(const ActivationQuant& quant);

// DequantizeLinear of a runtime u8/s8 value with constant per-tensor parameters.
std::optional<ActivationQuant> parse_dequantize(const PlannedNode& node);
// QuantizeLinear of a runtime f32 value to u8/s8 with constant per-tensor parameters.
std::optional<ActivationQuant> parse_quantize(const PlannedNode& node);

// QLinearConv / QLinearMatMul with constant parameters: per-tensor input and output,
// s8 weights with zero zero points, per-tensor or per output channel.
struct QLinearSpec {
  ActivationQuant input;
  QuantizedWeights weights;
  ActivationQuant output;
  const Tensor* bias = nullptr;  // int32 [OC], accumulator units (QLinearConv only)
};
std::optional<QLinearSpec> parse_qlinear(const PlannedNode& node);

// The int8 weights behind `value` when the graph computes it as DequantizeLinear of
// an s8 constant with zero zero points (per-tensor, or per-channel on `axis`), as
// the session recorded it when it folded that DequantizeLinear.
std::optional<QuantizedWeights> find_quantized_weights(const LoweringInput& input,
                                                       const std::string& value);

// Relu and Clip commute with q = y / scale + zero_point: they become clips of the
// quantized value with bounds lo / scale + zero_point. Others give nullopt.
std::optional<std::vector<EltwiseOp>> quantized_activation(const std::vector<EltwiseOp>& ops,
                                                           float scale, std::int32_t zero_point);

}  // namespace edgeperf::runtime::onednn
