#include "edgeperf/graph/editor.h"

#include <fmt/format.h>

#include <algorithm>

#include "edgeperf/core/error.h"

namespace edgeperf::graph {

FreshNames::FreshNames(const Graph& graph, Scope scope) {
  for (const ValueInfo& input : graph.inputs) taken_.insert(input.name);
  for (const ValueInfo& output : graph.outputs) taken_.insert(output.name);
  for (const auto& [name, tensor] : graph.initializers) taken_.insert(name);
  for (const Node& node : graph.nodes) {
    if (scope == Scope::values_and_nodes) taken_.insert(node.name);
    taken_.insert(node.inputs.begin(), node.inputs.end());
    taken_.insert(node.outputs.begin(), node.outputs.end());
  }
}

std::string FreshNames::take(const std::string& base, std::string_view separator) {
  std::string name = base;
  for (int suffix = 1; is_taken(name); ++suffix) {
    name = fmt::format("{}{}{}", base, separator, suffix);
  }
  taken_.insert(name);
  return name;
}

std::string FreshNames::take_short() {
  std::string name;
  do {
    name = fmt::format("t{}", next_short_++);
  } while (is_taken(name));
  taken_.insert(name);
  return name;
}

FreshNames& Editor::names() {
  if (!names_) names_.emplace(graph_, scope_);
  return *names_;
}

std::string Editor::add_initializer(const std::string& base, Tensor value) {
  std::string name = fresh_name(base);
  graph_.initializers.emplace(name, std::move(value));
  return name;
}

void Editor::replace_uses(const std::string& from, const std::string& to) {
  for (Node& node : graph_.nodes) std::replace(node.inputs.begin(), node.inputs.end(), from, to);
}

void Editor::erase(const std::vector<bool>& flags) {
  EP_CHECK(flags.size() == graph_.nodes.size(), "graph '{}': {} erase flags for {} nodes",
           graph_.name, flags.size(), graph_.nodes.size());
  std::vector<Node> kept;
  kept.reserve(graph_.nodes.size());
  for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
    if (!flags[i]) kept.push_back(std::move(graph_.nodes[i]));
  }
  graph_.nodes = std::move(kept);
}

Node make_node(std::string op_type, std::string name, std::vector<std::string> inputs,
               std::vector<std::string> outputs, std::map<std::string, AttrValue> attrs) {
  Node node;
  node.op_type = std::move(op_type);
  node.name = std::move(name);
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attrs = std::move(attrs);
  return node;
}

}  // namespace edgeperf::graph
