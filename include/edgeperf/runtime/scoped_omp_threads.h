#pragma once
// Sets OpenMP's thread count for a scope and restores it after. oneDNN sizes scratchpads
// and splits work for the count current when a primitive is created, so backends create
// (and time) primitives under the count they will run with.
#include <omp.h>

namespace edgeperf::runtime {

class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int threads) : previous_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
  }
  ~ScopedOmpThreads() { omp_set_num_threads(previous_); }
  ScopedOmpThreads(const ScopedOmpThreads&) = delete;
  ScopedOmpThreads& operator=(const ScopedOmpThreads&) = delete;

 private:
  int previous_;
};

}  // namespace edgeperf::runtime
