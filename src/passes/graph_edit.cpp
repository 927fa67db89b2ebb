#include "graph_edit.h"

#include <fmt/format.h>

#include <algorithm>

#include "edgeperf/core/error.h"
#include "edgeperf/runtime/reference.h"

namespace edgeperf::passes::detail {

std::string describe(DType dtype, const Shape& shape) {
  return fmt::format("{}{}", dtype_name(dtype), shape_to_string(shape));
}

std::string describe_bytes(std::size_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < (std::size_t{1} << 20)) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

namespace {

// Folding these would undo a deliberate compression of the weights (quantized or
// half-precision weights turned back into f32 initializers).
bool keeps_compressed_weights(const graph::Node& node, const runtime::PrepareContext& context) {
  static constexpr std::string_view kQuantOps[] = {"QuantizeLinear", "DequantizeLinear",
                                                   "DynamicQuantizeLinear"};
  if (std::find(std::begin(kQuantOps), std::end(kQuantOps), node.op_type) != std::end(kQuantOps)) {
    return true;
  }
  if (node.op_type != "Cast" || context.inputs.empty() || context.outputs.empty()) return false;
  return dtype_size(context.outputs[0].dtype) > dtype_size(context.inputs[0].dtype);
}

runtime::PrepareContext make_context(const graph::Graph& graph, const graph::Node& node,
                                     const StaticValues& values, bool& all_known,
                                     bool& all_constant) {
  runtime::PrepareContext context{node, {}, {}, {}, {}, graph.opset};
  all_known = all_constant = true;
  for (const std::string& input : node.inputs) {
    if (input.empty()) {
      context.inputs.push_back(runtime::TensorDesc{DType::f32, {}, false});
      context.constants.push_back(nullptr);
      continue;
    }
    const auto desc = values.descs.find(input);
    const auto constant = values.constants.find(input);
    all_known = all_known && desc != values.descs.end();
    all_constant = all_constant && constant != values.constants.end();
    context.inputs.push_back(desc == values.descs.end() ? runtime::TensorDesc{} : desc->second);
    context.constants.push_back(constant == values.constants.end() ? nullptr : &constant->second);
  }
  return context;
}

std::optional<std::string> evaluate_node(const runtime::KernelRegistration& kernel,
                                         runtime::PrepareContext& context,
                                         std::vector<Tensor>& results) {
  const bool values_known = !context.output_values.empty() &&
                            std::all_of(context.output_values.begin(), context.output_values.end(),
                                        [](const auto& value) { return value.has_value(); });
  if (values_known) {
    for (const auto& value : context.output_values) results.push_back(*value);
    return std::nullopt;
  }
  std::vector<Tensor> in;
  for (const Tensor* constant : context.constants) in.push_back(constant ? *constant : Tensor());
  for (const runtime::TensorDesc& desc : context.outputs)
    results.emplace_back(desc.dtype, desc.shape);
  try {
    kernel.create(context)->run(runtime::RunContext{1}, in, results);
  } catch (const Error& error) {
    return std::string(error.what());
  }
  return std::nullopt;
}

void record_inputs(const graph::Graph& graph, const EvalOptions& options, StaticValues& values) {
  for (const graph::ValueInfo& input : graph.inputs) {
    if (!input.has_shape) continue;
    if (!input.is_static() && !options.symbolic_size) continue;
    values.descs[input.name] =
        runtime::TensorDesc{input.dtype, input.resolved_shape(options.symbolic_size.value_or(1))};
  }
  for (const auto& [name, tensor] : graph.initializers) {
    values.descs[name] = runtime::TensorDesc{tensor.dtype(), tensor.shape()};
    values.constants[name] = tensor;
  }
}

}  // namespace

StaticValues evaluate_statically(const graph::Graph& graph, const EvalOptions& options) {
  StaticValues values;
  values.folded.assign(graph.nodes.size(), false);
  values.not_folded_reason.assign(graph.nodes.size(), "");
  record_inputs(graph, options, values);
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const graph::Node& node = graph.nodes[i];
    const runtime::KernelRegistration* kernel = runtime::find_reference_kernel(node);
    if (kernel == nullptr) continue;
    bool all_known = false, all_constant = false;
    runtime::PrepareContext context = make_context(graph, node, values, all_known, all_constant);
    if (!all_known) continue;
    try {
      kernel->infer(context);
      for (const runtime::TensorDesc& desc : context.outputs) element_count(desc.shape);
    } catch (const Error&) {
      continue;  // the runtime reports it when the model is run
    }
    if (context.outputs.size() < node.outputs.size()) continue;
    std::size_t output_bytes = 0;
    for (std::size_t o = 0; o < node.outputs.size(); ++o) {
      if (node.outputs[o].empty()) continue;
      values.descs[node.outputs[o]] = context.outputs[o];
      output_bytes += context.outputs[o].nbytes();
    }
    const bool values_known =
        !context.output_values.empty() &&
        std::all_of(context.output_values.begin(), context.output_values.end(),
                    [](const auto& value) { return value.has_value(); });
    if (!values_known && !(all_constant && !node.inputs.empty())) continue;
    if (keeps_compressed_weights(node, context)) {
      values.not_folded_reason[i] = "kept: folding it would expand compressed weights";
      continue;
    }
    if (output_bytes > options.limit_bytes) {
      values.not_folded_reason[i] =
          fmt::format("kept: its output would take {} (folding cap {})",
                      describe_bytes(output_bytes), describe_bytes(options.limit_bytes));
      continue;
    }
    std::vector<Tensor> results;
    if (auto problem = evaluate_node(*kernel, context, results)) {
      values.not_folded_reason[i] = "kept: evaluating it failed: " + *problem;
      continue;
    }
    for (std::size_t o = 0; o < node.outputs.size() && o < results.size(); ++o) {
      if (!node.outputs[o].empty()) values.constants[node.outputs[o]] = results[o];
    }
    values.folded[i] = true;
  }
  return values;
}

}  // namespace edgeperf::passes::detail
