#pragma once
// The quantize pipeline: float model in, quantized standard-ONNX model out.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"
#include "edgeperf/quant/calibration.h"
#include "edgeperf/quant/qparams.h"

namespace edgeperf::quant {

// QuantizeLinear and DequantizeLinear exist from opset 10, their per-channel `axis` from
// opset 13: the opset int8 models are written at (older models are converted first).
inline constexpr std::int64_t kQdqOpset = 13;
inline constexpr const char* kQdqOpsetReason =
    "int8 quantization needs QuantizeLinear/DequantizeLinear with axis";

enum class QuantMode { dynamic, static_int8, fp16, int4_weight };
enum class QuantFormat { qdq, qoperator };
QuantMode parse_mode(std::string_view text);      // "dynamic" | "static" | "fp16" | "int4-weight"
QuantFormat parse_format(std::string_view text);  // "qdq" | "qoperator"

struct QuantizeOptions {
  QuantMode mode = QuantMode::static_int8;
  QuantFormat format = QuantFormat::qdq;
  bool per_channel = false;
  QuantType weights = QuantType::int8_sym;
  // 7-bit weights ([-63, 63]): exact in u8 x s8 kernels without VNNI (ONNX Runtime's and
  // oneDNN's on AVX2), at half the weight resolution.
  bool reduce_range = false;
  // Weights at fewer bits, held in int8 ([-7, 7] for 4): standard QDQ that ONNX Runtime and
  // the int8 kernels run, to measure what a 4-bit weight grid costs in accuracy.
  int weight_bits = 8;
  QuantType activations = QuantType::uint8_asym;
  MethodSpec method;
  CalibrationOptions calibration;
  std::set<std::string> exclude;  // node names kept in float; unknown names are an error
  bool bias_correction = true;
  bool equalize = true;      // cross-layer equalization for depthwise-separable pairs
  int int4_group_size = 64;  // MatMulNBits keeps f32 scales: 1/group of the FP32 size
};

// The weight grid's bits: 7 with reduce_range, else weight_bits.
inline int weight_bits_of(const QuantizeOptions& options) {
  return options.reduce_range ? 7 : options.weight_bits;
}

// One row of the per-layer report.
struct LayerReport {
  std::string node;
  std::string op_type;
  std::string precision;  // "int8", "fp32", "fp16", "int4"
  double sqnr_db = 0.0;   // of the layer output vs the float model; NaN when not measured
  std::string note;       // why it was kept in float, etc.
};

struct QuantizeResult {
  graph::Graph model;
  std::vector<LayerReport> layers;
  std::vector<std::string> log;  // one line per change made
  // The float model the rewrite quantized (after cross-layer equalization): the weights
  // quantization-aware training starts from.
  graph::Graph prepared;
};

// Throws Error for an already quantized model, unknown --exclude names, a missing
// calibration source in static mode, and bad calibration data.
QuantizeResult quantize_model(const graph::Graph& model, const QuantizeOptions& options,
                              SampleSource* calibration);

// Mixed precision: given layers' sensitivity, keep the most sensitive in float until
// `evaluate(model)` (an accuracy in points) is within `budget_points` of the float model.
struct MixedPrecisionDecision {
  std::string node;
  double sensitivity = 0.0;  // accuracy drop (points) when only this layer is quantized
  bool kept_float = false;
  std::string reason;
};
using EvaluateFn = std::function<double(const graph::Graph&)>;

}  // namespace edgeperf::quant
