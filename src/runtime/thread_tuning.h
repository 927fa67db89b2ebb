#pragma once
// Choosing a plan's thread count by measurement (SessionOptions::tune_threads).
#include <functional>
#include <memory>

#include "edgeperf/runtime/session.h"
#include "plan.h"

namespace edgeperf::runtime {

struct TunedPlan {
  std::unique_ptr<Plan> plan;
  ThreadChoice choice;
};

// `wide` was built for `threads` (> 1). When it runs in under `max_ms`, `build_single`
// makes the one-thread plan and both are timed interleaved; the faster is kept (one
// thread only when at least 5% faster). A plan that fails on the timing inputs (a model
// whose integer inputs must be valid indices, say) keeps `wide`.
TunedPlan tune_threads(std::unique_ptr<Plan> wide, int threads, double max_ms,
                       const std::function<std::unique_ptr<Plan>()>& build_single);

}  // namespace edgeperf::runtime
