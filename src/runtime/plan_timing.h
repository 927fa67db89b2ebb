#pragma once
// Timing whole plan runs, for the measured choices made at plan build (thread_tuning.cpp,
// part_threads.cpp).
#include <algorithm>
#include <map>
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

}  // namespace edgeperf::runtime
