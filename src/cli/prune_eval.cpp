#include "prune_eval.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "edgeperf/bench/dataset.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/npy.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kRandomBatch = 1;
constexpr std::uint64_t kRandomSeed = 0;
// With labels the loss is the accuracy drop; output noise breaks ties between layers
// whose drop is equal (often 0 on a small set).
constexpr double kNoiseTieBreak = 1e-3;

const std::string& single_input(const graph::Graph& model, const std::string& spec) {
  EP_CHECK(model.inputs.size() == 1,
           "--sensitivity {}: the model has {} inputs; a .npy dataset "
           "feeds models with one input (use 'random')",
           spec, model.inputs.size());
  return model.inputs[0].name;
}

EvalData random_data(const graph::Graph& model) {
  const runtime::Session session(model);
  EvalData data;
  data.inputs = runtime::random_inputs(session, kRandomSeed, kRandomBatch);
  data.description =
      fmt::format("seeded random inputs (batch {}, seed {})", kRandomBatch, kRandomSeed);
  return data;
}

Tensor first_output(const std::map<std::string, Tensor>& outputs, const graph::Graph& model) {
  EP_CHECK(!model.outputs.empty() && outputs.count(model.outputs[0].name),
           "model '{}' produced no output", model.name);
  return outputs.at(model.outputs[0].name);
}

double relative_noise(const Tensor& reference, const Tensor& candidate) {
  const double sqnr = bench::compare_outputs(reference, candidate).sqnr_db;
  return std::isinf(sqnr) ? 0.0 : std::pow(10.0, -sqnr / 10.0);
}

}  // namespace

EvalData load_scoring_data(const std::string& spec, const graph::Graph& model) {
  if (spec == "random") return random_data(model);
  const fs::path path(spec);
  const bool directory = fs::is_directory(path);
  const fs::path inputs = directory ? path / "inputs.npy" : fs::path(spec + "_inputs.npy");
  const fs::path labels = directory ? path / "labels.npy" : fs::path(spec + "_labels.npy");
  EP_CHECK(fs::exists(inputs),
           "--sensitivity {}: no {} (give DIR with inputs.npy, a PREFIX "
           "with PREFIX_inputs.npy, or 'random')",
           spec, inputs.string());
  EvalData data;
  const std::string& input = single_input(model, spec);
  if (fs::exists(labels)) {
    bench::Dataset dataset = bench::load_dataset(path);
    data.inputs[input] = dataset.inputs;
    data.labels = dataset.labels;
    data.description = fmt::format("{} labeled samples from {}", dataset.size(), spec);
  } else {
    data.inputs[input] = read_npy(inputs);
    data.description = fmt::format("{} unlabeled samples from {}", data.inputs[input].dim(0), spec);
  }
  return data;
}

ModelScorer::ModelScorer(const graph::Graph& dense, EvalData data) : data_(std::move(data)) {
  dense_output_ = run(dense);
  if (data_.labels) dense_top1_ = bench::score(dense_output_, *data_.labels).top1;
}

Tensor ModelScorer::run(const graph::Graph& model) const {
  runtime::SessionOptions options;
  for (const auto& [name, tensor] : data_.inputs) options.input_shapes[name] = tensor.shape();
  runtime::Session session(model, options);
  return first_output(session.run(data_.inputs), model);
}

prune::Evaluation ModelScorer::operator()(const graph::Graph& candidate) const {
  const Tensor output = run(candidate);
  const double noise = relative_noise(dense_output_, output);
  if (!data_.labels) {
    return {bench::compare_outputs(dense_output_, output).sqnr_db, noise};
  }
  const double top1 = bench::score(output, *data_.labels).top1;
  return {top1, std::max(0.0, dense_top1_ - top1) + kNoiseTieBreak * noise};
}

}  // namespace edgeperf::cli
