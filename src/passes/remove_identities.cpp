// Identity and inference-mode Dropout removal.
#include <fmt/format.h>

#include <algorithm>

#include "edgeperf/graph/editor.h"
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
    if (graph.use_count(mask) > 0 || graph.is_output(mask)) {
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
  if (!graph.is_output(out)) return std::nullopt;
  // The output name must survive: the producer of `in` takes it over.
  if (graph.find_input(in) != nullptr || graph.initializers.count(in)) {
    return fmt::format("it copies graph input or initializer '{}' to graph output '{}'", in, out);
  }
  if (graph.is_output(in)) {
    return fmt::format("both '{}' and '{}' are graph outputs", in, out);
  }
  if (!graph.producer_index(in)) return fmt::format("'{}' has no producer", in);
  return std::nullopt;
}

// Removes node `index`, whose output is not a graph output: consumers read its input.
// When its output is a graph output, the input's producer is renamed to write it.
void bypass(graph::Graph& graph, std::size_t index) {
  const std::string in = graph.nodes[index].inputs[0];
  const std::string out = graph.nodes[index].outputs[0];
  graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(index));
  if (!graph.is_output(out)) {
    graph::Editor(graph).replace_uses(out, in);
    return;
  }
  graph::Node& producer = graph.nodes[*graph.producer_index(in)];
  std::replace(producer.outputs.begin(), producer.outputs.end(), in, out);
  graph::Editor(graph).replace_uses(in, out);
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
        graph.is_output(out)
            ? fmt::format("the producer of '{}' now writes graph output '{}'", in, out)
            : fmt::format("readers of '{}' now read '{}'", out, in);
    log.push_back({std::string(kPass), fmt::format("{} removed: {}", node.label(), effect), true});
    bypass(graph, i);
  }
  graph::prune_value_info(graph);
  graph::topological_sort(graph);
  return log;
}

}  // namespace edgeperf::passes
