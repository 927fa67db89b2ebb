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

// The region step for nodes [first, last), or the index of a node oneDNN refused:
// no table entry could create a primitive for its configuration.
struct BuildResult {
  std::optional<Step> step;
  std::size_t refused = 0;
};

BuildResult build_region(const LoweringInput& input, std::size_t first, std::size_t last,
                         const std::vector<bool>& enabled) {
  RegionContext context(input, first, last, enabled);
  for (std::size_t index = first; index < last; ++index) {
    if (context.is_claimed(index)) continue;
    context.claim(index);
    bool lowered = false;
    try {
      lowered = lower_node(context, index);
    } catch (const dnnl::error&) {
      lowered = false;
    }
    if (!lowered) return {std::nullopt, index};
  }
  return {context.finish(), 0};
}

}  // namespace

// oneDNN's refusals depend on the layouts chosen for the values before the node (and
// on the ISA), which exist only once those nodes are lowered, so they cannot be
// matched up front. A refused node goes to the reference backend and its region is
// built again without it; every structural limit is in the ops' match functions.
std::vector<Step> lower_regions(const LoweringInput& input, const std::vector<bool>& taken,
                                RegionStats* stats) {
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
    BuildResult built = build_region(input, first, last, enabled);
    if (built.step) {
      steps.push_back(std::move(*built.step));
      first = last;
    } else {
      enabled[built.refused] = false;
      ++counts.rebuilds;
    }
  }
  counts.regions = steps.size();
  if (stats != nullptr) *stats = counts;
  return steps;
}

}  // namespace edgeperf::runtime::onednn
