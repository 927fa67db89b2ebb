#pragma once
// How a sensitivity scan scores a candidate model: top-1 accuracy on a labeled set, or output
// fidelity (SQNR) against the dense model when there are no labels.
#include <map>
#include <optional>
#include <string>

#include "edgeperf/eval/evaluator.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/prune/sensitivity.h"

namespace edgeperf::prune {

struct ScoringData {
  std::optional<eval::Dataset> dataset;        // samples of a data spec, labeled or not
  std::map<std::string, Tensor> random_feeds;  // or seeded random inputs (any input count)
  std::string description;                     // "360 labeled samples from DIR"
};

// `spec`: a data spec (eval::resolve_data; labels optional) for a model with one input, or
// "random" (seeded random inputs, batch 1, fidelity only; `input_shapes` binds open dims).
ScoringData load_scoring_data(const std::string& spec, const graph::Graph& model,
                              const std::map<std::string, Shape>& input_shapes = {});

// Runs candidates on the data and compares them with the dense model's outputs.
class ModelScorer {
 public:
  ModelScorer(const graph::Graph& dense, ScoringData data);
  std::string metric_name() const { return labeled() ? "top1" : "sqnr_db"; }
  Evaluation operator()(const graph::Graph& candidate) const;
  // The first output of `model` on the data.
  Tensor run(const graph::Graph& model) const;

 private:
  bool labeled() const { return data_.dataset && data_.dataset->labeled(); }

  ScoringData data_;
  Tensor dense_output_;
  double dense_top1_ = 0;
};

}  // namespace edgeperf::prune
