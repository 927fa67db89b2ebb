#pragma once
// Choosing, by measurement, which ops of a plan run on one thread when the plan runs on
// several. A small memory-bound op (a reorder, a binary op, a pool) can take longer on
// two threads than on one: the fork and join cost microseconds, and each thread reads
// what the previous op wrote from the other core's cache. Whether it does depends on the
// machine, so it is timed, op by op, and then the whole plan is timed again.
#include <map>
#include <string>
#include <vector>

#include "plan.h"

namespace edgeperf::runtime {

struct PartThreads {
  std::size_t step = 0;
  std::size_t part = 0;
};

struct PartThreadChoice {
  std::vector<PartThreads> single;  // the parts that run on one thread
  double wide_ms = 0;               // median whole run with every part on `threads`
  double mixed_ms = 0;              // median whole run with `single` on one (0: not timed)
  int runs = 0;                     // timed runs of each kind
};

// Times every part of `plan` in `runs` profiled runs on `threads` and `runs` with every
// part on one thread. A part whose median is at least 10% and 2 us lower on one thread is
// a candidate; the candidates are kept only when whole runs with them on one thread
// (interleaved with runs without) measure at least 2% faster. `plan` is left with the
// choice applied.
PartThreadChoice choose_part_threads(Plan& plan, const std::map<std::string, Tensor>& feeds,
                                     int threads, int runs);

// Applies an earlier choice to a plan built the same way; false (and nothing applied)
// when the plan's steps have other parts.
bool apply_part_threads(Plan& plan, const std::vector<PartThreads>& single,
                        const std::vector<std::size_t>& part_counts);

}  // namespace edgeperf::runtime
