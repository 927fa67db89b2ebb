#pragma once
// Runs models over a dataset with one batching policy and scores what comes out.
#include <cstdint>
#include <map>
#include <string>

#include "edgeperf/eval/dataset.h"
#include "edgeperf/eval/metrics.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::eval {

// The batching policy: a model whose batch dimension is symbolic takes up to kMaxBatch
// samples per run, a model with a fixed batch one sample per run.
inline constexpr std::int64_t kMaxBatch = 32;
std::int64_t batch_size_for(const graph::ValueInfo& input, std::int64_t samples);

// The first output of `session` (a model with one input) over every sample, stacked [N, ...].
Tensor run_dataset(runtime::Session& session, const Dataset& data);
// Accuracy of stacked outputs [N, ...] (flattened to [N, classes]) against the labels.
Accuracy accuracy_of(const Tensor& outputs, const Dataset& data);
// The first output of `model` on `feeds` run as they are (one run).
Tensor first_output(const graph::Graph& model, const std::map<std::string, Tensor>& feeds,
                    runtime::SessionOptions options = {});

// Evaluates any number of models on one dataset.
class Evaluator {
 public:
  explicit Evaluator(Dataset data, runtime::SessionOptions options = {});
  const Dataset& data() const { return data_; }
  // The first output of `model` over every sample, [N, ...].
  Tensor outputs(const graph::Graph& model) const;
  // Needs a labeled dataset.
  Accuracy accuracy(const graph::Graph& model) const;

 private:
  Dataset data_;
  runtime::SessionOptions options_;
};

}  // namespace edgeperf::eval
