#include "edgeperf/prune/scoring.h"

#include <fmt/format.h>

#include <cmath>

#include "edgeperf/core/error.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::prune {
namespace {

constexpr std::int64_t kRandomBatch = 1;
constexpr std::uint64_t kRandomSeed = 0;
// With labels the loss is the accuracy drop; output noise breaks ties between layers
// whose drop is equal (often 0 on a small set).
constexpr double kNoiseTieBreak = 1e-3;

ScoringData random_data(const graph::Graph& model,
                        const std::map<std::string, Shape>& input_shapes) {
  runtime::SessionOptions options;
  options.input_shapes = input_shapes;
  const runtime::Session session(model, options);
  ScoringData data;
  data.random_feeds = runtime::random_inputs(session, kRandomSeed, kRandomBatch);
  data.description =
      fmt::format("seeded random inputs (batch {}, seed {})", kRandomBatch, kRandomSeed);
  return data;
}

// Noise power relative to the signal: 10^(-SQNR/10), 0 when identical.
double relative_noise(const Tensor& reference, const Tensor& candidate) {
  const double sqnr = eval::sqnr_db(reference, candidate);
  return std::isinf(sqnr) ? 0.0 : std::pow(10.0, -sqnr / 10.0);
}

}  // namespace

ScoringData load_scoring_data(const std::string& spec, const graph::Graph& model,
                              const std::map<std::string, Shape>& input_shapes) {
  if (spec == "random") return random_data(model, input_shapes);
  EP_CHECK(model.inputs.size() == 1,
           "the model has {} inputs; a .npy dataset feeds models with one input (use 'random')",
           model.inputs.size());
  eval::LoadOptions load;
  load.require_labels = false;
  load.input = model.inputs.front();
  ScoringData data;
  data.dataset = eval::load_dataset(spec, load);
  data.description = fmt::format("{} {} samples from {}", data.dataset->size(),
                                 data.dataset->labeled() ? "labeled" : "unlabeled", spec);
  return data;
}

ModelScorer::ModelScorer(const graph::Graph& dense, ScoringData data) : data_(std::move(data)) {
  dense_output_ = run(dense);
  if (labeled()) dense_top1_ = eval::accuracy_of(dense_output_, *data_.dataset).top1;
}

Tensor ModelScorer::run(const graph::Graph& model) const {
  if (data_.dataset) return eval::Evaluator(*data_.dataset).outputs(model);
  return eval::first_output(model, data_.random_feeds);
}

Evaluation ModelScorer::operator()(const graph::Graph& candidate) const {
  const Tensor output = run(candidate);
  const double noise = relative_noise(dense_output_, output);
  if (!labeled()) return {eval::sqnr_db(dense_output_, output), noise};
  const double top1 = eval::accuracy_of(output, *data_.dataset).top1;
  return {top1, std::max(0.0, dense_top1_ - top1) + kNoiseTieBreak * noise};
}

}  // namespace edgeperf::prune
