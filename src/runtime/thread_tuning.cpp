#include "thread_tuning.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "edgeperf/core/error.h"
#include "part_threads.h"
#include "plan_timing.h"

namespace edgeperf::runtime {
namespace {

constexpr double kMinGain = 0.05;        // one thread must be this much faster to win
constexpr double kTimingBudgetMs = 250;  // timed runs of both plans, about
constexpr int kMinRuns = 5;
constexpr int kMaxRuns = 41;

}  // namespace

TunedPlan tune_threads(std::unique_ptr<Plan> wide, int threads, double max_ms,
                       const std::function<std::unique_ptr<Plan>(int threads)>& build) {
  TunedPlan result;
  result.plan = std::move(wide);
  result.choice = ThreadChoice{threads, threads, 0, 0, ""};
  ThreadChoice& choice = result.choice;
  // Seeded data: floats in [-1, 1), integers in [0, 2) (random_inputs).
  const std::map<std::string, Tensor> feeds = random_inputs(result.plan->inputs(), 29);
  double first_ms = 0;
  try {
    time_run(*result.plan, feeds, threads);  // warm-up
    first_ms = time_run(*result.plan, feeds, threads);
  } catch (const Error& error) {
    choice.reason = fmt::format("{} threads as requested (not timed: {})", threads, error.what());
    omp_set_num_threads(threads);
    return result;
  }
  if (first_ms > max_ms) {
    choice.requested_ms = first_ms;
    choice.reason = fmt::format(
        "{} threads as requested (a run takes {:.1f} ms, over the {:.0f} ms "
        "up to which one thread is also timed)",
        threads, first_ms, max_ms);
    return result;
  }
  const int runs = std::clamp(static_cast<int>(kTimingBudgetMs / (2 * std::max(first_ms, 0.01))),
                              kMinRuns, kMaxRuns);
  const PartThreadChoice parts =
      choose_part_threads(*result.plan, feeds, threads, std::max(kMinRuns, runs / 3));
  const std::vector<std::size_t> part_counts = result.plan->part_counts();
  const double wide_ms = parts.single.empty() ? parts.wide_ms : parts.mixed_ms;
  free_plan(result.plan);
  std::unique_ptr<Plan> single;
  double single_ms = 0;
  try {
    single = build(1);
    single_ms = median_run_ms(*single, feeds, 1, runs);
  } catch (const Error& error) {
    omp_set_num_threads(threads);
    free_plan(single);
    result.plan = build(threads);
    choice.requested_ms = wide_ms;
    choice.reason =
        fmt::format("{} threads as requested (one thread failed: {})", threads, error.what());
    return result;
  }
  omp_set_num_threads(threads);
  choice.requested_ms = wide_ms;
  choice.single_ms = single_ms;
  if (single_ms < wide_ms * (1.0 - kMinGain)) {
    result.plan = std::move(single);
    choice.used = 1;
    choice.reason = fmt::format(
        "1 thread, measured faster: median {:.3f} ms on 1 ({} runs) against {:.3f} ms on {} ({} "
        "runs)",
        single_ms, runs, wide_ms, threads, parts.runs);
  } else {
    free_plan(single);
    result.plan = build(threads);
    choice.reason = fmt::format(
        "{} threads as requested: median {:.3f} ms ({} runs) against {:.3f} ms on 1 ({} runs)",
        threads, wide_ms, parts.runs, single_ms, runs);
    if (!parts.single.empty() && apply_part_threads(*result.plan, parts.single, part_counts)) {
      choice.single_thread_ops = parts.single.size();
      choice.reason += fmt::format(
          "; {} ops on 1 thread, measured faster there: median {:.3f} ms against {:.3f} ms "
          "with every op on {}",
          parts.single.size(), parts.mixed_ms, parts.wide_ms, threads);
    }
  }
  return result;
}

}  // namespace edgeperf::runtime
