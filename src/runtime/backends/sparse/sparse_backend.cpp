// The sparse backend: finds FC and 1x1 Conv layers (with a following BatchNormalization
// and Relu folded in), builds CSR kernels for them, and in automatic mode keeps each one
// only when it measures faster than the dense backend on the same nodes.
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <map>
#include <optional>

#include "csr_kernels.h"
#include "edgeperf/core/clock.h"
#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/random.h"
#include "edgeperf/graph/ops/batch_norm.h"
#include "edgeperf/graph/ops/conv.h"
#include "edgeperf/runtime/scoped_omp_threads.h"
#include "edgeperf/runtime/sparse.h"

namespace edgeperf::runtime {

namespace {

constexpr auto kSparseModes = enum_names<SparseMode>(
    "sparse mode",
    {{SparseMode::automatic, "auto"}, {SparseMode::off, "off"}, {SparseMode::force, "force"}});

}  // namespace

SparseMode parse_sparse_mode(const std::string& name) { return kSparseModes.parse(name); }

std::string sparse_mode_name(SparseMode mode) { return std::string(kSparseModes.name(mode)); }

namespace sparse {
namespace {

enum class LayerKind { conv1x1, fully_connected };

// A candidate layer: nodes [first, last] fused into one step, with its weight as a dense
// [rows, columns] matrix (rows = output channels) after folding scale and BatchNormalization.
struct Layer {
  LayerKind kind = LayerKind::fully_connected;
  std::size_t first = 0;
  std::size_t last = 0;
  std::vector<float> weights;
  std::vector<float> bias;  // empty: none
  std::int64_t rows = 0;
  std::int64_t columns = 0;
  bool relu = false;
  std::int64_t stride_h = 1;
  std::int64_t stride_w = 1;
  std::string ops;  // "Conv+BatchNormalization+Relu"
};

bool is_default_domain(const graph::Node& node) {
  return node.domain.empty() || node.domain == "ai.onnx";
}

const Tensor* f32_constant(const PlannedNode& node, std::size_t index) {
  if (!node.node->has_input(index) || index >= node.constants.size()) return nullptr;
  const Tensor* tensor = node.constants[index];
  return tensor != nullptr && tensor->dtype() == DType::f32 ? tensor : nullptr;
}

bool is_runtime_f32(const PlannedNode& node, std::size_t index) {
  return node.node->has_input(index) && index < node.inputs.size() &&
         (index >= node.constants.size() || node.constants[index] == nullptr) &&
         node.inputs[index].dtype == DType::f32;
}

bool single_f32_output(const PlannedNode& node) {
  return node.outputs.size() == 1 && node.node->outputs.size() == 1 &&
         node.outputs[0].dtype == DType::f32 && node.outputs[0].numel() > 0;
}

std::vector<float> to_floats(const Tensor& tensor) {
  return {tensor.values<float>().begin(), tensor.values<float>().end()};
}

std::optional<Layer> parse_conv(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  const Tensor* weight = f32_constant(planned, 1);
  if (!is_runtime_f32(planned, 0) || weight == nullptr || !single_f32_output(planned)) return {};
  const Shape& x = planned.inputs[0].shape;
  const Shape& w = weight->shape();
  const Shape& y = planned.outputs[0].shape;
  if (x.size() != 4 || w.size() != 4 || w[2] != 1 || w[3] != 1 || w[1] != x[1]) return {};
  const graph::ops::ConvAttrs attrs = graph::ops::ConvAttrs::read(node, 2);
  if (attrs.group != 1) return {};
  const std::vector<std::int64_t>& pads = attrs.pads;
  if (std::any_of(pads.begin(), pads.end(), [](std::int64_t pad) { return pad != 0; })) return {};
  const std::vector<std::int64_t>& strides = attrs.strides;
  if (strides[0] < 1 || strides[1] < 1) return {};
  // With a 1x1 kernel and no padding, every auto_pad mode gives this output size.
  if (y != Shape{x[0], w[0], (x[2] - 1) / strides[0] + 1, (x[3] - 1) / strides[1] + 1}) return {};
  const Tensor* bias = f32_constant(planned, 2);
  if (node.has_input(2) && (bias == nullptr || bias->numel() != w[0])) return {};
  Layer layer;
  layer.kind = LayerKind::conv1x1;
  layer.weights = to_floats(*weight);
  if (bias) layer.bias = to_floats(*bias);
  layer.rows = w[0];
  layer.columns = w[1];
  layer.stride_h = strides[0];
  layer.stride_w = strides[1];
  return layer;
}

// Gemm (transA = 0) and MatMul of a 2-D runtime A by a constant 2-D B, as [N, K] weights.
std::optional<Layer> parse_fully_connected(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  const bool gemm = node.op_type == "Gemm";
  const Tensor* b = f32_constant(planned, 1);
  if (!is_runtime_f32(planned, 0) || b == nullptr || !single_f32_output(planned)) return {};
  if (planned.inputs[0].shape.size() != 2 || b->rank() != 2) return {};
  if (gemm && node.attr_int("transA", 0) != 0) return {};
  const bool transposed = gemm && node.attr_int("transB", 0) != 0;
  const std::int64_t n = transposed ? b->dim(0) : b->dim(1);
  const std::int64_t k = transposed ? b->dim(1) : b->dim(0);
  if (planned.inputs[0].shape[1] != k) return {};
  Layer layer;
  layer.kind = LayerKind::fully_connected;
  layer.rows = n;
  layer.columns = k;
  layer.weights.resize(static_cast<std::size_t>(n * k));
  const float alpha = gemm ? node.attr_float("alpha", 1.0f) : 1.0f;
  const float* source = b->data<float>();
  for (std::int64_t row = 0; row < n; ++row) {
    for (std::int64_t column = 0; column < k; ++column) {
      const float value = transposed ? source[row * k + column] : source[column * n + row];
      layer.weights[static_cast<std::size_t>(row * k + column)] = alpha * value;
    }
  }
  if (gemm && node.has_input(2)) {
    const Tensor* c = f32_constant(planned, 2);
    const bool row_vector = c != nullptr && (c->shape() == Shape{n} || c->shape() == Shape{1, n});
    if (!row_vector) return {};
    const float beta = node.attr_float("beta", 1.0f);
    for (float value : c->values<float>()) layer.bias.push_back(beta * value);
  }
  return layer;
}

// The one node reading `value`, when it comes right after `index` and the value is
// not needed anywhere else.
std::optional<std::size_t> sole_next_consumer(const LoweringInput& input, std::size_t index,
                                              const std::string& value) {
  const std::vector<std::size_t>& readers = input.consumers_of(value);
  if (input.is_graph_output(value) || readers.size() != 1 || readers[0] != index + 1) return {};
  return index + 1;
}

// Folds an inference BatchNormalization on channel axis 1 into the layer's rows.
bool fold_batch_norm(const PlannedNode& planned, Layer& layer) {
  const graph::Node& node = *planned.node;
  if (node.op_type != "BatchNormalization" || !single_f32_output(planned)) return false;
  if (node.attr_int("training_mode", 0) != 0) return false;
  const Tensor* parameters[4];
  for (std::size_t i = 0; i < 4; ++i) {
    parameters[i] = f32_constant(planned, i + 1);
    if (parameters[i] == nullptr || parameters[i]->numel() != layer.rows) return false;
  }
  const auto params = graph::ops::BatchNormParams::from_tensors(
      *parameters[0], *parameters[1], *parameters[2], *parameters[3],
      graph::ops::BatchNormParams::epsilon_of(node));
  if (layer.bias.empty()) layer.bias.assign(static_cast<std::size_t>(layer.rows), 0.0f);
  params.fold_into(layer.weights, layer.bias);
  return true;
}

// Extends the layer over a directly following BatchNormalization and/or Relu.
void fuse_followers(const LoweringInput& input, Layer& layer) {
  for (int step = 0; step < 2 && !layer.relu; ++step) {
    const std::string& current = input.nodes[layer.last].node->outputs[0];
    const std::optional<std::size_t> next = sole_next_consumer(input, layer.last, current);
    if (!next) return;
    const PlannedNode& planned = input.nodes[*next];
    const graph::Node& node = *planned.node;
    if (!is_default_domain(node) || node.inputs.empty() || node.inputs[0] != current) return;
    if (step == 0 && fold_batch_norm(planned, layer)) {
      layer.ops += "+BatchNormalization";
    } else if (node.op_type == "Relu" && single_f32_output(planned)) {
      layer.relu = true;
      layer.ops += "+Relu";
    } else {
      return;
    }
    layer.last = *next;
  }
}

std::optional<Layer> parse_layer(const LoweringInput& input, std::size_t index) {
  const PlannedNode& planned = input.nodes[index];
  const graph::Node& node = *planned.node;
  if (!is_default_domain(node) || input.reads_deferred(planned)) return {};
  std::optional<Layer> layer;
  if (node.op_type == "Conv") layer = parse_conv(planned);
  if (node.op_type == "Gemm" || node.op_type == "MatMul") layer = parse_fully_connected(planned);
  if (!layer) return {};
  layer->first = layer->last = index;
  layer->ops = node.op_type;
  fuse_followers(input, *layer);
  return layer;
}

class SparseKernel final : public Kernel {
 public:
  SparseKernel(const Layer& layer, const TensorDesc& input)
      : kind_(layer.kind),
        weights_(make_csr(layer.weights, layer.rows, layer.columns, layer.bias, layer.relu)),
        input_shape_(input.shape),
        stride_h_(layer.stride_h),
        stride_w_(layer.stride_w) {
    if (kind_ == LayerKind::fully_connected) {
      workspace_ = Tensor(DType::f32, {input_shape_[0], weights_.padded_columns()});
    } else if (stride_h_ > 1 || stride_w_ > 1) {
      workspace_ =
          Tensor(DType::f32, {input_shape_[0], input_shape_[1], out_height(), out_width()});
    }
  }

  void run(const RunContext& context, std::span<const Tensor> inputs,
           std::span<Tensor> outputs) override {
    EP_CHECK(inputs.size() == 1 && outputs.size() == 1,
             "sparse kernel: got {} inputs and {} outputs, expected 1 and 1", inputs.size(),
             outputs.size());
    const int threads = std::max(1, context.threads);
    const float* x = inputs[0].data<float>();
    float* y = outputs[0].data<float>();
    if (kind_ == LayerKind::fully_connected) {
      return fully_connected(weights_, x, y, input_shape_[0], workspace_.data<float>(), threads);
    }
    if (!workspace_.empty()) {
      subsample(x, workspace_.data<float>(), input_shape_[0] * input_shape_[1], input_shape_[2],
                input_shape_[3], stride_h_, stride_w_, threads);
      x = workspace_.data<float>();
    }
    conv1x1_nchw(weights_, x, y, input_shape_[0], out_height() * out_width(), threads);
  }

  std::size_t workspace_bytes() const override { return workspace_.nbytes(); }
  std::size_t packed_weight_bytes() const override { return weights_.bytes(); }
  const CsrWeights& weights() const { return weights_; }

 private:
  std::int64_t out_height() const { return (input_shape_[2] - 1) / stride_h_ + 1; }
  std::int64_t out_width() const { return (input_shape_[3] - 1) / stride_w_ + 1; }

  LayerKind kind_;
  CsrWeights weights_;
  Shape input_shape_;
  std::int64_t stride_h_;
  std::int64_t stride_w_;
  Tensor workspace_;  // FC: zero-padded inputs; strided conv: the input pixels it reads
};

std::vector<Step> lower_range(const LoweringInput& input, std::size_t first, std::size_t last,
                              Backend& dense) {
  if (first >= last) return {};
  // Steps for timing only, then dropped: they must not give back initializers the
  // steps the plan keeps read.
  LoweringInput trial = slice(input, first, last);
  trial.releases = nullptr;
  std::vector<Step> steps = dense.lower(trial);
  for (Step& step : steps) {
    for (std::size_t& node : step.nodes) node += first;
  }
  return steps;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Runs steps in order on scratch tensors. Values a step reads that no earlier step
// wrote (the inputs of the window, or outputs of nodes left to the reference backend)
// are seeded random data.
class PlanRunner {
 public:
  explicit PlanRunner(const std::vector<Step*>& steps) : steps_(steps) {
    std::map<std::string, Tensor> values;
    std::uint64_t seed = 17;
    for (Step* step : steps_) {
      Binding binding;
      for (std::size_t i = 0; i < step->inputs.size(); ++i) {
        const std::string& name = step->inputs[i];
        if (!name.empty() && !values.count(name)) {
          const TensorDesc& desc = step->input_descs[i];
          values[name] = desc.dtype == DType::f32 ? random_tensor(desc.dtype, desc.shape, ++seed)
                                                  : Tensor(desc.dtype, desc.shape);
        }
        binding.inputs.push_back(name.empty() ? Tensor() : values.at(name));
      }
      for (std::size_t i = 0; i < step->outputs.size(); ++i) {
        const TensorDesc& desc = step->output_descs[i];
        binding.outputs.emplace_back(desc.dtype, desc.shape);
        if (!step->outputs[i].empty()) values[step->outputs[i]] = binding.outputs.back();
      }
      bindings_.push_back(std::move(binding));
    }
  }

  void run(const RunContext& context) {
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      steps_[i]->kernel->run(context, bindings_[i].inputs, bindings_[i].outputs);
    }
  }

 private:
  struct Binding {
    std::vector<Tensor> inputs, outputs;
  };
  std::vector<Step*> steps_;
  std::vector<Binding> bindings_;
};

struct Timing {
  double sparse_ms = 0;
  double dense_ms = 0;
};

// Median times of two plans, runs interleaved so that load from other processes hits
// both alike.
Timing time_plans(PlanRunner& sparse, PlanRunner& dense, int threads, int runs) {
  const ScopedOmpThreads scoped(threads);
  const RunContext context{threads};
  std::vector<double> sparse_ms, dense_ms;
  for (int run = -2; run < runs; ++run) {  // two warm-up runs
    Stopwatch clock;
    sparse.run(context);
    if (run >= 0) sparse_ms.push_back(clock.elapsed_ms());
    clock.restart();
    dense.run(context);
    if (run >= 0) dense_ms.push_back(clock.elapsed_ms());
  }
  return Timing{median(sparse_ms), median(dense_ms)};
}

std::vector<Step*> pointers(std::vector<Step>& steps) {
  std::vector<Step*> result;
  for (Step& step : steps) result.push_back(&step);
  return result;
}

// The layer alone: the sparse step against the dense backend's steps for its nodes.
Timing time_alone(const LoweringInput& input, const Layer& layer, Step& sparse_step,
                  const SparseOptions& options, Backend& dense) {
  std::vector<Step> dense_steps = lower_range(input, layer.first, layer.last + 1, dense);
  PlanRunner sparse_plan({&sparse_step});
  PlanRunner dense_plan(pointers(dense_steps));
  return time_plans(sparse_plan, dense_plan, input.threads, options.timing_runs);
}

// The layer with `window_nodes` nodes either side: splitting the dense backend's region
// costs layout conversions at the new boundaries and may change the layouts its
// neighbours get, so the choice is made on the window, not on the layer alone.
Timing time_in_window(const LoweringInput& input, const Layer& layer, Step& sparse_step,
                      std::size_t window_begin, std::size_t window_end,
                      const SparseOptions& options, Backend& dense) {
  std::vector<Step> whole = lower_range(input, window_begin, window_end, dense);
  std::vector<Step> left = lower_range(input, window_begin, layer.first, dense);
  std::vector<Step> right = lower_range(input, layer.last + 1, window_end, dense);
  std::vector<Step*> split = pointers(left);
  split.push_back(&sparse_step);
  for (Step* step : pointers(right)) split.push_back(step);
  PlanRunner sparse_plan(split);
  PlanRunner dense_plan(pointers(whole));
  return time_plans(sparse_plan, dense_plan, input.threads, options.timing_runs);
}

Step make_step(const LoweringInput& input, const Layer& layer) {
  const PlannedNode& anchor = input.nodes[layer.first];
  const PlannedNode& tail = input.nodes[layer.last];
  Step step;
  step.kernel = std::make_unique<SparseKernel>(layer, anchor.inputs[0]);
  step.inputs = {anchor.node->inputs[0]};
  step.input_descs = {anchor.inputs[0]};
  step.outputs = {tail.node->outputs[0]};
  step.output_descs = {tail.outputs[0]};
  for (std::size_t node = layer.first; node <= layer.last; ++node) step.nodes.push_back(node);
  step.backend = "sparse";
  return step;
}

std::string describe(const Layer& layer, const PlannedNode& anchor, const CsrWeights& weights) {
  return fmt::format("sparse {} '{}' density {:.3f} ({} of {} weights)", layer.ops,
                     anchor.node->name, weights.density(), weights.nonzeros(),
                     layer.rows * layer.columns);
}

// The sparse step for the layer, or nullopt when the dense path is kept. Nodes before
// `unclaimed_from` are already decided.
std::optional<Step> choose(const LoweringInput& input, const Layer& layer,
                           std::size_t unclaimed_from, const SparseOptions& options,
                           Backend& dense) {
  const auto nonzeros = std::count_if(layer.weights.begin(), layer.weights.end(),
                                      [](float value) { return value != 0.0f; });
  const bool sparse_enough = static_cast<double>(nonzeros) <
                             options.max_density * static_cast<double>(layer.weights.size());
  if (options.mode != SparseMode::force && !sparse_enough) return {};
  Step step = make_step(input, layer);
  const CsrWeights& weights = static_cast<const SparseKernel&>(*step.kernel).weights();
  step.label = describe(layer, input.nodes[layer.first], weights);
  if (options.mode == SparseMode::force) {
    step.label += ", forced";
    return step;
  }
  const std::size_t reach = static_cast<std::size_t>(options.window_nodes);
  const std::size_t window_begin =
      std::max(unclaimed_from, layer.first >= reach ? layer.first - reach : 0);
  const std::size_t window_end = std::min(input.nodes.size(), layer.last + 1 + reach);
  const Timing alone = time_alone(input, layer, step, options, dense);
  const Timing window =
      time_in_window(input, layer, step, window_begin, window_end, options, dense);
  if (window.sparse_ms > window.dense_ms * (1.0 - options.min_window_gain)) return {};
  step.label += fmt::format(
      ", measured alone {:.4f} ms vs {} {:.4f} ms, with nodes {}..{} {:.3f} ms vs {:.3f} ms",
      alone.sparse_ms, dense.name(), alone.dense_ms, window_begin, window_end - 1, window.sparse_ms,
      window.dense_ms);
  return step;
}

}  // namespace
}  // namespace sparse

// Claims the sparse layers only; the provider list offers the rest to `dense`. A
// layer's choice is timed on the first lowering (at session creation) and reused for
// every later input shape, so no timing runs when a session re-plans.
class SparseBackend final : public Backend {
 public:
  SparseBackend(SparseOptions options, Backend& dense) : options_(options), dense_(dense) {}
  std::string name() const override { return "sparse"; }

  std::vector<Step> lower(const LoweringInput& input) override {
    std::vector<Step> steps;
    std::size_t unclaimed_from = 0;
    for (std::size_t index = 0; index < input.nodes.size() && options_.mode != SparseMode::off;
         ++index) {
      const std::optional<sparse::Layer> layer = sparse::parse_layer(input, index);
      if (!layer) continue;
      std::optional<Step> step = decide(input, *layer, unclaimed_from);
      if (!step) continue;
      steps.push_back(std::move(*step));
      index = layer->last;
      unclaimed_from = layer->last + 1;
    }
    return steps;
  }

 private:
  struct Decision {
    bool sparse = false;
    std::string label;
  };

  std::optional<Step> decide(const LoweringInput& input, const sparse::Layer& layer,
                             std::size_t unclaimed_from) {
    const std::string key = input.nodes[layer.first].node->outputs.at(0);
    if (auto known = decisions_.find(key); known != decisions_.end()) {
      if (!known->second.sparse) return std::nullopt;
      Step step = sparse::make_step(input, layer);
      step.label = known->second.label;
      return step;
    }
    std::optional<Step> step = with_error_context(
        "node " + input.nodes[layer.first].node->label(),
        [&] { return sparse::choose(input, layer, unclaimed_from, options_, dense_); });
    decisions_[key] = Decision{step.has_value(), step ? step->label : ""};
    return step;
  }

  SparseOptions options_;
  Backend& dense_;
  std::map<std::string, Decision> decisions_;  // by the layer's first output
};

std::unique_ptr<Backend> make_sparse_backend(const SparseOptions& options, Backend& dense) {
  return std::make_unique<SparseBackend>(options, dense);
}

std::vector<Step> lower_sparse_then(const LoweringInput& input, const SparseOptions& options,
                                    Backend& dense) {
  SparseBackend sparse(options, dense);
  Backend* const providers[] = {&sparse, &dense};
  return lower_with(input, providers);
}

}  // namespace edgeperf::runtime
