// The interpreter: node by node, every input known. The session uses it for the part of
// a graph whose shapes depend on data; If uses it for the branch it takes.
#include <optional>

#include "edgeperf/runtime/reference.h"

namespace edgeperf::runtime {
namespace {

PrepareContext known_context(const graph::Node& node, std::int64_t opset,
                             std::span<const Tensor> inputs) {
  PrepareContext context{node, {}, {}, {}, {}, opset};
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const bool present = !node.inputs[i].empty() && i < inputs.size();
    if (!present) {
      context.inputs.push_back(TensorDesc{DType::f32, {}, false});
      context.constants.push_back(nullptr);
      continue;
    }
    context.inputs.push_back(TensorDesc{inputs[i].dtype(), inputs[i].shape()});
    context.constants.push_back(&inputs[i]);
  }
  return context;
}

bool all_values_inferred(const PrepareContext& context, std::size_t outputs) {
  if (context.output_values.size() < outputs) return false;
  for (std::size_t i = 0; i < outputs; ++i) {
    if (!context.output_values[i].has_value()) return false;
  }
  return true;
}

}  // namespace

std::vector<Tensor> evaluate_node(const graph::Node& node, std::int64_t opset,
                                  std::span<const Tensor> inputs) {
  const KernelRegistration* kernel = find_reference_kernel(node);
  EP_CHECK(kernel != nullptr, "node {}: no kernel for {}", node.label(), registry_key(node));
  return with_error_context("node " + node.label(), [&] {
    PrepareContext context = known_context(node, opset, inputs);
    kernel->infer(context);
    EP_CHECK(context.outputs.size() >= node.outputs.size(),
             "shape inference produced {} outputs for {}", context.outputs.size(),
             node.outputs.size());
    std::vector<Tensor> outputs;
    if (all_values_inferred(context, node.outputs.size())) {
      for (std::size_t i = 0; i < node.outputs.size(); ++i) {
        outputs.push_back(std::move(*context.output_values[i]));
      }
      return outputs;
    }
    for (const TensorDesc& desc : context.outputs) {
      element_count(desc.shape, "an output");
      outputs.emplace_back(desc.dtype, desc.shape);
    }
    std::vector<Tensor> in(inputs.begin(), inputs.end());
    in.resize(node.inputs.size());
    kernel->create(context)->run(RunContext{1}, in, outputs);
    return outputs;
  });
}

std::vector<Tensor> evaluate_subgraph(const graph::Graph& subgraph, std::int64_t opset,
                                      const std::map<std::string, Tensor>& scope) {
  std::map<std::string, Tensor> values = scope;
  for (const auto& [name, tensor] : subgraph.initializers) values[name] = tensor;
  const auto value_of = [&](const std::string& name, const graph::Node* reader) {
    auto found = values.find(name);
    EP_CHECK(found != values.end(), "{}reads '{}', which is not defined before it",
             reader ? "node " + reader->label() + " " : "subgraph output ", name);
    return found->second;
  };
  for (const graph::Node& node : subgraph.nodes) {
    std::vector<Tensor> inputs;
    for (const std::string& input : node.inputs) {
      inputs.push_back(input.empty() ? Tensor() : value_of(input, &node));
    }
    std::vector<Tensor> outputs = evaluate_node(node, opset, inputs);
    for (std::size_t i = 0; i < node.outputs.size(); ++i) {
      if (!node.outputs[i].empty()) values[node.outputs[i]] = std::move(outputs[i]);
    }
  }
  std::vector<Tensor> results;
  for (const graph::ValueInfo& output : subgraph.outputs) {
    results.push_back(value_of(output.name, nullptr));
  }
  return results;
}

}  // namespace edgeperf::runtime
