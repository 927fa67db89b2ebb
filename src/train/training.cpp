// The training loop shared by QAT and fine-tuning: deterministic batches, the loss
// (cross-entropy, distillation or both), Adam, and per-epoch held-out accuracy.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "edgeperf/core/error.h"
#include "edgeperf/train/train.h"
#include "torch_ops.h"
#include "trainable_graph.h"

namespace edgeperf::train {
namespace {

using detail::TrainableGraph;

constexpr std::int64_t kEvalBatch = 256;

// Same seed, same order on every platform (std::shuffle's algorithm is unspecified).
std::vector<std::int64_t> shuffled(std::int64_t count, std::mt19937_64& rng) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  for (std::int64_t i = count - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

void configure_engine(const TrainOptions& options) {
  at::set_num_threads(options.threads);
  at::globalContext().setDeterministicAlgorithms(true, false);
  torch::manual_seed(options.seed);
}

void check_options(const TrainOptions& options) {
  EP_CHECK(options.epochs >= 0, "--epochs must be 0 or more (got {})", options.epochs);
  EP_CHECK(options.batch >= 1, "--batch must be at least 1 (got {})", options.batch);
  EP_CHECK(options.threads >= 1, "--threads must be at least 1 (got {})", options.threads);
  EP_CHECK(options.lr > 0 && std::isfinite(options.lr), "--lr must be positive (got {})",
           options.lr);
  EP_CHECK(options.temperature > 0, "--temperature must be positive (got {})", options.temperature);
  EP_CHECK(options.alpha >= 0 && options.alpha <= 1, "--alpha must be in [0, 1] (got {})",
           options.alpha);
}

std::string shape_text(const at::Tensor& tensor) {
  return fmt::format("[{}]", fmt::join(tensor.sizes(), ", "));
}

// Runs `graph` over every sample of `inputs` in batches, without gradients.
at::Tensor predict(const TrainableGraph& graph, const at::Tensor& inputs) {
  const at::NoGradGuard no_grad;
  const std::int64_t batch = graph.fixed_batch().value_or(kEvalBatch);
  std::vector<at::Tensor> parts;
  for (std::int64_t first = 0; first < inputs.size(0); first += batch) {
    parts.push_back(graph.forward(inputs.slice(0, first, first + batch)).detach());
  }
  return at::cat(parts, 0);
}

double accuracy(const TrainableGraph& graph, const eval::Dataset& data) {
  const at::Tensor logits = predict(graph, detail::view_torch(data.inputs));
  EP_CHECK(logits.dim() == 2, "the model's output {} is not [samples, classes]",
           shape_text(logits));
  const at::Tensor predicted = logits.argmax(1);
  std::int64_t correct = 0;
  const auto* classes = predicted.data_ptr<std::int64_t>();
  for (std::size_t row = 0; row < data.labels.size(); ++row) {
    correct += classes[row] == data.labels[row] ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(data.labels.size());
}

// The teacher reads the student's samples: the same per-sample shape where it is static.
void check_teacher_input(const graph::ValueInfo& input, const eval::Dataset& train) {
  const Shape sample = train.sample_shape();
  if (!input.has_shape || input.dims.size() != sample.size() + 1) return;
  for (std::size_t axis = 0; axis < sample.size(); ++axis) {
    const graph::Dim& dim = input.dims[axis + 1];
    EP_CHECK(!dim.is_static() || dim.size == sample[axis],
             "the teacher's input {} does not take the training samples [{}]", input.to_string(),
             fmt::join(sample, ", "));
  }
}

// The training data, checked against the student's output: labels are class indices of
// its [samples, classes] logits.
struct Batches {
  at::Tensor inputs;
  at::Tensor labels;          // int64 [N], undefined without labels
  at::Tensor teacher_logits;  // [N, classes], undefined without a teacher
};

Batches prepare_data(const TrainableGraph& student, const TrainInputs& inputs,
                     const TrainableGraph* teacher) {
  const eval::Dataset& train = *inputs.train;
  EP_CHECK(train.size() > 0, "the training set has no samples");
  Batches batches;
  batches.inputs = detail::view_torch(train.inputs);
  EP_CHECK(std::all_of(train.inputs.shape().begin(), train.inputs.shape().end(),
                       [](std::int64_t d) { return d > 0; }),
           "the training set has an empty sample shape");
  const at::Tensor probe = [&] {
    const at::NoGradGuard no_grad;
    return student.forward(batches.inputs.slice(0, 0, 1));
  }();
  EP_CHECK(probe.dim() == 2,
           "the model's output {} is not [samples, classes]: training needs "
           "a classifier's logits",
           shape_text(probe));
  const std::int64_t classes = probe.size(1);
  if (train.labeled()) {
    EP_CHECK(static_cast<std::int64_t>(train.labels.size()) == train.size(),
             "the training set has {} inputs but {} labels", train.size(), train.labels.size());
    for (std::size_t row = 0; row < train.labels.size(); ++row) {
      EP_CHECK(train.labels[row] >= 0 && train.labels[row] < classes,
               "training label {} at row {} is out of range for the model's {} classes",
               train.labels[row], row, classes);
    }
    batches.labels = at::tensor(train.labels, at::kLong);
  }
  if (teacher != nullptr) {
    check_teacher_input(teacher->graph().inputs.front(), train);
    const at::Tensor teacher_probe = with_error_context("the teacher", [&] {
      const at::NoGradGuard no_grad;
      return teacher->forward(batches.inputs.slice(0, 0, 1));
    });
    EP_CHECK(teacher_probe.sizes() == probe.sizes(),
             "the teacher's output {} does not match the student's {}", shape_text(teacher_probe),
             shape_text(probe));
    batches.teacher_logits = predict(*teacher, batches.inputs);
  }
  EP_CHECK(batches.labels.defined() || batches.teacher_logits.defined(),
           "nothing to learn from: the training set has no labels and there is no teacher");
  return batches;
}

at::Tensor distillation_loss(const at::Tensor& student, const at::Tensor& teacher,
                             double temperature) {
  const at::Tensor target = at::softmax(teacher / temperature, 1);
  const at::Tensor log_student = at::log_softmax(student / temperature, 1);
  const at::Tensor log_target = at::log_softmax(teacher / temperature, 1);
  return (target * (log_target - log_student)).sum(1).mean() * (temperature * temperature);
}

at::Tensor batch_loss(const at::Tensor& logits, const Batches& data, const at::Tensor& rows,
                      const TrainOptions& options) {
  const bool labeled = data.labels.defined();
  const bool distilled = data.teacher_logits.defined();
  at::Tensor loss = at::zeros({}, at::kFloat);
  if (labeled) {
    const double weight = distilled ? 1.0 - options.alpha : 1.0;
    loss = loss + at::cross_entropy_loss(logits, data.labels.index_select(0, rows)) * weight;
  }
  if (distilled) {
    const double weight = labeled ? options.alpha : 1.0;
    loss = loss + distillation_loss(logits, data.teacher_logits.index_select(0, rows),
                                    options.temperature) *
                      weight;
  }
  return loss;
}

// Cosine decay from `peak` at the first step to 0 after the last.
double cosine_rate(double peak, std::int64_t step, std::int64_t total) {
  constexpr double kPi = 3.14159265358979323846;
  return 0.5 * peak *
         (1.0 + std::cos(kPi * static_cast<double>(step) / static_cast<double>(total)));
}

void set_learning_rate(torch::optim::Adam& optimizer, double rate) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(rate);
  }
}

std::vector<EpochReport> fit(TrainableGraph& student, const Batches& data,
                             const TrainInputs& inputs, const TrainOptions& options,
                             const Progress& progress) {
  std::vector<at::Tensor> parameters = student.parameters();
  EP_CHECK(!parameters.empty(),
           "the model has no trainable layers (Conv, Gemm or MatMul with float or QDQ weights)");
  torch::optim::Adam optimizer(parameters, torch::optim::AdamOptions(options.lr));
  std::mt19937_64 rng(options.seed);
  const std::int64_t count = data.inputs.size(0);
  const std::int64_t steps_per_epoch = (count + options.batch - 1) / options.batch;
  const std::int64_t total_steps = steps_per_epoch * options.epochs;
  std::int64_t step = 0;
  std::vector<EpochReport> epochs;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<std::int64_t> order = shuffled(count, rng);
    double loss_sum = 0.0;
    std::int64_t steps = 0;
    for (std::int64_t first = 0; first < count; first += options.batch) {
      const std::int64_t size = std::min<std::int64_t>(options.batch, count - first);
      const at::Tensor rows =
          at::tensor(std::vector<std::int64_t>(order.begin() + first, order.begin() + first + size),
                     at::kLong);
      set_learning_rate(optimizer, cosine_rate(options.lr, step++, total_steps));
      optimizer.zero_grad();
      const at::Tensor loss =
          batch_loss(student.forward(data.inputs.index_select(0, rows)), data, rows, options);
      const double value = loss.item<double>();
      EP_CHECK(std::isfinite(value),
               "epoch {}, batch {}: the loss is {}; training stopped and nothing was written "
               "(try a lower --lr than {})",
               epoch, steps + 1, value, options.lr);
      loss.backward();
      optimizer.step();
      student.after_step();
      loss_sum += value;
      ++steps;
      if (progress.on_batch) progress.on_batch(epoch, first + size, count, loss_sum / steps);
    }
    EpochReport report;
    report.epoch = epoch;
    report.epochs = options.epochs;
    report.loss = loss_sum / static_cast<double>(std::max<std::int64_t>(1, steps));
    if (inputs.held_out != nullptr) report.held_out = accuracy(student, *inputs.held_out);
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (progress.on_epoch) progress.on_epoch(report);
    epochs.push_back(report);
  }
  return epochs;
}

void check_held_out(const TrainInputs& inputs) {
  if (inputs.held_out == nullptr) return;
  EP_CHECK(inputs.held_out->labeled(), "the held-out data (--data) has no labels");
  EP_CHECK(inputs.held_out->size() > 0, "the held-out data (--data) has no samples");
}

// A model exported with a fixed batch of 1 (its Reshapes say 1 too) trains one sample a step.
TrainOptions with_model_batch(const TrainableGraph& student, TrainOptions options,
                              std::vector<std::string>& log) {
  const std::optional<std::int64_t> fixed = student.fixed_batch();
  if (!fixed || *fixed == options.batch) return options;
  EP_CHECK(*fixed == 1,
           "the model's input {} has a fixed batch of {}: training needs a symbolic batch "
           "dimension or a batch of 1",
           student.graph().inputs.front().to_string(), *fixed);
  log.push_back(
      fmt::format("the model's input {} has a fixed batch of 1: one sample per step "
                  "(--batch {} not used)",
                  student.graph().inputs.front().to_string(), options.batch));
  options.batch = 1;
  return options;
}

TrainResult train_graph(TrainableGraph& student, const TrainInputs& inputs,
                        const TrainOptions& requested, const Progress& progress) {
  EP_CHECK(inputs.train != nullptr, "no training data");
  check_options(requested);
  std::vector<std::string> batch_log;
  const TrainOptions options = with_model_batch(student, requested, batch_log);
  check_held_out(inputs);
  configure_engine(options);
  std::optional<TrainableGraph> teacher;
  if (inputs.teacher != nullptr) {
    with_error_context("the teacher", [&] {
      teacher.emplace(*inputs.teacher, detail::GraphConfig{.trainable = false});
    });
  }
  const Batches data = prepare_data(student, inputs, teacher ? &*teacher : nullptr);
  TrainResult result;
  result.log = student.describe();
  result.log.insert(result.log.end(), batch_log.begin(), batch_log.end());
  result.epochs = fit(student, data, inputs, options, progress);
  result.model = student.exported();
  return result;
}

}  // namespace

TrainResult quantization_aware(const graph::Graph& qdq, const graph::Graph* float_model,
                               const TrainInputs& inputs, const TrainOptions& options,
                               const Progress& progress) {
  EP_CHECK(options.weight_bits >= 2 && options.weight_bits <= 8,
           "weight bits must be 2..8 (got {})", options.weight_bits);
  TrainableGraph student(qdq, detail::GraphConfig{.trainable = true,
                                                  .quantized = true,
                                                  .weight_bits = options.weight_bits,
                                                  .float_model = float_model});
  return train_graph(student, inputs, options, progress);
}

TrainResult finetune_masked(const graph::Graph& model, const TrainInputs& inputs,
                            const TrainOptions& options, const Progress& progress) {
  TrainableGraph student(model, detail::GraphConfig{.trainable = true});
  return train_graph(student, inputs, options, progress);
}

double engine_accuracy(const graph::Graph& model, const eval::Dataset& data, int threads) {
  EP_CHECK(data.labeled() && data.size() > 0, "accuracy needs labeled samples");
  at::set_num_threads(threads);
  const bool quantized = std::any_of(model.nodes.begin(), model.nodes.end(), [](const auto& node) {
    return node.op_type == "QuantizeLinear" || node.op_type == "DequantizeLinear";
  });
  const TrainableGraph graph(model,
                             detail::GraphConfig{.trainable = false, .quantized = quantized});
  return accuracy(graph, data);
}

}  // namespace edgeperf::train
