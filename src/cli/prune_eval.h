#pragma once
// How `prune --sensitivity` and `ablate` score a candidate model: top-1 accuracy on a labeled
// set, or output fidelity (SQNR) against the dense model when there are no labels.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/prune/sensitivity.h"

namespace edgeperf::cli {

struct EvalData {
  std::map<std::string, Tensor> inputs;             // graph input name -> [N, ...]
  std::optional<std::vector<std::int64_t>> labels;  // N class indices, when known
  std::string description;                          // "360 labeled samples from DIR"
};

// `spec`: DIR (inputs.npy [+ labels.npy]), PREFIX (PREFIX_inputs.npy [+ PREFIX_labels.npy]),
// or "random" (seeded random inputs, batch 1, fidelity only).
EvalData load_scoring_data(const std::string& spec, const graph::Graph& model);

// Runs candidates on the data and compares them with the dense model's outputs.
class ModelScorer {
 public:
  ModelScorer(const graph::Graph& dense, EvalData data);
  std::string metric_name() const { return data_.labels ? "top1" : "sqnr_db"; }
  prune::Evaluation operator()(const graph::Graph& candidate) const;
  // The first output of `model` on the data.
  Tensor run(const graph::Graph& model) const;

 private:
  EvalData data_;
  Tensor dense_output_;
  double dense_top1_ = 0;
};

}  // namespace edgeperf::cli
