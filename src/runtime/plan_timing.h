#pragma once
// Timing whole plan runs, for the measured choices made at plan build (layout_tuning.cpp,
// thread_tuning.cpp, part_threads.cpp).
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgeperf/core/clock.h"
#include "plan.h"

namespace edgeperf::runtime {

// The upper median; 0 for no values.
inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// One run of `plan`, in milliseconds.
inline double time_run(Plan& plan, const std::map<std::string, Tensor>& feeds, int threads) {
  const Stopwatch clock;
  plan.run(feeds, threads);
  return clock.elapsed_ms();
}

// Median of `runs` timed runs after one warm-up run.
inline double median_run_ms(Plan& plan, const std::map<std::string, Tensor>& feeds, int threads,
                            int runs) {
  time_run(plan, feeds, threads);
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) times.push_back(time_run(plan, feeds, threads));
  return median(times);
}

// Frees a plan and hands its pages back to the OS. glibc raises its mmap threshold to the
// size of each large block freed, so the next plan's buffers would come from a heap that
// keeps the freed plan's pages resident: without the trim, tuning GoogLeNet's threads
// raised peak RSS from 119 to 146 MB.
inline void free_plan(std::unique_ptr<Plan>& plan) {
  plan.reset();
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

}  // namespace edgeperf::runtime
