#pragma once
// The one clock every timing in edgeperf reads (measurements, profiles, traces, the
// sparse provider's tuning): the steady clock.
#include <chrono>
#include <cstdint>

namespace edgeperf {

// Nanoseconds on the steady clock (an arbitrary epoch): timestamps for profiles and traces.
inline std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Wall time since construction (or restart()) on the steady clock.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  void restart() { start_ = std::chrono::steady_clock::now(); }
  double elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  double elapsed_ms() const { return elapsed_seconds() * 1e3; }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace edgeperf
