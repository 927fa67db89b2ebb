#include "edgeperf/graph/ops/constant.h"

#include <vector>

#include "edgeperf/core/error.h"

namespace edgeperf::graph::ops {
namespace {

bool is_constant_node(const Node& node) {
  return node.op_type == "Constant" && (node.domain.empty() || node.domain == "ai.onnx");
}

Tensor vector_tensor(const std::vector<float>& values) {
  return make_tensor<float>({static_cast<std::int64_t>(values.size())}, values);
}

Tensor vector_tensor(const std::vector<std::int64_t>& values) {
  return make_tensor<std::int64_t>({static_cast<std::int64_t>(values.size())}, values);
}

bool holds_readable_value(const Node& node) {
  return node.has_attr("value") || node.has_attr("value_float") || node.has_attr("value_int") ||
         node.has_attr("value_floats") || node.has_attr("value_ints");
}

}  // namespace

Tensor constant_node_value(const Node& constant) {
  if (constant.has_attr("value")) return constant.attr_tensor("value").clone();
  if (constant.has_attr("value_float")) {
    return make_tensor<float>({}, {constant.attr_float("value_float", 0.0f)});
  }
  if (constant.has_attr("value_int")) {
    return make_tensor<std::int64_t>({}, {constant.attr_int("value_int")});
  }
  if (constant.has_attr("value_floats")) return vector_tensor(constant.attr_floats("value_floats"));
  if (constant.has_attr("value_ints")) return vector_tensor(constant.attr_ints("value_ints"));
  fail("node {}: needs one of the attributes value, value_float(s), value_int(s)",
       constant.label());
}

std::size_t hoist_constant_nodes(Graph& graph) {
  const auto hoistable = [&](const Node& node) {
    return is_constant_node(node) && holds_readable_value(node) && node.outputs.size() == 1 &&
           !node.outputs[0].empty() && !graph.is_output(node.outputs[0]) &&
           !graph.initializers.count(node.outputs[0]);
  };
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  std::size_t hoisted = 0;
  for (Node& node : graph.nodes) {
    if (hoistable(node)) {
      graph.initializers.emplace(node.outputs[0], constant_node_value(node));
      ++hoisted;
    } else {
      kept.push_back(std::move(node));
    }
  }
  graph.nodes = std::move(kept);
  return hoisted;
}

}  // namespace edgeperf::graph::ops
