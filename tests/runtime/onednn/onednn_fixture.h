#pragma once
// Test fixture for the oneDNN backend: evaluates a graph node by node with the
// reference kernels (the oracle, which also infers every TensorDesc), lowers it
// with the oneDNN backend, runs the steps, and compares.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/runtime/backend.h"
#include "edgeperf/runtime/reference.h"

namespace edgeperf::runtime::testing {

struct Evaluated {
  graph::Graph graph;
  LoweringInput lowering;
  std::map<std::string, Tensor> values;  // reference value of every runtime value
};

inline Tensor run_reference(const PlannedNode& planned, const std::vector<Tensor>& inputs) {
  const KernelRegistration* registration = find_reference_kernel(planned.node->op_type);
  EP_CHECK(registration != nullptr, "no reference kernel for {}", planned.node->op_type);
  PrepareContext context{*planned.node, planned.inputs, planned.constants, planned.outputs, {}};
  std::unique_ptr<Kernel> kernel = registration->create(context);
  std::vector<Tensor> outputs;
  for (const TensorDesc& desc : planned.outputs) outputs.emplace_back(desc.dtype, desc.shape);
  kernel->run(RunContext{1}, inputs, outputs);
  return outputs[0];
}

// Random feeds for the graph inputs, then every node through the reference backend.
inline Evaluated evaluate(graph::Graph graph, std::uint64_t seed = 7) {
  Evaluated result;
  result.graph = std::move(graph);
  const graph::Graph& g = result.graph;
  for (const graph::ValueInfo& input : g.inputs) {
    result.values[input.name] = random_tensor(input.dtype, input.resolved_shape(), seed++);
  }
  for (const graph::Node& node : g.nodes) {
    PlannedNode planned;
    planned.node = &node;
    std::vector<Tensor> inputs;
    for (const std::string& name : node.inputs) {
      auto initializer = g.initializers.find(name);
      if (name.empty()) {
        planned.inputs.push_back(TensorDesc{DType::f32, {}, false});
        planned.constants.push_back(nullptr);
        inputs.emplace_back();
      } else if (initializer != g.initializers.end()) {
        planned.inputs.push_back(
            TensorDesc{initializer->second.dtype(), initializer->second.shape()});
        planned.constants.push_back(&initializer->second);
        inputs.push_back(initializer->second);
      } else {
        const Tensor& value = result.values.at(name);
        planned.inputs.push_back(TensorDesc{value.dtype(), value.shape()});
        planned.constants.push_back(nullptr);
        inputs.push_back(value);
      }
    }
    const KernelRegistration* registration = find_reference_kernel(node.op_type);
    EP_CHECK(registration != nullptr, "no reference kernel for {}", node.op_type);
    PrepareContext context{node, planned.inputs, planned.constants, {}, {}};
    registration->infer(context);
    planned.outputs = context.outputs;
    result.values[node.outputs[0]] = run_reference(planned, inputs);
    result.lowering.nodes.push_back(std::move(planned));
  }
  result.lowering.consumers = graph::consumers_of(g);
  for (const graph::ValueInfo& output : g.outputs) {
    result.lowering.graph_outputs.push_back(output.name);
  }
  return result;
}

inline float max_abs(const Tensor& tensor) {
  float result = 0.0f;
  for (float value : tensor.values<float>()) result = std::max(result, std::fabs(value));
  return result;
}

// Max |a - b| (infinity on shape mismatch or NaN).
inline float max_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return INFINITY;
  float result = 0.0f;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    const float diff = std::fabs(a.values<float>()[i] - b.values<float>()[i]);
    if (std::isnan(diff)) return INFINITY;
    result = std::max(result, diff);
  }
  return result;
}

struct Lowered {
  std::vector<Step> steps;
  std::map<std::string, Tensor> values;  // what the steps computed
  std::size_t claimed_nodes = 0;
};

// Lowers with oneDNN and runs the steps in order; uncovered nodes take the oracle's
// value. Every step output is checked against the reference.
inline Lowered check_steps(const Evaluated& evaluated, std::vector<Step> steps, int threads = 1) {
  Lowered lowered;
  lowered.steps = std::move(steps);
  omp_set_num_threads(threads);  // as the session does before running
  std::map<std::size_t, const Step*> step_at;
  for (const Step& step : lowered.steps) {
    EXPECT_FALSE(step.nodes.empty());
    for (std::size_t i = 1; i < step.nodes.size(); ++i) {
      EXPECT_EQ(step.nodes[i], step.nodes[i - 1] + 1) << "step is not contiguous";
    }
    step_at[step.nodes.front()] = &step;
    lowered.claimed_nodes += step.nodes.size();
  }
  for (const graph::ValueInfo& input_info : evaluated.graph.inputs) {
    lowered.values[input_info.name] = evaluated.values.at(input_info.name);
  }
  const auto& nodes = evaluated.lowering.nodes;
  for (std::size_t index = 0; index < nodes.size();) {
    auto found = step_at.find(index);
    if (found == step_at.end()) {
      const std::string& output = nodes[index].node->outputs[0];
      lowered.values[output] = evaluated.values.at(output);
      ++index;
      continue;
    }
    const Step& step = *found->second;
    std::vector<Tensor> step_inputs;
    for (const std::string& name : step.inputs) step_inputs.push_back(lowered.values.at(name));
    std::vector<Tensor> step_outputs;
    for (const TensorDesc& desc : step.output_descs) {
      // Poison the outputs so an unwritten element shows up as a mismatch.
      Tensor output(desc.dtype, desc.shape);
      std::fill_n(output.data<float>(), output.numel(), NAN);
      step_outputs.push_back(output);
    }
    step.kernel->run(RunContext{threads}, step_inputs, step_outputs);
    for (std::size_t i = 0; i < step.outputs.size(); ++i) {
      const Tensor& expected = evaluated.values.at(step.outputs[i]);
      const float tolerance = 1e-4f * std::max(1.0f, max_abs(expected));
      EXPECT_LE(max_diff(step_outputs[i], expected), tolerance)
          << "value '" << step.outputs[i] << "' of step " << step.label;
      lowered.values[step.outputs[i]] = step_outputs[i];
    }
    index = step.nodes.back() + 1;
  }
  for (const graph::ValueInfo& output : evaluated.graph.outputs) {
    EXPECT_TRUE(lowered.values.count(output.name)) << "graph output " << output.name;
  }
  omp_set_num_threads(1);
  return lowered;
}

inline Lowered lower_and_check(const Evaluated& evaluated, int threads = 1) {
  std::unique_ptr<Backend> backend = make_onednn_backend();
  LoweringInput input = evaluated.lowering;
  input.threads = threads;
  return check_steps(evaluated, backend->lower(input), threads);
}

}  // namespace edgeperf::runtime::testing
