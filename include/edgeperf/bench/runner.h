#pragma once
// Measurement, kept apart from reporting. The system under test and the runner meet
// at one narrow interface (in the spirit of MLPerf LoadGen): the runner asks the SUT
// to process one query and times it; it knows nothing about models.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/core/clock.h"

namespace edgeperf::bench {

class SystemUnderTest {
 public:
  virtual ~SystemUnderTest() = default;
  // Processes one query (a batch of samples) synchronously.
  virtual void process_query() = 0;
  // Samples per query (the batch size).
  virtual std::size_t samples_per_query() const { return 1; }
};

struct RunConfig {
  std::size_t runs = 200;        // timed queries, at least
  double min_seconds = 0;        // keep timing until this much time has passed
  double max_seconds = 60;       // stop timing after this long even if `runs` is not reached
  std::size_t warmup_runs = 10;  // fixed warm-up count...
  double warmup_seconds = 0;     // ...or warm up until windows stabilize, at most this long
};

struct Measurement {
  std::vector<double> latencies_ms;  // one per timed query
  std::size_t warmup_runs_done = 0;
  bool warmup_stabilized = false;  // adaptive warm-up reached a stable window
  double wall_seconds = 0;         // timed phase only
  double throughput_qps = 0;       // queries per second over the timed phase
  double throughput_sps = 0;       // samples per second
};

// The one timer every measurement in edgeperf reads (core/clock.h).
using Stopwatch = edgeperf::Stopwatch;

// Called with (done, total) now and then, for progress bars.
using ProgressFn = std::function<void(std::size_t done, std::size_t total)>;

// Called just before the first timed query and just after the last: energy and power
// readings bracket the timed phase, not the warm-up.
// between_queries runs before every timed query but the first. Its time is not the
// SUT's: it counts in no latency, in neither the wall time nor the --min/--max-secs clocks.
struct TimedPhaseHooks {
  std::function<void()> on_start, on_end;
  std::function<void()> between_queries;
};

// Throws Error on an invalid config (zero runs and zero min_seconds, negative times).
Measurement measure(SystemUnderTest& sut, const RunConfig& config, const ProgressFn& progress = {},
                    const TimedPhaseHooks& hooks = {});

// Times `query` (one call per query) like any other system under test.
Measurement measure(const std::function<void()>& query, const RunConfig& config);

// Times several queries in rounds, one call of each per round (after `warmup_runs` untimed
// rounds), so a noisy stretch of time hits them all alike instead of whichever ran during it.
// Returns each query's latencies, in the order given.
std::vector<std::vector<double>> measure_interleaved(
    const std::vector<std::function<void()>>& queries, std::size_t rounds,
    std::size_t warmup_runs = 1);

// Time the runner itself adds per timed iteration: measured by running an empty SUT.
double harness_overhead_ns(std::size_t iterations = 200000);

}  // namespace edgeperf::bench
