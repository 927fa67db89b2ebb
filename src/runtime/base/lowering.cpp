// The provider chain: each provider claims what it can of the nodes offered to it and
// hands every run it leaves to the next one.
#include <algorithm>

#include "edgeperf/core/error.h"
#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime {

std::string layout_name(ActivationLayout layout) {
  return layout == ActivationLayout::blocked ? "blocked" : "automatic";
}

bool LoweringInput::is_graph_output(const std::string& value) const {
  return std::find(graph_outputs.begin(), graph_outputs.end(), value) != graph_outputs.end();
}

const std::vector<std::size_t>& LoweringInput::consumers_of(const std::string& value) const {
  static const std::vector<std::size_t> kNone;  // immutable
  auto found = consumers.find(value);
  return found == consumers.end() ? kNone : found->second;
}

const FoldedFrom* LoweringInput::folded_origin(const std::string& value) const {
  auto found = folded_from.find(value);
  return found == folded_from.end() ? nullptr : &found->second;
}

bool LoweringInput::reads_deferred(const PlannedNode& node) const {
  return std::any_of(node.node->inputs.begin(), node.node->inputs.end(),
                     [&](const std::string& value) { return deferred.count(value) != 0; });
}

LoweringInput slice(const LoweringInput& input, std::size_t first, std::size_t last) {
  LoweringInput part = input;  // keeps every field a provider may read
  part.consumers.clear();
  part.nodes.assign(input.nodes.begin() + static_cast<std::ptrdiff_t>(first),
                    input.nodes.begin() + static_cast<std::ptrdiff_t>(last));
  for (const auto& [value, consumers] : input.consumers) {
    for (std::size_t consumer : consumers) {
      if (consumer >= first && consumer < last) {
        part.consumers[value].push_back(consumer - first);
      } else if (!part.is_graph_output(value)) {
        part.graph_outputs.push_back(value);
      }
    }
  }
  return part;
}

namespace {

// Which step (index into `claimed`) covers each node; -1 where none does.
std::vector<int> owners(const std::vector<Step>& claimed, std::size_t node_count,
                        const Backend& provider) {
  std::vector<int> owner(node_count, -1);
  for (std::size_t s = 0; s < claimed.size(); ++s) {
    for (std::size_t node : claimed[s].nodes) {
      EP_CHECK(node < node_count && owner[node] < 0, "backend {} claimed node {} twice",
               provider.name(), node);
      owner[node] = static_cast<int>(s);
    }
  }
  return owner;
}

void append_shifted(std::vector<Step>& steps, std::vector<Step> more, std::size_t offset) {
  for (Step& step : more) {
    for (std::size_t& node : step.nodes) node += offset;
    steps.push_back(std::move(step));
  }
}

}  // namespace

std::vector<Step> lower_with(const LoweringInput& input, std::span<Backend* const> providers) {
  const std::size_t count = input.nodes.size();
  if (count == 0 || providers.empty()) return {};
  Backend& provider = *providers.front();
  std::vector<Step> claimed = provider.lower(input);
  const std::vector<int> owner = owners(claimed, count, provider);
  std::vector<Step> steps;
  std::vector<bool> emitted(claimed.size(), false);
  for (std::size_t first = 0; first < count;) {
    if (owner[first] >= 0) {
      if (!emitted[owner[first]]) steps.push_back(std::move(claimed[owner[first]]));
      emitted[owner[first]] = true;
      ++first;
      continue;
    }
    std::size_t last = first;
    while (last < count && owner[last] < 0) ++last;
    const LoweringInput rest = first == 0 && last == count ? input : slice(input, first, last);
    append_shifted(steps, lower_with(rest, providers.subspan(1)), first);
    first = last;
  }
  return steps;
}

}  // namespace edgeperf::runtime
