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
  // Chosen before the threads (layout_tuning.h); tune_threads keeps it.
  ActivationLayout layout = ActivationLayout::automatic;
  LayoutChoice layout_choice;
};

// `wide` was built by `build(threads)`, threads > 1. When it runs in under `max_ms`, it is
// timed, freed, and `build(1)` is timed; one thread is kept only when at least 5% faster,
// else the wide plan is built again. One plan is alive at a time and freed pages are
// trimmed, so tuning adds little peak memory (GoogLeNet at 2 threads: 134-136 MiB against
// 119-123 MiB untuned). A plan that fails on the timing inputs (a model whose integer inputs must
// be valid indices, say) keeps `wide`.
TunedPlan tune_threads(std::unique_ptr<Plan> wide, int threads, double max_ms,
                       const std::function<std::unique_ptr<Plan>(int threads)>& build);

}  // namespace edgeperf::runtime
