#pragma once
// Per-node profiles: where a model's time goes. A ProfileRecorder is handed to
// Session::run; summarize_profile turns its timings into rows (one per step, or one per
// op of a composite step such as a oneDNN region) with shapes, kernels, MACs, achieved
// GMAC/s and the share of the run. Trace events for Perfetto come from the same record.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/runtime/session.h"

namespace edgeperf::bench {

class ProfileRecorder final : public runtime::ProfileSink {
 public:
  struct Event {
    std::size_t step, part;
    std::int64_t start_ns, end_ns;
  };
  void record(std::size_t step, std::size_t part, std::int64_t start_ns,
              std::int64_t end_ns) override {
    events_.push_back(Event{step, part, start_ns, end_ns});
  }
  void begin_run(std::int64_t start_ns) { run_starts_.push_back(start_ns); }
  void end_run(std::int64_t end_ns) { run_ends_.push_back(end_ns); }
  const std::vector<Event>& events() const { return events_; }
  std::size_t runs() const { return run_ends_.size(); }
  // Wall time of each whole run, ms.
  std::vector<double> run_ms() const;

 private:
  std::vector<Event> events_;
  std::vector<std::int64_t> run_starts_, run_ends_;
};

// The machine's peak for the roofline, measured (bench/peak_kernels.cpp): independent
// multiply-accumulates at the widest f32 and int8 instructions, on all threads at once.
struct PeakEstimate {
  double ghz = 0;  // measured (see measure_cpu_ghz)
  int threads = 1;
  double f32_gmacs = 0;   // measured, all threads
  double int8_gmacs = 0;  // 0: no int8 dot-product instruction known here
  std::string formula;

  // A rate of all threads as MACs per cycle per core (0 without a measured clock).
  double per_core_per_cycle(double gmacs) const {
    return ghz * threads > 0 ? gmacs / (ghz * threads) : 0;
  }
};
PeakEstimate measure_peak(double ghz, int threads);
// Core clock measured with a chain of dependent adds (one per cycle), GHz.
double measure_cpu_ghz();

struct ProfileRow {
  std::string label;  // node names, e.g. "conv1 + relu1", or "reorder for conv2"
  std::vector<std::string> nodes, ops;
  std::string backend, kind, implementation;
  std::vector<std::string> inputs, outputs;   // "f32[1, 3, 224, 224]"
  double mean_ms = 0, p50_ms = 0, share = 0;  // share of the sum of all rows
  std::int64_t macs = 0;
  std::optional<double> gmacs_per_s, peak_percent;
};

struct Profile {
  std::size_t runs = 0;
  double rows_sum_ms = 0;        // sum of the rows' means
  double profiled_run_ms = 0;    // mean wall time of the profiled runs
  double unprofiled_run_ms = 0;  // mean of plain runs measured next to them (0: not measured)
  std::vector<ProfileRow> rows;  // slowest first
  PeakEstimate peak;
};

Profile summarize_profile(const runtime::Session& session, const ProfileRecorder& recorder,
                          const PeakEstimate& peak);
nlohmann::json to_json(const Profile& profile);
// Rows sorted by time, and the time grouped by op type; `limit` rows (0: all).
std::string render_profile_table(const nlohmann::json& profile, std::size_t limit);

struct ProfiledRuns {
  Profile profile;
  ProfileRecorder recorder;
};
// `runs` profiled runs (clamped to 10..200), each after a plain run, so that the
// overhead (Profile::unprofiled_run_ms against profiled_run_ms) is measured under the
// same conditions. The peak comes from sysinfo's ISA and a measured clock.
ProfiledRuns profile_runs(runtime::Session& session, const std::map<std::string, Tensor>& feeds,
                          std::size_t runs);

// Chrome trace-event JSON (Perfetto, chrome://tracing): the spans given (load, plan,
// first run) on the session track, then every profiled step and part on the run track.
struct TraceSpan {
  std::string name;
  std::int64_t start_ns, end_ns;  // monotonic_ns() stamps (core/clock.h)
};
nlohmann::json chrome_trace(const runtime::Session& session, const ProfileRecorder& recorder,
                            const std::vector<TraceSpan>& spans);

}  // namespace edgeperf::bench
