#include "edgeperf/runtime/expand_fused_ops.h"

#include "edgeperf/core/error.h"
#include "edgeperf/graph/editor.h"
#include "edgeperf/graph/ops/fused_activation.h"

namespace edgeperf::runtime {
namespace {

constexpr std::string_view kContribDomain = "com.microsoft";

// The standard op (Conv or Gemm) of a fused node, minus the activation attributes.
graph::Node base_node(const graph::Node& fused, const std::string& op, std::size_t max_inputs) {
  graph::Node node = fused;
  node.op_type = op;
  node.domain.clear();
  if (node.inputs.size() > max_inputs) node.inputs.resize(max_inputs);
  while (!node.inputs.empty() && node.inputs.back().empty()) node.inputs.pop_back();
  std::erase_if(node.attrs, [](const auto& attr) { return attr.first.starts_with("activation"); });
  return node;
}

std::vector<graph::Node> expand(graph::Editor& editor, const graph::Node& fused) {
  EP_CHECK(fused.outputs.size() == 1 && !fused.outputs[0].empty(),
           "node {}: expected exactly one output", fused.label());
  const bool is_conv = fused.op_type == "FusedConv";
  const graph::ops::FusedActivation activation =
      is_conv ? graph::ops::FusedActivation::of_fused_conv(fused)
              : graph::ops::FusedActivation::of_fused_gemm(fused);
  const std::string sum = is_conv && fused.has_input(3) ? fused.inputs[3] : "";
  graph::Node base = base_node(fused, is_conv ? "Conv" : "Gemm", 3);
  std::vector<graph::Node> nodes;
  std::string value = fused.outputs[0];
  if (!sum.empty() || !activation.op.empty()) {
    value = editor.fresh_name(fused.outputs[0] + (is_conv ? "/conv" : "/gemm"));
  }
  base.outputs = {value};
  nodes.push_back(std::move(base));
  if (!sum.empty()) {
    const std::string added =
        activation.op.empty() ? fused.outputs[0] : editor.fresh_name(value + "/sum");
    nodes.push_back(graph::make_node("Add", fused.name + "/add", {value, sum}, {added}));
    value = added;
  }
  if (!activation.op.empty()) {
    nodes.push_back(activation.to_node(editor, fused.name, value, fused.outputs[0]));
  }
  return nodes;
}

}  // namespace

bool is_expandable_fused_op(const graph::Node& node) {
  return node.domain == kContribDomain &&
         (node.op_type == "FusedConv" || node.op_type == "FusedGemm");
}

std::size_t expand_fused_ops(graph::Graph& graph) {
  std::size_t count = 0;
  for (const graph::Node& node : graph.nodes) count += is_expandable_fused_op(node) ? 1 : 0;
  if (count == 0) return 0;
  graph::Editor editor(graph);
  std::vector<graph::Node> rewritten;
  for (const graph::Node& node : graph.nodes) {
    if (!is_expandable_fused_op(node)) {
      rewritten.push_back(node);
      continue;
    }
    for (graph::Node& part : expand(editor, node)) rewritten.push_back(std::move(part));
  }
  graph.nodes = std::move(rewritten);
  return count;
}

}  // namespace edgeperf::runtime
