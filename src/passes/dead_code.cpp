// Dead-code elimination: nodes that no graph output depends on, and initializers no
// remaining node reads. Graph inputs stay (they are the model's interface).
#include <fmt/format.h>

#include <set>

#include "edgeperf/graph/editor.h"
#include "edgeperf/passes/passes.h"
#include "graph_edit.h"

namespace edgeperf::passes {

PassLog eliminate_dead_code(graph::Graph& graph, const PassOptions& options) {
  constexpr std::string_view kPass = "dce";
  graph::topological_sort(graph);
  std::set<std::string> live;
  for (const graph::ValueInfo& output : graph.outputs) live.insert(output.name);
  std::vector<bool> dead(graph.nodes.size(), true);
  for (std::size_t i = graph.nodes.size(); i-- > 0;) {
    const graph::Node& node = graph.nodes[i];
    for (const std::string& output : node.outputs) dead[i] = dead[i] && !live.count(output);
    if (!dead[i]) live.insert(node.inputs.begin(), node.inputs.end());
  }
  PassLog log;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    if (dead[i]) {
      log.push_back(
          {std::string(kPass),
           fmt::format("{} removed: no graph output depends on it", graph.nodes[i].label()), true});
    }
  }
  graph::Editor(graph).erase(dead);
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();) {
    if (live.count(it->first)) {
      ++it;
      continue;
    }
    log.push_back({std::string(kPass),
                   fmt::format("initializer '{}' {} removed: nothing reads it", it->first,
                               detail::describe(it->second.dtype(), it->second.shape())),
                   true});
    it = graph.initializers.erase(it);
  }
  graph::prune_value_info(graph);
  return log;
}

}  // namespace edgeperf::passes
