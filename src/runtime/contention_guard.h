#pragma once
// Keeps a plan on several threads from losing to one thread when another process takes a
// core. Each op of a multi-threaded plan splits its work evenly between the threads and
// waits for the last: when the OS deschedules one of them to run another process, every op
// waits for it. With a busy process started on one of 2 vCPUs, EfficientNet-B0 on 2
// threads went from 6.6 to 14.6 ms a run (p50), where one thread takes about 7.
//
// The guard watches the runs of the plan on several threads; when the median of the last
// kWindow is slower than the one-thread plan (as measured at tuning, then as it runs), the
// session runs the one-thread plan instead. Every probe interval it tries the wide plan
// again: kProbeRuns runs, the first not judged (it pays for waking the threads), and
// goes back to it when each later one beats the recent one-thread runs. A return that
// does not last (the wide plan slow again within kSettledRuns) doubles the interval, up
// to kMaxProbeInterval: a short run can slip past a competing process that still holds the
// core.
#include <cstddef>
#include <vector>

namespace edgeperf::runtime {

class ContentionGuard {
 public:
  static constexpr std::size_t kWindow = 5;
  static constexpr std::size_t kProbeInterval = 32;
  static constexpr std::size_t kMaxProbeInterval = 1024;
  static constexpr std::size_t kProbeRuns = 3;
  static constexpr std::size_t kSettledRuns = 4 * kWindow;
  static constexpr double kSlowdown = 1.10;   // wide runs this much over one thread's switch
  static constexpr double kProbeGain = 0.95;  // probe runs this fast against one thread win

  // `single_ms`: the one-thread plan's median run at tuning.
  explicit ContentionGuard(double single_ms) : single_ms_(single_ms) {}

  // Whether the next run should use the one-thread plan.
  bool use_single() const { return on_single_ && probe_runs_left_ == 0; }
  // The duration of the run just made on the plan use_single() named.
  void record(double ms);

  std::size_t single_runs() const { return single_runs_; }
  std::size_t switches() const { return switches_; }  // to one thread and back, each
  std::size_t probe_interval() const { return probe_interval_; }

 private:
  void record_wide(double ms);
  void record_single(double ms);
  void record_probe(double ms);

  double single_ms_;  // one thread's reference: tuned, then the recent median
  bool on_single_ = false;
  bool returned_ = false;  // the wide plan runs again after a probe won
  std::size_t probe_interval_ = kProbeInterval;
  std::size_t probe_runs_left_ = 0;
  std::size_t runs_since_probe_ = 0;
  std::size_t wide_runs_ = 0;                        // since the wide plan last took over
  std::vector<double> wide_recent_, single_recent_;  // the last kWindow runs of each
  std::size_t single_runs_ = 0, switches_ = 0;
};

}  // namespace edgeperf::runtime
