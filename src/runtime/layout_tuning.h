#pragma once
// Choosing a plan's activation layout by measurement (SessionOptions::tune_layout).
#include <functional>
#include <memory>

#include "edgeperf/runtime/session.h"
#include "plan.h"

namespace edgeperf::runtime {

struct LayoutTunedPlan {
  std::unique_ptr<Plan> plan;
  ActivationLayout layout = ActivationLayout::automatic;
  LayoutChoice choice;
};

// `automatic` was built by `build(ActivationLayout::automatic)` and is layout_sensitive().
// When it runs in under
// `max_ms`, it is timed, freed, and `build(blocked)` is timed; the blocked plan is kept only
// when at least 3% faster, else the automatic plan is built again. One plan is alive at a
// time. A plan that fails on the timing inputs keeps `automatic`.
LayoutTunedPlan tune_layout(std::unique_ptr<Plan> automatic, int threads, double max_ms,
                            const std::function<std::unique_ptr<Plan>(ActivationLayout)>& build);

}  // namespace edgeperf::runtime
