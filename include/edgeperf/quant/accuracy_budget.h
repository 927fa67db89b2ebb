#pragma once
// Quantization under an accuracy budget: after a first quantization, layers are kept in
// float (most sensitive first) until the held-out top-1 accuracy is within the budget of
// the float model's.
#include <cmath>
#include <functional>
#include <vector>

#include "edgeperf/eval/evaluator.h"
#include "edgeperf/quant/quality.h"
#include "edgeperf/quant/quantize.h"

namespace edgeperf::quant {

struct AccuracyBudgetResult {
  std::vector<MixedPrecisionDecision> decisions;
  double float_accuracy = NAN;  // top-1 in points (0..100)
  double quantized_accuracy = NAN;
};

// Quantizes `model` with the given options (a fresh pass over the calibration data per call).
using QuantizeFn = std::function<QuantizeResult(const QuantizeOptions&)>;

// `result` is `quantize(options)`. On return, `options.exclude` and `result` hold the
// mixed-precision choice, each layer kept in float noted with the reason.
AccuracyBudgetResult fit_accuracy_budget(const graph::Graph& model, QuantizeOptions& options,
                                         QuantizeResult& result, const QuantizeFn& quantize,
                                         const eval::Evaluator& held_out, double budget_points);

// Top-1 accuracy of `model` on the evaluator's labeled data, in points (0..100).
double accuracy_points(const eval::Evaluator& held_out, const graph::Graph& model);

}  // namespace edgeperf::quant
