// Identity and inference-mode Dropout removal.
#include <fmt/format.h>

#include <algorithm>

#include "edgeperf/passes/passes.h"
#include "graph_edit.h"

namespace edgeperf::passes {
namespace {

constexpr std::string_view kPass = "remove-identity";

// Why the Dropout must stay, or nothing when it is a no-op at inference.
std::optional<std::string> dropout_blocker(const graph::Graph& graph, const graph::Node& node) {
  if (node.has_input(2)) {
    const auto mode = graph.initializers.find(node.inputs[2]);
    if (mode == graph.initializers.end()) {
      return fmt::format("training_mode '{}' is not a constant", node.inputs[2]);
    }
    const std::vector<std::int64_t> flags = mode->second.to_int64s();
    if (flags.size() != 1 || flags[0] != 0) return std::string("training_mode is true");
  }
  if (node.outputs.size() > 1 && !node.outputs[1].empty()) {
    const std::string& mask = node.outputs[1];
    if (detail::use_count(graph, mask) > 0 || detail::is_graph_output(graph, mask)) {
      return fmt::format("its mask output '{}' is used", mask);
    }
  }
  return std::nullopt;
}

std::optional<std::string> removal_blocker(const graph::Graph& graph, const graph::Node& node) {
  if (node.inputs.empty() || node.inputs[0].empty() || node.outputs.empty()) {
    return std::string("it has no data input or output");
  }
  if (node.op_type == "Dropout") {
    if (auto blocker = dropout_blocker(graph, node)) return blocker;
  }
  const std::string& in = node.inputs[0];
  const std::string& out = node.outputs[0];
  if (!detail::is_graph_output(graph, out)) return std::nullopt;
  // The output name must survive: the producer of `in` takes it over.
  if (detail::is_graph_input(graph, in) || graph.initializers.count(in)) {
    return fmt::format("it copies graph input or initializer '{}' to graph output '{}'", in, out);
  }
  if (detail::is_graph_output(graph, in)) {
    return fmt::format("both '{}' and '{}' are graph outputs", in, out);
  }
  if (!detail::producer_index(graph, in)) return fmt::format("'{}' has no producer", in);
  return std::nullopt;
}

// Removes node `index`, whose output is not a graph output: consumers read its input.
// When its output is a graph output, the input's producer is renamed to write it.
void bypass(graph::Graph& graph, std::size_t index) {
  const std::string in = graph.nodes[index].inputs[0];
  const std::string out = graph.nodes[index].outputs[0];
  graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(index));
  if (!detail::is_graph_output(graph, out)) {
    detail::replace_uses(graph, out, in);
    return;
  }
  graph::Node& producer = graph.nodes[*detail::producer_index(graph, in)];
  std::replace(producer.outputs.begin(), producer.outputs.end(), in, out);
  detail::replace_uses(graph, in, out);
}

}  // namespace

PassLog remove_identities(graph::Graph& graph, const PassOptions& options) {
  PassLog log;
  for (std::size_t i = 0; i < graph.nodes.size();) {
    const graph::Node& node = graph.nodes[i];
    const bool candidate =
        node.domain.empty() && (node.op_type == "Identity" || node.op_type == "Dropout");
    if (!candidate) {
      ++i;
      continue;
    }
    if (auto blocker = removal_blocker(graph, node)) {
      log.push_back(
          {std::string(kPass), fmt::format("{} kept: {}", node.label(), *blocker), false});
      ++i;
      continue;
    }
    const std::string& in = node.inputs[0];
    const std::string& out = node.outputs[0];
    const std::string effect =
        detail::is_graph_output(graph, out)
            ? fmt::format("the producer of '{}' now writes graph output '{}'", in, out)
            : fmt::format("readers of '{}' now read '{}'", out, in);
    log.push_back({std::string(kPass), fmt::format("{} removed: {}", node.label(), effect), true});
    bypass(graph, i);
  }
  detail::prune_value_info(graph);
  graph::topological_sort(graph);
  return log;
}

}  // namespace edgeperf::passes
