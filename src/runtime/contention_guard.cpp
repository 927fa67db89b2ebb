#include "contention_guard.h"

#include <algorithm>

#include "plan_timing.h"

namespace edgeperf::runtime {
namespace {

void keep_recent(std::vector<double>& recent, double ms) {
  if (recent.size() == ContentionGuard::kWindow) recent.erase(recent.begin());
  recent.push_back(ms);
}

}  // namespace

void ContentionGuard::record(double ms) {
  if (!on_single_) {
    record_wide(ms);
  } else if (probe_runs_left_ > 0) {
    record_probe(ms);
  } else {
    record_single(ms);
  }
}

void ContentionGuard::record_wide(double ms) {
  ++wide_runs_;
  keep_recent(wide_recent_, ms);
  if (returned_ && wide_runs_ >= kSettledRuns) {
    returned_ = false;
    probe_interval_ = kProbeInterval;
  }
  if (wide_recent_.size() < kWindow || median(wide_recent_) <= single_ms_ * kSlowdown) return;
  if (returned_) probe_interval_ = std::min(2 * probe_interval_, kMaxProbeInterval);
  on_single_ = true;
  returned_ = false;
  ++switches_;
  wide_recent_.clear();
  single_recent_.clear();
  runs_since_probe_ = 0;
}

void ContentionGuard::record_single(double ms) {
  ++single_runs_;
  keep_recent(single_recent_, ms);
  single_ms_ = median(single_recent_);
  if (++runs_since_probe_ >= probe_interval_) probe_runs_left_ = kProbeRuns;
}

void ContentionGuard::record_probe(double ms) {
  const bool judged = probe_runs_left_ < kProbeRuns;  // not the first, which woke the threads
  --probe_runs_left_;
  if (judged && ms >= single_ms_ * kProbeGain) {
    probe_runs_left_ = 0;
    runs_since_probe_ = 0;
    return;
  }
  if (probe_runs_left_ > 0) return;
  runs_since_probe_ = 0;
  on_single_ = false;
  returned_ = true;
  wide_runs_ = 0;
  ++switches_;
}

}  // namespace edgeperf::runtime
