#pragma once
// Quality tools of quantization: cross-layer equalization, bias correction, per-layer
// SQNR and mixed-precision selection.
#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/quant/calibration.h"
#include "edgeperf/quant/quantize.h"

namespace edgeperf::quant {

// ---- Cross-layer equalization (Nagel et al., "Data-Free Quantization", 2019) ----
//
// For Conv A -> [Relu | LeakyRelu | Clip(0, inf) | nothing] -> Conv B (A may also be a
// com.microsoft FusedConv with that activation and no sum input; B a FusedConv, any
// group count, depthwise included), output channel i of A is
// scaled by 1/s_i (weights and bias) and input channel i of B by s_i, with
// s_i = sqrt(r1_i / r2_i) on the channels' max |w|. Relu commutes with positive scaling,
// (as does LeakyRelu), so the float output is unchanged. Clip(0, 6) (ReLU6) does not: its bound
// would have to become 6 / s_i per channel, which one Clip node cannot express, so such pairs are
// skipped unless `relu6_as_relu` accepts the changed clipping (the DFQ paper's choice).
struct EqualizationOptions {
  bool relu6_as_relu = false;
  int iterations = 4;  // passes over all pairs; chains (A -> B -> C) converge over passes
};

struct EqualizedPair {
  std::string first;  // node names
  std::string second;
  std::string activation;  // "", "Relu", "LeakyRelu" or "Clip" (standalone or fused)
  // Spread of per-channel ranges (max / min nonzero max|w| over the equalized channels)
  // of A's output channels and B's input channels, before and after.
  double first_spread_before = 0.0;
  double first_spread_after = 0.0;
  double second_spread_before = 0.0;
  double second_spread_after = 0.0;
};

struct EqualizationReport {
  std::vector<EqualizedPair> pairs;
  std::vector<std::string> skipped;  // "conv1 -> conv2: separated by Clip(0, 6)"
};

// Equalizes every matching pair in `model` in place. Weights are replaced by new tensors
// (storage shared with other graphs is never written).
EqualizationReport equalize_cross_layer(graph::Graph& model,
                                        const EqualizationOptions& options = {});

// ---- Bias correction ----
//
// The quantized layer's expected output error is (W_q - W) . E[x]; subtracting it from
// the bias removes it: b' = b - (W_q - W) . E[x]. `input_means` are E[x] per input
// channel (ValueStatistics::channel_means of the layer's input). Zero padding at borders
// is ignored (E[x] is taken as constant over the window).

// Conv weight [O, I / group, k...]; bias [O] or an empty Tensor (zeros).
Tensor corrected_conv_bias(const Tensor& weight, const Tensor& dequantized_weight,
                           const Tensor& bias, const std::vector<double>& input_means,
                           std::int64_t group);
// 2-D weight of MatMul / Gemm: [K, N] when !transposed (MatMul, Gemm transB=0), [N, K]
// when transposed (Gemm transB=1); bias [N] or empty.
Tensor corrected_matmul_bias(const Tensor& weight, const Tensor& dequantized_weight,
                             const Tensor& bias, const std::vector<double>& input_means,
                             bool transposed);

// ---- Per-layer SQNR ----
struct LayerSqnr {
  std::string node;  // float-graph node producing the value
  std::string op_type;
  std::string value;     // float-graph value compared
  double sqnr_db = 0.0;  // over all samples: 10 log10(sum ref^2 / sum err^2)
};

// Runs both graphs on up to `max_samples` samples (0: all) and compares each float value
// with its quantized-graph counterpart (`value_pairs`: float value -> quantized value).
// Rows come in the float graph's node order.
std::vector<LayerSqnr> per_layer_sqnr(const graph::Graph& float_model,
                                      const graph::Graph& quantized_model,
                                      const std::map<std::string, std::string>& value_pairs,
                                      SampleSource& samples, std::size_t max_samples = 0);

// A readable table: node, op, value, SQNR (dB), lowest SQNR flagged.
std::string format_sqnr_table(const std::vector<LayerSqnr>& rows);

// SQNR (dB) of every output of `candidate` against `reference` over `samples`, summed
// over outputs and samples (for mixed precision without labels).
double output_sqnr_db(const graph::Graph& reference, const graph::Graph& candidate,
                      const std::vector<std::map<std::string, Tensor>>& samples);

// ---- Mixed precision ----
//
// `build_model(float_layers)` returns the model with exactly those layers kept in float
// and every other layer of `layers` quantized. The float accuracy is measured with all
// layers float; a layer's sensitivity is the drop when only it is quantized. Layers are
// then kept in float, most sensitive first (ties: lower SQNR in `layer_sqnr_db` first),
// until the model with all other layers quantized is within `budget_points` of float.
std::vector<MixedPrecisionDecision> choose_mixed_precision(
    const std::vector<std::string>& layers,
    const std::function<graph::Graph(const std::set<std::string>& float_layers)>& build_model,
    const EvaluateFn& evaluate, double budget_points,
    const std::map<std::string, double>& layer_sqnr_db = {});

// Without labels: `output_sqnr(model)` is the model output's SQNR in dB against float.
// A layer's sensitivity is that SQNR when only it is quantized (stored negated in
// MixedPrecisionDecision::sensitivity so larger means more sensitive); layers are kept in
// float, lowest SQNR first, until the model's output SQNR is >= `min_sqnr_db`.
std::vector<MixedPrecisionDecision> choose_mixed_precision_by_sqnr(
    const std::vector<std::string>& layers,
    const std::function<graph::Graph(const std::set<std::string>& float_layers)>& build_model,
    const std::function<double(const graph::Graph&)>& output_sqnr, double min_sqnr_db);

}  // namespace edgeperf::quant
