#include "layout_tuning.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "edgeperf/core/error.h"
#include "plan_timing.h"

namespace edgeperf::runtime {
namespace {

constexpr double kMinGain = 0.03;        // the blocked plan must be this much faster to win
constexpr double kTimingBudgetMs = 250;  // timed runs of both plans, about
constexpr int kMinRuns = 5;
constexpr int kMaxRuns = 41;

// What the plan runs, step by step and part by part: equal for two plans that would time
// the same.
std::vector<std::string> implementations(const Plan& plan) {
  std::vector<std::string> lines;
  for (const StepInfo& step : plan.step_infos()) {
    lines.push_back(step.label + " | " + step.implementation);
    for (const KernelPart& part : step.parts)
      lines.push_back(part.kind + " " + part.implementation);
  }
  return lines;
}

LayoutTunedPlan kept(std::unique_ptr<Plan> plan, std::string reason) {
  LayoutTunedPlan result{std::move(plan), ActivationLayout::automatic, LayoutChoice{}};
  result.choice.reason = std::move(reason);
  return result;
}

}  // namespace

LayoutTunedPlan tune_layout(std::unique_ptr<Plan> automatic, int threads, double max_ms,
                            const std::function<std::unique_ptr<Plan>(ActivationLayout)>& build) {
  // Seeded data: floats in [-1, 1), integers in [0, 2) (random_inputs).
  const std::map<std::string, Tensor> feeds = random_inputs(automatic->inputs(), 31);
  double first_ms = 0;
  try {
    time_run(*automatic, feeds, threads);  // warm-up
    first_ms = time_run(*automatic, feeds, threads);
  } catch (const Error& error) {
    return kept(std::move(automatic), fmt::format("automatic (not timed: {})", error.what()));
  }
  if (first_ms > max_ms) {
    return kept(std::move(automatic),
                fmt::format("automatic (a run takes {:.1f} ms, over the {:.0f} ms up to which "
                            "the blocked layout is also timed)",
                            first_ms, max_ms));
  }
  const int runs = std::clamp(static_cast<int>(kTimingBudgetMs / (2 * std::max(first_ms, 0.01))),
                              kMinRuns, kMaxRuns);
  LayoutTunedPlan result{nullptr, ActivationLayout::automatic, LayoutChoice{}};
  LayoutChoice& choice = result.choice;
  choice.automatic_ms = median_run_ms(*automatic, feeds, threads, runs);
  const std::vector<std::string> automatic_steps = implementations(*automatic);
  free_plan(automatic);
  std::unique_ptr<Plan> blocked;
  try {
    blocked = build(ActivationLayout::blocked);
    if (implementations(*blocked) == automatic_steps) {
      // The same steps: no conv read a plain image (an int8 model's first conv, say).
      result.plan = std::move(blocked);
      choice.reason = "automatic (the blocked layout changes no step)";
      return result;
    }
    choice.blocked_ms = median_run_ms(*blocked, feeds, threads, runs);
  } catch (const Error& error) {
    free_plan(blocked);
    result.plan = build(ActivationLayout::automatic);
    choice.reason = fmt::format("automatic (the blocked plan failed: {})", error.what());
    return result;
  }
  if (choice.blocked_ms < choice.automatic_ms * (1.0 - kMinGain)) {
    result.plan = std::move(blocked);
    result.layout = ActivationLayout::blocked;
    choice.used = layout_name(ActivationLayout::blocked);
    choice.reason = fmt::format(
        "blocked, measured faster: median {:.3f} ms against {:.3f} ms "
        "automatic ({} runs each on {} thread{})",
        choice.blocked_ms, choice.automatic_ms, runs, threads, threads == 1 ? "" : "s");
  } else {
    free_plan(blocked);
    result.plan = build(ActivationLayout::automatic);
    choice.reason = fmt::format(
        "automatic: median {:.3f} ms against {:.3f} ms blocked ({} runs "
        "each on {} thread{})",
        choice.automatic_ms, choice.blocked_ms, runs, threads, threads == 1 ? "" : "s");
  }
  return result;
}

}  // namespace edgeperf::runtime
