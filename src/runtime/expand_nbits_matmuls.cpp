#include "edgeperf/runtime/expand_nbits_matmuls.h"

#include <set>
#include <string>
#include <vector>

#include "edgeperf/graph/editor.h"
#include "edgeperf/runtime/reference.h"

namespace edgeperf::runtime {
namespace {

enum NBitsInput : std::size_t { kA, kB, kScales, kZeroPoints, kGroupIndex, kBias };

bool is_initializer(const graph::Graph& graph, const graph::Node& node, std::size_t input) {
  return node.has_input(input) && graph.initializers.count(node.inputs[input]) != 0;
}

std::vector<graph::Node> expand(const graph::Graph& graph, graph::Editor& editor,
                                const graph::Node& node) {
  const Tensor no_zero_points;
  const Tensor weights = dequantize_matmul_nbits(
      node, graph.initializers.at(node.inputs[kB]), graph.initializers.at(node.inputs[kScales]),
      node.has_input(kZeroPoints) ? graph.initializers.at(node.inputs[kZeroPoints])
                                  : no_zero_points);
  const std::string w = editor.add_initializer(node.inputs[kB] + "/dequantized", weights);
  const bool has_bias = node.has_input(kBias);
  const std::string product =
      has_bias ? editor.fresh_name(node.outputs[0] + "/matmul") : node.outputs[0];
  std::vector<graph::Node> nodes;
  nodes.push_back(graph::make_node("MatMul", node.name, {node.inputs[kA], w}, {product}));
  if (has_bias) {
    nodes.push_back(graph::make_node("Add", node.name + "/bias", {product, node.inputs[kBias]},
                                     {node.outputs[0]}));
  }
  return nodes;
}

// Drops the initializers among `names` that no node reads (a subgraph's reads are its
// node's inputs too) and that are not graph outputs: the packed weights, once
// dequantized, are not kept twice.
void drop_unread(graph::Graph& graph, const std::set<std::string>& names) {
  std::set<std::string> read;
  for (const graph::Node& node : graph.nodes) read.insert(node.inputs.begin(), node.inputs.end());
  for (const graph::ValueInfo& output : graph.outputs) read.insert(output.name);
  for (const std::string& name : names) {
    if (!read.count(name)) graph.initializers.erase(name);
  }
}

}  // namespace

bool is_expandable_nbits_matmul(const graph::Graph& graph, const graph::Node& node) {
  return node.domain == "com.microsoft" && node.op_type == "MatMulNBits" &&
         node.outputs.size() == 1 && node.has_input(kA) && is_initializer(graph, node, kB) &&
         is_initializer(graph, node, kScales) &&
         (!node.has_input(kZeroPoints) || is_initializer(graph, node, kZeroPoints)) &&
         !node.has_input(kGroupIndex);
}

std::size_t expand_nbits_matmuls(graph::Graph& graph) {
  std::size_t count = 0;
  for (const graph::Node& node : graph.nodes) count += is_expandable_nbits_matmul(graph, node);
  if (count == 0) return 0;
  graph::Editor editor(graph);
  std::vector<graph::Node> rewritten;
  std::set<std::string> replaced;  // the packed weights' initializers
  for (const graph::Node& node : graph.nodes) {
    if (!is_expandable_nbits_matmul(graph, node)) {
      rewritten.push_back(node);
      continue;
    }
    for (std::size_t input : {kB, kScales, kZeroPoints}) {
      if (node.has_input(input)) replaced.insert(node.inputs[input]);
    }
    for (graph::Node& part : expand(graph, editor, node)) rewritten.push_back(std::move(part));
  }
  graph.nodes = std::move(rewritten);
  drop_unread(graph, replaced);
  return count;
}

}  // namespace edgeperf::runtime
