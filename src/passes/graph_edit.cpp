#include "graph_edit.h"

#include <fmt/format.h>

#include <algorithm>

#include "edgeperf/core/error.h"
#include "edgeperf/runtime/reference.h"

namespace edgeperf::passes::detail {

std::string describe(DType dtype, const Shape& shape) {
  return fmt::format("{}{}", dtype_name(dtype), shape_to_string(shape));
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

std::map<std::string, runtime::TensorDesc> known_inputs(const graph::Graph& graph,
                                                        const EvalOptions& options) {
  std::map<std::string, runtime::TensorDesc> descs;
  for (const graph::ValueInfo& input : graph.inputs) {
    if (!input.has_shape) continue;
    if (!input.is_static() && !options.symbolic_size) continue;
    descs[input.name] =
        runtime::TensorDesc{input.dtype, input.resolved_shape(options.symbolic_size.value_or(1))};
  }
  return descs;
}

}  // namespace

StaticValues evaluate_statically(const graph::Graph& graph, const EvalOptions& options) {
  runtime::StaticEvalOptions evaluation;
  evaluation.tolerant = true;
  evaluation.fold_limit_bytes = options.limit_bytes;
  evaluation.keep = [](const graph::Node& node,
                       const runtime::PrepareContext& context) -> std::optional<std::string> {
    if (!keeps_compressed_weights(node, context)) return std::nullopt;
    return "kept: folding it would expand compressed weights";
  };
  return runtime::evaluate_static(graph, known_inputs(graph, options), evaluation);
}

}  // namespace edgeperf::passes::detail
