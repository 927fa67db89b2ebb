#pragma once
// Sensitivity scan: prune one layer at a time at several sparsities, measure what that
// costs (accuracy or output fidelity, through a caller-given evaluator), then pick per-layer
// sparsities that reach a global target with the least estimated loss.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "edgeperf/prune/prune.h"

namespace edgeperf::prune {

inline const std::vector<double> kSensitivityLevels = {0.3, 0.5, 0.7, 0.8, 0.9};

struct Evaluation {
  double metric = 0;  // what the user reads: top-1 accuracy, or SQNR in dB vs the dense model
  double loss = 0;    // >= 0, additive across layers as an estimate: lower is better
};
// Measures a candidate model (for example its accuracy on a held-out set).
using Evaluator = std::function<Evaluation(const graph::Graph& model)>;

struct SensitivityRow {
  std::string node;
  std::int64_t params = 0;
  std::vector<Evaluation> at_level;  // one per SensitivityResult::levels
  double chosen = 0;                 // the sparsity picked for this layer
};

struct SensitivityResult {
  std::string metric_name;  // "top1" or "sqnr_db"
  Evaluation dense;
  std::vector<double> levels;
  std::vector<SensitivityRow> rows;
  double target = 0;          // requested sparsity over the scanned layers
  double estimated_loss = 0;  // sum of the chosen levels' losses (interpolated)
  std::map<std::string, double> chosen() const;
};

// Scans every layer prune_model() would prune with `options` (exclusions apply), each alone
// at each level (plus `options.sparsity` itself when above the last level), then chooses
// per-layer ratios reaching `options.sparsity` over those layers.
SensitivityResult sensitivity_scan(const graph::Graph& graph, const PruneOptions& options,
                                   const Evaluator& evaluate, const std::string& metric_name);

// Per-layer sparsities with sum(params * s) = target * sum(params) and the least summed loss:
// greedy on loss per pruned weight over each layer's lower convex hull of (sparsity, loss),
// the last step interpolated so the target is met exactly. Fills rows[i].chosen.
double choose_layer_sparsities(std::vector<SensitivityRow>& rows, const std::vector<double>& levels,
                               double target);

}  // namespace edgeperf::prune
