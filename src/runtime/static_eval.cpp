#include "edgeperf/runtime/static_eval.h"

#include <algorithm>
#include <set>

#include "edgeperf/runtime/reference.h"

namespace edgeperf::runtime {
namespace {

// The node's inputs as known so far; false when some input's descriptor is unknown
// (only in tolerant evaluations).
bool context_for(const graph::Node& node, const StaticEvaluation& known, PrepareContext& context,
                 bool& all_constant) {
  all_constant = true;
  for (const std::string& input : node.inputs) {
    if (input.empty()) {
      context.inputs.push_back(TensorDesc{DType::f32, {}, false});
      context.constants.push_back(nullptr);
      continue;
    }
    const auto desc = known.descs.find(input);
    if (desc == known.descs.end()) return false;
    context.inputs.push_back(desc->second);
    auto constant = known.constants.find(input);
    context.constants.push_back(constant == known.constants.end() ? nullptr : &constant->second);
    all_constant = all_constant && constant != known.constants.end();
  }
  return true;
}

enum class Inferred { yes, data_dependent, failed };

// Output descriptors into `known`. A failure throws (naming the node) unless tolerant.
Inferred infer(const KernelRegistration& kernel, PrepareContext& context, StaticEvaluation& known,
               bool tolerant) {
  const graph::Node& node = context.node;
  try {
    kernel.infer(context);
    EP_CHECK(context.outputs.size() >= node.outputs.size(),
             "shape inference produced {} outputs for {}", context.outputs.size(),
             node.outputs.size());
    for (std::size_t i = 0; i < node.outputs.size(); ++i) {
      if (!node.outputs[i].empty())
        element_count(context.outputs[i].shape, "output '" + node.outputs[i] + "'");
    }
  } catch (const DataDependentShape&) {
    return Inferred::data_dependent;
  } catch (const Error& error) {
    if (tolerant) return Inferred::failed;
    throw error.with_context("node " + node.label());
  }
  for (std::size_t i = 0; i < node.outputs.size(); ++i) {
    if (!node.outputs[i].empty()) known.descs[node.outputs[i]] = context.outputs[i];
  }
  return Inferred::yes;
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
  if (values_inferred(context)) {
    std::vector<Tensor> values;
    for (const auto& value : context.output_values) values.push_back(*value);
    return values;
  }
  std::vector<Tensor> in;
  for (const Tensor* constant : context.constants) in.push_back(constant ? *constant : Tensor());
  std::vector<Tensor> out;
  for (const TensorDesc& desc : context.outputs) out.emplace_back(desc.dtype, desc.shape);
  with_error_context("node " + context.node.label(),
                     [&] { kernel.create(context)->run(RunContext{1}, in, out); });
  return out;
}

// Why a constant node stays unfolded, or nullopt.
std::optional<std::string> reason_to_keep(const PrepareContext& context,
                                          const StaticEvalOptions& options) {
  if (options.keep) {
    if (auto reason = options.keep(context.node, context)) return reason;
  }
  std::size_t output_bytes = 0;
  for (std::size_t o = 0; o < context.node.outputs.size(); ++o) {
    if (!context.node.outputs[o].empty()) output_bytes += context.outputs[o].nbytes();
  }
  if (output_bytes > options.fold_limit_bytes) {
    return fmt::format("kept: its output would take {} (folding cap {})", bytes_text(output_bytes),
                       bytes_text(options.fold_limit_bytes));
  }
  return std::nullopt;
}

// Whether the fold of this node waits until its values are needed.
bool defers(const PrepareContext& context, const StaticEvalOptions& options,
            const std::set<std::string>& graph_outputs) {
  const graph::Node& node = context.node;
  if (!options.traced_ops.count(node.op_type) || !node.domain.empty()) return false;
  if (values_inferred(context)) return false;
  std::size_t bytes = 0;
  for (std::size_t o = 0; o < node.outputs.size(); ++o) {
    if (node.outputs[o].empty()) continue;
    if (graph_outputs.count(node.outputs[o])) return false;
    bytes += context.outputs[o].nbytes();
  }
  return bytes >= options.defer_traced_bytes;
}

// Folds node `index` into `known.constants`; false (with a reason) when it stays.
bool fold(const KernelRegistration& kernel, const PrepareContext& context, std::size_t index,
          const StaticEvalOptions& options, const std::set<std::string>& graph_outputs,
          StaticEvaluation& known) {
  const graph::Node& node = context.node;
  if (auto reason = reason_to_keep(context, options)) {
    known.not_folded_reason[index] = *reason;
    return false;
  }
  if (defers(context, options, graph_outputs)) {
    for (std::size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i].empty()) continue;
      known.constants[node.outputs[i]] =
          Tensor::read_only_zeros(context.outputs[i].dtype, context.outputs[i].shape);
      known.deferred.emplace(node.outputs[i], DeferredFold{&kernel, context, i});
      known.folded_from[node.outputs[i]] = FoldedFrom{&node, context.constants};
    }
    known.folded[index] = true;
    return true;
  }
  std::vector<Tensor> values;
  try {
    values = evaluate(kernel, context);
  } catch (const Error& error) {
    if (!options.tolerant) throw;
    known.not_folded_reason[index] = "kept: evaluating it failed: " + std::string(error.what());
    return false;
  }
  for (std::size_t i = 0; i < node.outputs.size() && i < values.size(); ++i) {
    if (node.outputs[i].empty()) continue;
    known.constants[node.outputs[i]] = std::move(values[i]);
    if (options.traced_ops.count(node.op_type) && node.domain.empty())
      known.folded_from[node.outputs[i]] = FoldedFrom{&node, context.constants};
  }
  known.folded[index] = true;
  return true;
}

}  // namespace

void materialize(StaticEvaluation& known, const std::string& name) {
  const auto found = known.deferred.find(name);
  if (found == known.deferred.end()) return;
  const DeferredFold fold = found->second;
  known.deferred.erase(found);
  std::vector<Tensor> values = evaluate(*fold.kernel, fold.context);
  known.constants[name] = std::move(values.at(fold.output));
}

StaticEvaluation evaluate_static(const graph::Graph& graph,
                                 const std::map<std::string, TensorDesc>& inputs,
                                 const StaticEvalOptions& options) {
  StaticEvaluation known;
  std::set<std::string> graph_outputs;
  for (const graph::ValueInfo& output : graph.outputs) graph_outputs.insert(output.name);
  known.descs = inputs;
  known.constants = graph.initializers;
  known.folded.assign(graph.nodes.size(), false);
  known.not_folded_reason.assign(graph.nodes.size(), "");
  for (const auto& [name, tensor] : graph.initializers) {
    known.descs[name] = TensorDesc{tensor.dtype(), tensor.shape()};
  }
  for (std::size_t index = 0; index < graph.nodes.size(); ++index) {
    const graph::Node& node = graph.nodes[index];
    if (reads_any(node, known.interpreted_values)) {
      interpret(node, known);
      continue;
    }
    const KernelRegistration* kernel = find_reference_kernel(node);
    if (kernel == nullptr && options.tolerant) continue;
    EP_CHECK(kernel != nullptr, "node {}: no kernel for {}", node.label(), registry_key(node));
    PrepareContext context{node, {}, {}, {}, {}, graph.opset};
    bool all_constant = false;
    if (!context_for(node, known, context, all_constant)) {
      EP_CHECK(options.tolerant, "node {}: an input has no known shape", node.label());
      continue;
    }
    switch (infer(*kernel, context, known, options.tolerant)) {
      case Inferred::failed:
        continue;
      case Inferred::data_dependent:
        interpret(node, known);
        continue;
      case Inferred::yes:
        break;
    }
    const bool constant = values_inferred(context) || (all_constant && !node.inputs.empty());
    if (constant && !values_inferred(context)) {
      for (const std::string& input : node.inputs) materialize(known, input);
    }
    if (constant && fold(*kernel, context, index, options, graph_outputs, known)) continue;
    known.runtime_nodes.push_back(
        PlannedNode{&node, context.inputs, context.constants, context.outputs});
  }
  return known;
}

}  // namespace edgeperf::runtime
