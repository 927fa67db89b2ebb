// Constant folding: nodes whose inputs are all known before running (initializers,
// Constant nodes, Shape of statically shaped values) become initializers.
#include <fmt/format.h>

#include <set>

#include "edgeperf/graph/editor.h"
#include "edgeperf/passes/passes.h"
#include "graph_edit.h"

namespace edgeperf::passes {
namespace {

constexpr std::string_view kPass = "fold-constants";

// Values read by nodes that stay in the graph: only those become initializers.
std::set<std::string> values_read_by_kept_nodes(const graph::Graph& graph,
                                                const std::vector<bool>& folded) {
  std::set<std::string> read;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!folded[i]) read.insert(graph.nodes[i].inputs.begin(), graph.nodes[i].inputs.end());
  }
  return read;
}

std::string folded_outputs_text(const graph::Node& node, const detail::StaticValues& values,
                                const std::set<std::string>& materialized) {
  std::string text;
  for (const std::string& output : node.outputs) {
    if (output.empty()) continue;
    const Tensor& value = values.constants.at(output);
    text += fmt::format("{}'{}' {}{}", text.empty() ? "" : ", ", output,
                        detail::describe(value.dtype(), value.shape()),
                        materialized.count(output) ? " (initializer)" : "");
  }
  return text;
}

}  // namespace

PassLog fold_constants(graph::Graph& graph, const PassOptions& options) {
  graph::topological_sort(graph);
  detail::StaticValues values = detail::evaluate_statically(
      graph, detail::EvalOptions{std::nullopt, options.fold_limit_bytes});
  PassLog log;
  // A graph output keeps its producer: ONNX graph outputs are node outputs.
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const std::string& output : graph.nodes[i].outputs) {
      if (values.folded[i] && graph.is_output(output)) {
        values.folded[i] = false;
        log.push_back({std::string(kPass),
                       fmt::format("{} kept: its output '{}' is a graph output",
                                   graph.nodes[i].label(), output),
                       false});
      }
    }
  }
  const std::set<std::string> read = values_read_by_kept_nodes(graph, values.folded);
  std::set<std::string> materialized;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!values.folded[i]) continue;
    for (const std::string& output : graph.nodes[i].outputs) {
      if (!output.empty() && read.count(output)) materialized.insert(output);
    }
  }
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const graph::Node& node = graph.nodes[i];
    if (values.folded[i]) {
      log.push_back({std::string(kPass),
                     fmt::format("{} folded -> {}", node.label(),
                                 folded_outputs_text(node, values, materialized)),
                     true});
    } else if (!values.not_folded_reason[i].empty()) {
      log.push_back({std::string(kPass),
                     fmt::format("{} {}", node.label(), values.not_folded_reason[i]), false});
    }
  }
  for (const std::string& value : materialized) {
    graph.initializers[value] = values.constants.at(value);
  }
  graph::Editor(graph).erase(values.folded);
  graph::prune_value_info(graph);
  return log;
}

}  // namespace edgeperf::passes
