#include "edgeperf/bench/runner.h"

#include <algorithm>
#include <cmath>

#include "edgeperf/bench/stats.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

double time_query_ms(SystemUnderTest& sut) {
  const Stopwatch stopwatch;
  sut.process_query();
  return stopwatch.elapsed_ms();
}

double median_of(std::vector<double> window) {
  std::sort(window.begin(), window.end());
  return percentile(window, 50);
}

// Warms up until two successive windows of 10 queries have medians within 5%,
// or warmup_seconds pass. Returns whether it stabilized.
bool adaptive_warmup(SystemUnderTest& sut, double limit_seconds, std::size_t& runs_done) {
  constexpr std::size_t kWindow = 10;
  const Stopwatch stopwatch;
  std::vector<double> previous, current;
  while (stopwatch.elapsed_seconds() < limit_seconds) {
    current.push_back(time_query_ms(sut));
    ++runs_done;
    if (current.size() < kWindow) continue;
    if (!previous.empty()) {
      const double before = median_of(previous), now = median_of(current);
      if (std::abs(now - before) <= 0.05 * before) return true;
    }
    previous = std::move(current);
    current.clear();
  }
  return false;
}

void validate(const RunConfig& config) {
  EP_CHECK(config.runs > 0 || config.min_seconds > 0, "--runs must be at least 1");
  EP_CHECK(config.min_seconds >= 0 && config.max_seconds > 0 && config.warmup_seconds >= 0,
           "--min-secs, --max-secs and --warmup-secs must not be negative (--max-secs > 0)");
  EP_CHECK(config.min_seconds <= config.max_seconds, "--min-secs {} exceeds --max-secs {}",
           config.min_seconds, config.max_seconds);
}

}  // namespace

Measurement measure(SystemUnderTest& sut, const RunConfig& config, const ProgressFn& progress,
                    const TimedPhaseHooks& hooks) {
  validate(config);
  Measurement result;
  if (config.warmup_seconds > 0) {
    result.warmup_stabilized = adaptive_warmup(sut, config.warmup_seconds, result.warmup_runs_done);
  }
  for (std::size_t i = 0; i < config.warmup_runs; ++i) {
    sut.process_query();
    ++result.warmup_runs_done;
  }
  result.latencies_ms.reserve(config.runs);
  if (hooks.on_start) hooks.on_start();
  const Stopwatch stopwatch;
  double paused_seconds = 0;  // in hooks.between_queries
  while (true) {
    const double elapsed = stopwatch.elapsed_seconds() - paused_seconds;
    const bool enough_runs = result.latencies_ms.size() >= config.runs;
    if ((enough_runs && elapsed >= config.min_seconds) ||
        (elapsed >= config.max_seconds && !result.latencies_ms.empty())) {
      break;
    }
    if (hooks.between_queries && !result.latencies_ms.empty()) {
      const Stopwatch pause;
      hooks.between_queries();
      paused_seconds += pause.elapsed_seconds();
    }
    result.latencies_ms.push_back(time_query_ms(sut));
    if (progress && result.latencies_ms.size() % 16 == 0) {
      progress(result.latencies_ms.size(), config.runs);
    }
  }
  result.wall_seconds = stopwatch.elapsed_seconds() - paused_seconds;
  if (hooks.on_end) hooks.on_end();
  const auto queries = static_cast<double>(result.latencies_ms.size());
  result.throughput_qps = queries / result.wall_seconds;
  result.throughput_sps = result.throughput_qps * static_cast<double>(sut.samples_per_query());
  return result;
}

namespace {
class EmptySut final : public SystemUnderTest {
 public:
  void process_query() override {}
};

class FunctionSut final : public SystemUnderTest {
 public:
  explicit FunctionSut(const std::function<void()>& query) : query_(query) {}
  void process_query() override { query_(); }

 private:
  const std::function<void()>& query_;
};
}  // namespace

Measurement measure(const std::function<void()>& query, const RunConfig& config) {
  FunctionSut sut(query);
  return measure(sut, config);
}

std::vector<std::vector<double>> measure_interleaved(
    const std::vector<std::function<void()>>& queries, std::size_t rounds,
    std::size_t warmup_runs) {
  EP_CHECK(rounds > 0, "interleaved measurement needs at least 1 round");
  std::vector<FunctionSut> suts(queries.begin(), queries.end());
  for (std::size_t i = 0; i < warmup_runs; ++i) {
    for (FunctionSut& sut : suts) sut.process_query();
  }
  std::vector<std::vector<double>> latencies(suts.size());
  for (auto& each : latencies) each.reserve(rounds);
  for (std::size_t round = 0; round < rounds; ++round) {
    for (std::size_t q = 0; q < suts.size(); ++q) latencies[q].push_back(time_query_ms(suts[q]));
  }
  return latencies;
}

double harness_overhead_ns(std::size_t iterations) {
  EmptySut empty;
  RunConfig config;
  config.runs = iterations;
  config.warmup_runs = 1000;
  const Measurement measurement = measure(empty, config);
  // Per iteration: the whole timed loop's wall time over its iterations covers the
  // clock reads, the vector push and the loop checks.
  return measurement.wall_seconds * 1e9 / static_cast<double>(measurement.latencies_ms.size());
}

}  // namespace edgeperf::bench
