// ResNet-18's 1x1 (downsample) convolutions and its FC layer, magnitude-pruned to a given
// sparsity, each lowered twice in the same process: by the sparse backend (CSR kernels)
// and by the oneDNN backend. Both steps run on the same input, interleaved, and the
// table gives each one's median latency per thread count.
//
// Then the whole model, every Conv and Gemm weight pruned alike, end to end with the
// sparse backend off, auto and forced (--model-runs 0 skips it; --model-out writes it).
//
//   sparse_layers_bench [--sparsity 0.8] [--runs 300] [--threads 1,2] [--model-runs 20]
//                       [--model-out resnet18_pruned.onnx]
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "edgeperf/core/random.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/runtime/reference.h"
#include "edgeperf/runtime/session.h"
#include "edgeperf/runtime/sparse.h"
#include "edgeperf/zoo/zoo.h"

namespace edgeperf {
namespace {

using runtime::LoweringInput;
using runtime::PlannedNode;
using runtime::Step;
using runtime::TensorDesc;

struct Options {
  double sparsity = 0.8;
  int runs = 300;
  std::vector<int> threads = {1, 2};
  int model_runs = 20;
  std::string model_out;
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--sparsity") {
      options.sparsity = std::stod(value);
    } else if (flag == "--runs") {
      options.runs = std::stoi(value);
    } else if (flag == "--model-runs") {
      options.model_runs = std::stoi(value);
    } else if (flag == "--model-out") {
      options.model_out = value;
    } else if (flag == "--threads") {
      options.threads.clear();
      for (std::size_t start = 0; start < value.size();) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        options.threads.push_back(std::stoi(value.substr(start, comma - start)));
        start = comma + 1;
      }
    } else {
      fail("unknown option '{}' (expected --sparsity, --runs or --threads)", flag);
    }
  }
  EP_CHECK(options.sparsity >= 0.0 && options.sparsity < 1.0,
           "--sparsity must be in [0, 1), got {}", options.sparsity);
  EP_CHECK(options.runs > 0, "--runs must be positive, got {}", options.runs);
  EP_CHECK(options.model_runs >= 0, "--model-runs must be >= 0, got {}", options.model_runs);
  return options;
}

// Zeroes the `sparsity` fraction of weights with the smallest magnitude.
Tensor magnitude_prune(const Tensor& weights, double sparsity) {
  Tensor pruned = weights.clone();
  std::span<float> values = pruned.values<float>();
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  const std::size_t zeroed =
      static_cast<std::size_t>(sparsity * static_cast<double>(values.size()));
  std::nth_element(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(zeroed), order.end(),
      [&](std::size_t a, std::size_t b) { return std::abs(values[a]) < std::abs(values[b]); });
  for (std::size_t i = 0; i < zeroed; ++i) values[order[i]] = 0.0f;
  return pruned;
}

// One layer of the model as its own graph: the node, plus the BatchNormalization
// right after it, reading an input of the shape it has in the full model.
graph::Graph layer_graph(const graph::Graph& model, const runtime::Session& shapes,
                         std::size_t node_index, double sparsity) {
  graph::Graph layer;
  layer.name = model.nodes[node_index].name;
  layer.opset = model.opset;
  const graph::Node& anchor = model.nodes[node_index];
  layer.nodes.push_back(anchor);
  const std::string& x = anchor.inputs[0];
  graph::ValueInfo input{x, DType::f32, {}, true};
  for (std::int64_t dim : shapes.value_descs().at(x).shape)
    input.dims.push_back(graph::Dim::fixed(dim));
  layer.inputs.push_back(input);
  for (std::size_t i = 1; i < anchor.inputs.size(); ++i) {
    const Tensor& constant = model.initializers.at(anchor.inputs[i]);
    layer.initializers[anchor.inputs[i]] = i == 1 ? magnitude_prune(constant, sparsity) : constant;
  }
  std::string output = anchor.outputs[0];
  if (node_index + 1 < model.nodes.size() &&
      model.nodes[node_index + 1].op_type == "BatchNormalization" &&
      model.nodes[node_index + 1].inputs[0] == output) {
    const graph::Node& batch_norm = model.nodes[node_index + 1];
    layer.nodes.push_back(batch_norm);
    for (std::size_t i = 1; i < batch_norm.inputs.size(); ++i) {
      layer.initializers[batch_norm.inputs[i]] = model.initializers.at(batch_norm.inputs[i]);
    }
    output = batch_norm.outputs[0];
  }
  layer.outputs.push_back(graph::ValueInfo{output, DType::f32, {}, false});
  graph::validate(layer);
  return layer;
}

// What the session would hand the backends for this graph (every node at runtime).
LoweringInput lowering_input(const graph::Graph& graph, int threads) {
  LoweringInput input;
  input.threads = threads;
  std::map<std::string, TensorDesc> descs;
  for (const graph::ValueInfo& value : graph.inputs) {
    descs[value.name] = TensorDesc{value.dtype, value.resolved_shape()};
  }
  for (const graph::Node& node : graph.nodes) {
    runtime::PrepareContext context{node, {}, {}, {}, {}, graph.opset};
    for (const std::string& name : node.inputs) {
      auto constant = graph.initializers.find(name);
      const bool known = constant != graph.initializers.end();
      context.inputs.push_back(
          known ? TensorDesc{constant->second.dtype(), constant->second.shape()} : descs.at(name));
      context.constants.push_back(known ? &constant->second : nullptr);
    }
    runtime::find_reference_kernel(node)->infer(context);
    for (std::size_t i = 0; i < node.outputs.size(); ++i)
      descs[node.outputs[i]] = context.outputs[i];
    for (const std::string& name : node.inputs) input.consumers[name].push_back(input.nodes.size());
    input.nodes.push_back(PlannedNode{&node, context.inputs, context.constants, context.outputs});
  }
  for (const graph::ValueInfo& output : graph.outputs) input.graph_outputs.push_back(output.name);
  return input;
}

Step single_step(std::vector<Step> steps, const std::string& what) {
  EP_CHECK(steps.size() == 1, "{}: expected one step, got {}", what, steps.size());
  return std::move(steps[0]);
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1))];
}

struct Row {
  std::string layer, shape, backend_label;
  int threads = 1;
  double density = 0, sparse_p50 = 0, dense_p50 = 0, sparse_p10 = 0, dense_p10 = 0;
};

Row measure(const graph::Graph& layer, int threads, int runs) {
  omp_set_num_threads(threads);
  const LoweringInput input = lowering_input(layer, threads);
  auto dense_backend = runtime::make_onednn_backend();
  Step sparse = single_step(
      runtime::lower_sparse_then(input, {runtime::SparseMode::force}, *dense_backend), "sparse");
  Step dense = single_step(dense_backend->lower(input), "onednn");
  EP_CHECK(sparse.backend == "sparse" && dense.backend == "onednn", "{}: got backends {} and {}",
           layer.name, sparse.backend, dense.backend);
  const runtime::RunContext context{threads};
  const std::vector<Tensor> x{random_tensor(DType::f32, input.nodes[0].inputs[0].shape, 3)};
  std::vector<Tensor> sparse_out{Tensor(DType::f32, sparse.output_descs[0].shape)};
  std::vector<Tensor> dense_out{Tensor(DType::f32, dense.output_descs[0].shape)};
  std::vector<double> sparse_ms, dense_ms;
  using Clock = std::chrono::steady_clock;
  for (int run = -20; run < runs; ++run) {  // 20 warm-up rounds
    auto start = Clock::now();
    sparse.kernel->run(context, x, sparse_out);
    const double sparse_elapsed =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    start = Clock::now();
    dense.kernel->run(context, x, dense_out);
    const double dense_elapsed =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (run < 0) continue;
    sparse_ms.push_back(sparse_elapsed);
    dense_ms.push_back(dense_elapsed);
  }
  double max_error = 0;
  for (std::int64_t i = 0; i < sparse_out[0].numel(); ++i) {
    max_error = std::max<double>(
        max_error, std::abs(sparse_out[0].data<float>()[i] - dense_out[0].data<float>()[i]));
  }
  EP_CHECK(max_error < 1e-3, "{}: sparse and dense outputs differ by {}", layer.name, max_error);
  Row row;
  row.layer = layer.name;
  row.shape = fmt::format("{} -> {}", shape_to_string(input.nodes[0].inputs[0].shape),
                          shape_to_string(sparse.output_descs[0].shape));
  row.threads = threads;
  row.backend_label = sparse.label;
  const std::size_t density_at = sparse.label.find("density ");
  row.density = std::stod(sparse.label.substr(density_at + 8));
  row.sparse_p50 = percentile(sparse_ms, 0.5);
  row.dense_p50 = percentile(dense_ms, 0.5);
  row.sparse_p10 = percentile(sparse_ms, 0.1);
  row.dense_p10 = percentile(dense_ms, 0.1);
  return row;
}

bool is_pointwise_conv(const graph::Graph& model, const graph::Node& node) {
  if (node.op_type != "Conv") return false;
  const Shape& w = model.initializers.at(node.inputs[1]).shape();
  return w.size() == 4 && w[2] == 1 && w[3] == 1;
}

graph::Graph pruned_model(graph::Graph model, double sparsity) {
  for (const graph::Node& node : model.nodes) {
    if (node.op_type != "Conv" && node.op_type != "Gemm") continue;
    Tensor& weights = model.initializers.at(node.inputs[1]);
    weights = magnitude_prune(weights, sparsity);
  }
  return model;
}

// Whole-model p50 per sparse mode, the modes' runs interleaved.
void measure_model(const graph::Graph& model, int threads, int runs) {
  const std::vector<runtime::SparseMode> modes = {
      runtime::SparseMode::off, runtime::SparseMode::automatic, runtime::SparseMode::force};
  std::vector<runtime::Session> sessions;
  for (runtime::SparseMode mode : modes) {
    runtime::SessionOptions options;
    options.threads = threads;
    options.sparse = mode;
    sessions.emplace_back(model, options);
  }
  const auto feeds = runtime::random_inputs(sessions[0], 1);
  std::vector<std::vector<double>> times(modes.size());
  for (int run = -3; run < runs; ++run) {
    for (std::size_t m = 0; m < modes.size(); ++m) {
      const auto start = std::chrono::steady_clock::now();
      sessions[m].run(feeds);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      if (run >= 0) times[m].push_back(ms);
    }
  }
  for (std::size_t m = 0; m < modes.size(); ++m) {
    int sparse_steps = 0;
    for (const runtime::StepInfo& step : sessions[m].steps())
      sparse_steps += step.backend == "sparse";
    fmt::print("| {} | {} | {} | {:.3f} | {:.3f} |\n", runtime::sparse_mode_name(modes[m]), threads,
               sparse_steps, percentile(times[m], 0.5), percentile(times[m], 0.1));
  }
  for (const runtime::StepInfo& step : sessions[1].steps()) {
    if (step.backend == "sparse") fmt::print("  auto, {} threads: {}\n", threads, step.label);
  }
}

int run(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  const graph::Graph model = zoo::build_zoo_model("resnet18");
  runtime::SessionOptions shape_options;
  shape_options.backend = runtime::BackendKind::reference;
  const runtime::Session shapes(model, shape_options);
  std::vector<graph::Graph> layers;
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    if (is_pointwise_conv(model, model.nodes[i]) || model.nodes[i].op_type == "Gemm") {
      layers.push_back(layer_graph(model, shapes, i, options.sparsity));
    }
  }
  fmt::print(
      "ResNet-18 (zoo), magnitude pruning {:.0f}% per layer, {} interleaved runs each, CPU: {} "
      "cores\n\n",
      options.sparsity * 100, options.runs, omp_get_num_procs());
  fmt::print(
      "| layer | shape | density | threads | sparse p50 ms | oneDNN p50 ms | speedup | sparse p10 "
      "| oneDNN p10 |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|\n");
  for (int threads : options.threads) {
    for (const graph::Graph& layer : layers) {
      const Row row = measure(layer, threads, options.runs);
      fmt::print("| {} | {} | {:.3f} | {} | {:.4f} | {:.4f} | {:.2f}x | {:.4f} | {:.4f} |\n",
                 row.layer, row.shape, row.density, row.threads, row.sparse_p50, row.dense_p50,
                 row.dense_p50 / row.sparse_p50, row.sparse_p10, row.dense_p10);
    }
  }
  if (!options.model_out.empty() || options.model_runs > 0) {
    const graph::Graph pruned = pruned_model(model, options.sparsity);
    if (!options.model_out.empty()) onnx_io::save_model(pruned, options.model_out);
    if (options.model_runs > 0) {
      fmt::print("\nWhole model, every Conv and Gemm pruned {:.0f}%, {} interleaved runs\n\n",
                 options.sparsity * 100, options.model_runs);
      fmt::print("| sparse | threads | sparse steps | p50 ms | p10 ms |\n|---|---|---|---|---|\n");
      for (int threads : options.threads) measure_model(pruned, threads, options.model_runs);
    }
  }
  return 0;
}

}  // namespace
}  // namespace edgeperf

int main(int argc, char** argv) {
  try {
    return edgeperf::run(argc, argv);
  } catch (const std::exception& error) {
    fmt::print(stderr, "sparse_layers_bench: {}\n", error.what());
    return 1;
  }
}
