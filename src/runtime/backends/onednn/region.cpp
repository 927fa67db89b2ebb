#include "region.h"

#include <optional>

#include "ops/ops.h"
#include "region_context.h"

namespace edgeperf::runtime::onednn {
namespace {

// Lowers node `index` with the first op in the table that matches and takes it.
bool lower_node(RegionContext& context, std::size_t index) {
  for (const RegionOp& op : region_ops()) {
    if (op.match(context, index) && op.lower(context, index)) return true;
  }
  return false;
}

// Lowers node `index`; false when oneDNN refused it, its work undone.
bool lower_or_roll_back(RegionContext& context, std::size_t index, const SimulatedRefusal& refuse) {
  const RegionContext::Checkpoint before = context.checkpoint();
  context.begin_node(index);
  context.claim(index);
  try {
    if (lower_node(context, index) && !(refuse && refuse(index))) return true;
  } catch (const dnnl::error&) {
    // oneDNN refused a primitive the op needed: the same as no op taking the node.
  }
  context.roll_back(before);
  return false;
}

// The step for nodes [first, last); when oneDNN refuses a node, `refused` names it
// and `step` holds the nodes before it, if the region could end there.
struct BuildResult {
  std::optional<Step> step;
  std::optional<std::size_t> refused;
};

BuildResult build_region(const LoweringInput& input, std::size_t first, std::size_t last,
                         const std::vector<bool>& enabled, const SimulatedRefusal& refuse,
                         const RegionSettings& settings) {
  RegionContext context(input, first, last, enabled, settings);
  for (std::size_t index = first; index < last; ++index) {
    if (context.is_claimed(index) || lower_or_roll_back(context, index, refuse)) continue;
    bool ended = false;
    try {
      ended = index > first && context.end_before(index);
    } catch (const dnnl::error&) {
      // An export reorder refused: build the region again without the node instead.
    }
    if (!ended) return {std::nullopt, index};
    return {context.finish(), index};
  }
  return {context.finish(), std::nullopt};
}

}  // namespace

// oneDNN's refusals depend on the layouts chosen for the values before the node (and
// on the ISA), which exist only once those nodes are lowered, so they cannot be
// matched up front. A refused node goes to the reference backend: its region ends
// before it and a new one starts after it. Only when a chain anchored before the
// node already fused a node after it is the region built again without the node.
std::vector<Step> lower_regions(const LoweringInput& input, const std::vector<bool>& taken,
                                RegionStats* stats, const SimulatedRefusal& refuse,
                                const RegionSettings& settings) {
  RegionStats counts;
  const std::size_t count = input.nodes.size();
  std::vector<bool> enabled(count);
  for (std::size_t index = 0; index < count; ++index) {
    enabled[index] = !taken[index] && region_can_claim(input, index);
  }
  std::vector<Step> steps;
  std::size_t first = 0;
  while (first < count) {
    if (!enabled[first]) {
      ++first;
      continue;
    }
    std::size_t last = first;
    while (last < count && enabled[last]) ++last;
    BuildResult built = build_region(input, first, last, enabled, refuse, settings);
    if (built.step) steps.push_back(std::move(*built.step));
    if (!built.refused) {
      first = last;
      continue;
    }
    ++counts.refused;
    enabled[*built.refused] = false;
    if (built.step || *built.refused == first) {
      first = *built.refused + 1;
    } else {
      ++counts.rebuilds;
    }
  }
  counts.regions = steps.size();
  if (stats != nullptr) *stats = counts;
  return steps;
}

}  // namespace edgeperf::runtime::onednn
