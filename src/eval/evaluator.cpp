#include "edgeperf/eval/evaluator.h"

#include <algorithm>
#include <cstring>

#include "edgeperf/core/error.h"

namespace edgeperf::eval {
namespace {

const graph::ValueInfo& single_input(const graph::Graph& model) {
  EP_CHECK(model.inputs.size() == 1, "model '{}' has {} inputs; a dataset feeds models with one",
           model.name, model.inputs.size());
  return model.inputs.front();
}

const Tensor& output_of(const std::map<std::string, Tensor>& outputs, const graph::Graph& model) {
  EP_CHECK(!model.outputs.empty() && outputs.count(model.outputs.front().name),
           "model '{}' produced no output", model.name);
  return outputs.at(model.outputs.front().name);
}

void copy_rows(const Tensor& rows, std::int64_t first, Tensor& stacked) {
  const std::size_t row_bytes = rows.nbytes() / static_cast<std::size_t>(rows.dim(0));
  std::memcpy(static_cast<std::byte*>(stacked.raw()) + row_bytes * static_cast<std::size_t>(first),
              rows.raw(), rows.nbytes());
}

}  // namespace

std::int64_t batch_size_for(const graph::ValueInfo& input, std::int64_t samples) {
  const bool symbolic_batch = !input.dims.empty() && !input.dims.front().is_static();
  return symbolic_batch ? std::clamp<std::int64_t>(samples, 1, kMaxBatch) : 1;
}

Tensor run_dataset(runtime::Session& session, const Dataset& data) {
  const graph::ValueInfo& input = single_input(session.graph());
  const std::int64_t batch = batch_size_for(input, data.size());
  Tensor stacked;
  for (std::int64_t first = 0; first < data.size(); first += batch) {
    const std::int64_t count = std::min(batch, data.size() - first);
    const Tensor out =
        output_of(session.run({{input.name, data.batch(first, count)}}), session.graph());
    EP_CHECK(out.rank() >= 1 && out.dim(0) == count,
             "model output '{}' has shape {} for a batch of {}", session.graph().outputs[0].name,
             shape_to_string(out.shape()), count);
    if (stacked.empty()) {
      Shape shape = out.shape();
      shape[0] = data.size();
      stacked = Tensor(out.dtype(), shape);
    }
    copy_rows(out, first, stacked);
  }
  return stacked;
}

Accuracy accuracy_of(const Tensor& outputs, const Dataset& data) {
  EP_CHECK(data.labeled(), "accuracy needs labels; the dataset has none");
  const std::int64_t n = data.size();
  return score(outputs.reshaped({n, outputs.numel() / n}), data.labels);
}

Tensor first_output(const graph::Graph& model, const std::map<std::string, Tensor>& feeds,
                    runtime::SessionOptions options) {
  for (const auto& [name, tensor] : feeds) options.input_shapes[name] = tensor.shape();
  runtime::Session session(model, std::move(options));
  return output_of(session.run(feeds), model);
}

Evaluator::Evaluator(Dataset data, runtime::SessionOptions options)
    : data_(std::move(data)), options_(std::move(options)) {
  EP_CHECK(data_.size() > 0, "the evaluation dataset is empty");
}

Tensor Evaluator::outputs(const graph::Graph& model) const {
  const graph::ValueInfo& input = single_input(model);
  runtime::SessionOptions options = options_;
  Shape batch_shape = data_.inputs.shape();
  batch_shape[0] = batch_size_for(input, data_.size());
  options.input_shapes[input.name] = batch_shape;
  runtime::Session session(model, std::move(options));
  return run_dataset(session, data_);
}

Accuracy Evaluator::accuracy(const graph::Graph& model) const {
  return accuracy_of(outputs(model), data_);
}

}  // namespace edgeperf::eval
