#include "edgeperf/runtime/static_eval.h"

#include <algorithm>

#include "edgeperf/runtime/reference.h"

namespace edgeperf::runtime {
namespace {

PrepareContext context_for(const graph::Node& node, std::int64_t opset,
                           const StaticEvaluation& known, bool& all_constant) {
  PrepareContext context{node, {}, {}, {}, {}, opset};
  all_constant = true;
  for (const std::string& input : node.inputs) {
    if (input.empty()) {
      context.inputs.push_back(TensorDesc{DType::f32, {}, false});
      context.constants.push_back(nullptr);
      continue;
    }
    context.inputs.push_back(known.descs.at(input));
    auto constant = known.constants.find(input);
    context.constants.push_back(constant == known.constants.end() ? nullptr : &constant->second);
    all_constant = all_constant && constant != known.constants.end();
  }
  return context;
}

// False when the node's output shapes depend on values known only at run time.
bool infer(const KernelRegistration& kernel, PrepareContext& context, StaticEvaluation& known) {
  const graph::Node& node = context.node;
  try {
    kernel.infer(context);
  } catch (const DataDependentShape&) {
    return false;
  } catch (const Error& error) {
    throw error.with_context("node " + node.label());
  }
  EP_CHECK(context.outputs.size() >= node.outputs.size(),
           "node {}: shape inference produced {} outputs for {}", node.label(),
           context.outputs.size(), node.outputs.size());
  for (std::size_t i = 0; i < node.outputs.size(); ++i) {
    if (node.outputs[i].empty()) continue;
    element_count(context.outputs[i].shape, "output '" + node.outputs[i] + "'");
    known.descs[node.outputs[i]] = context.outputs[i];
  }
  return true;
}

bool reads_any(const graph::Node& node, const std::set<std::string>& values) {
  return std::any_of(node.inputs.begin(), node.inputs.end(),
                     [&](const std::string& input) { return values.count(input) != 0; });
}

void interpret(const graph::Node& node, StaticEvaluation& known) {
  known.interpreted_nodes.push_back(&node);
  for (const std::string& output : node.outputs) {
    if (!output.empty()) known.interpreted_values.insert(output);
  }
}

bool values_inferred(const PrepareContext& context) {
  return !context.output_values.empty() &&
         std::all_of(context.output_values.begin(), context.output_values.end(),
                     [](const auto& value) { return value.has_value(); });
}

std::vector<Tensor> evaluate(const KernelRegistration& kernel, const PrepareContext& context) {
  std::vector<Tensor> in;
  for (const Tensor* constant : context.constants) in.push_back(constant ? *constant : Tensor());
  std::vector<Tensor> out;
  for (const TensorDesc& desc : context.outputs) out.emplace_back(desc.dtype, desc.shape);
  with_error_context("node " + context.node.label(),
                     [&] { kernel.create(context)->run(RunContext{1}, in, out); });
  return out;
}

}  // namespace

StaticEvaluation evaluate_static(const graph::Graph& graph,
                                 const std::map<std::string, TensorDesc>& inputs,
                                 const std::set<std::string>& traced_ops) {
  StaticEvaluation known;
  known.descs = inputs;
  known.constants = graph.initializers;
  for (const auto& [name, tensor] : graph.initializers) {
    known.descs[name] = TensorDesc{tensor.dtype(), tensor.shape()};
  }
  for (const graph::Node& node : graph.nodes) {
    if (reads_any(node, known.interpreted_values)) {
      interpret(node, known);
      continue;
    }
    bool all_constant = false;
    PrepareContext context = context_for(node, graph.opset, known, all_constant);
    const KernelRegistration* kernel = find_reference_kernel(node);
    EP_CHECK(kernel != nullptr, "node {}: no kernel for {}", node.label(), registry_key(node));
    if (!infer(*kernel, context, known)) {
      interpret(node, known);
      continue;
    }
    if (values_inferred(context)) {
      for (std::size_t i = 0; i < node.outputs.size(); ++i) {
        known.constants[node.outputs[i]] = *context.output_values[i];
      }
      continue;
    }
    if (all_constant && !node.inputs.empty()) {  // fold at load time
      std::vector<Tensor> values = evaluate(*kernel, context);
      for (std::size_t i = 0; i < node.outputs.size(); ++i) {
        if (node.outputs[i].empty()) continue;
        known.constants[node.outputs[i]] = std::move(values[i]);
        if (traced_ops.count(node.op_type) && node.domain.empty())
          known.folded_from[node.outputs[i]] = FoldedFrom{&node, context.constants};
      }
      continue;
    }
    known.runtime_nodes.push_back(
        PlannedNode{&node, context.inputs, context.constants, context.outputs});
  }
  return known;
}

}  // namespace edgeperf::runtime
