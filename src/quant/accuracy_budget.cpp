#include "edgeperf/quant/accuracy_budget.h"

#include <map>
#include <set>
#include <string>

namespace edgeperf::quant {
namespace {

// Every quantized layer, with its measured SQNR (the tie break between equal sensitivities).
void quantized_layers(const QuantizeResult& result, std::vector<std::string>& layers,
                      std::map<std::string, double>& sqnr) {
  for (const LayerReport& layer : result.layers) {
    if (layer.precision == "fp32") continue;
    layers.push_back(layer.node);
    if (!std::isnan(layer.sqnr_db)) sqnr[layer.node] = layer.sqnr_db;
  }
}

void note_kept_layers(const std::vector<MixedPrecisionDecision>& decisions,
                      QuantizeResult& result) {
  for (LayerReport& layer : result.layers) {
    for (const MixedPrecisionDecision& decision : decisions) {
      if (decision.node == layer.node && decision.kept_float) {
        layer.note = "kept float by mixed precision: " + decision.reason;
      }
    }
  }
}

}  // namespace

double accuracy_points(const eval::Evaluator& held_out, const graph::Graph& model) {
  const eval::Accuracy accuracy = held_out.accuracy(model);
  return 100.0 * static_cast<double>(accuracy.top1_correct) / static_cast<double>(accuracy.samples);
}

AccuracyBudgetResult fit_accuracy_budget(const graph::Graph& model, QuantizeOptions& options,
                                         QuantizeResult& result, const QuantizeFn& quantize,
                                         const eval::Evaluator& held_out, double budget_points) {
  std::vector<std::string> layers;
  std::map<std::string, double> sqnr;
  quantized_layers(result, layers, sqnr);
  const std::set<std::string> user_excluded = options.exclude;
  const auto build = [&](const std::set<std::string>& float_layers) {
    QuantizeOptions trial = options;
    trial.calibration.progress = nullptr;
    trial.exclude.insert(float_layers.begin(), float_layers.end());
    return quantize(trial).model;
  };
  const auto evaluate = [&](const graph::Graph& graph) { return accuracy_points(held_out, graph); };
  AccuracyBudgetResult outcome;
  outcome.decisions = choose_mixed_precision(layers, build, evaluate, budget_points, sqnr);
  std::set<std::string> kept = user_excluded;
  for (const MixedPrecisionDecision& decision : outcome.decisions) {
    if (decision.kept_float) kept.insert(decision.node);
  }
  if (kept != user_excluded) {
    options.exclude = kept;
    result = quantize(options);
    note_kept_layers(outcome.decisions, result);
  }
  outcome.float_accuracy = accuracy_points(held_out, model);
  outcome.quantized_accuracy = accuracy_points(held_out, result.model);
  return outcome;
}

}  // namespace edgeperf::quant
