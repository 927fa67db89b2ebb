#include "edgeperf/runtime/expand_fused_ops.h"

#include <fmt/format.h>

#include "edgeperf/core/error.h"
#include "edgeperf/graph/editor.h"
#include "edgeperf/graph/ops/clip.h"

namespace edgeperf::runtime {
namespace {

constexpr std::string_view kContribDomain = "com.microsoft";

struct ActivationSpec {
  std::string op;             // ONNX op type; empty: none
  std::vector<float> params;  // FusedConv activation_params order
};

std::size_t param_count(const graph::Node& node, const std::string& op) {
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "HardSwish") return 0;
  if (op == "LeakyRelu") return 1;
  if (op == "Clip" || op == "HardSigmoid") return 2;
  fail(
      "node {}: unsupported activation '{}' (supported: Relu, Sigmoid, Tanh, LeakyRelu, Clip, "
      "HardSigmoid, HardSwish)",
      node.label(), op);
}

ActivationSpec conv_activation(const graph::Node& node) {
  ActivationSpec spec{node.attr_string("activation", ""), node.attr_floats("activation_params")};
  if (spec.op.empty()) return spec;
  const std::size_t expected = param_count(node, spec.op);
  EP_CHECK(spec.params.size() == expected,
           "node {}: activation {} needs {} activation_params, got {}", node.label(), spec.op,
           expected, spec.params.size());
  return spec;
}

ActivationSpec gemm_activation(const graph::Node& node) {
  ActivationSpec spec{node.attr_string("activation", ""), {}};
  if (spec.op.empty()) return spec;
  const std::size_t expected = param_count(node, spec.op);
  if (spec.op == "LeakyRelu") spec.params = {node.attr_float("activation_alpha", 0.01f)};
  if (spec.op == "HardSigmoid") {
    spec.params = {node.attr_float("activation_alpha", 0.2f),
                   node.attr_float("activation_beta", 0.5f)};
  }
  EP_CHECK(spec.op != "Clip", "node {}: FusedGemm has no Clip activation", node.label());
  EP_CHECK(spec.params.size() == expected, "node {}: activation {} is missing its parameters",
           node.label(), spec.op);
  return spec;
}

graph::Node activation_node(graph::Editor& editor, const graph::Node& fused,
                            const ActivationSpec& spec, const std::string& input) {
  graph::Node node =
      graph::make_node(spec.op, fused.name + "/" + spec.op, {input}, {fused.outputs.at(0)});
  if (spec.op == "LeakyRelu") node.attrs["alpha"] = spec.params[0];
  if (spec.op == "HardSigmoid") {
    node.attrs["alpha"] = spec.params[0];
    node.attrs["beta"] = spec.params[1];
  }
  if (spec.op == "Clip") {
    graph::ops::ClipBounds{spec.params[0], spec.params[1]}.write_to(node, editor, fused.name);
  }
  return node;
}

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
  const ActivationSpec spec = is_conv ? conv_activation(fused) : gemm_activation(fused);
  const std::string sum = is_conv && fused.has_input(3) ? fused.inputs[3] : "";
  graph::Node base = base_node(fused, is_conv ? "Conv" : "Gemm", 3);
  std::vector<graph::Node> nodes;
  std::string value = fused.outputs[0];
  if (!sum.empty() || !spec.op.empty()) {
    value = editor.fresh_name(fused.outputs[0] + (is_conv ? "/conv" : "/gemm"));
  }
  base.outputs = {value};
  nodes.push_back(std::move(base));
  if (!sum.empty()) {
    const std::string added =
        spec.op.empty() ? fused.outputs[0] : editor.fresh_name(value + "/sum");
    nodes.push_back(graph::make_node("Add", fused.name + "/add", {value, sum}, {added}));
    value = added;
  }
  if (!spec.op.empty()) nodes.push_back(activation_node(editor, fused, spec, value));
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
