#include "edgeperf/bench/runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <thread>

#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

class CountingSut final : public SystemUnderTest {
 public:
  void process_query() override { ++calls; }
  std::size_t samples_per_query() const override { return 4; }
  std::size_t calls = 0;
};

class SlowingSut final : public SystemUnderTest {
 public:
  // Cold start decaying to a steady 1 ms: 1 ms + 10 ms * 0.85^calls.
  void process_query() override {
    const double extra_us = 10000 * std::pow(0.85, static_cast<double>(calls++));
    std::this_thread::sleep_for(std::chrono::microseconds(1000 + static_cast<int>(extra_us)));
  }
  std::size_t calls = 0;
};

TEST(Runner, FixedWarmupThenExactlyRunsQueries) {
  CountingSut sut;
  RunConfig config;
  config.runs = 50;
  config.warmup_runs = 7;
  const Measurement m = measure(sut, config);
  EXPECT_EQ(m.latencies_ms.size(), 50u);
  EXPECT_EQ(m.warmup_runs_done, 7u);
  EXPECT_EQ(sut.calls, 57u);
  EXPECT_GT(m.throughput_qps, 0);
  EXPECT_DOUBLE_EQ(m.throughput_sps, 4 * m.throughput_qps);
}

TEST(Runner, AdaptiveWarmupSkipsTheColdStart) {
  SlowingSut sut;
  RunConfig config;
  config.runs = 20;
  config.warmup_runs = 0;
  config.warmup_seconds = 5;
  const Measurement m = measure(sut, config);
  EXPECT_TRUE(m.warmup_stabilized);
  EXPECT_GE(m.warmup_runs_done, 20u);  // the first windows still differ by more than 5%
  std::vector<double> sorted = m.latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_LT(sorted[sorted.size() / 2], 1.5);  // timed runs see the steady state
}

TEST(Runner, MinSecondsExtendsTheRun) {
  SlowingSut sut;
  sut.calls = 100;  // already warm
  RunConfig config;
  config.runs = 1;
  config.warmup_runs = 0;
  config.min_seconds = 0.05;
  const Measurement m = measure(sut, config);
  EXPECT_GT(m.latencies_ms.size(), 1u);
  EXPECT_GE(m.wall_seconds, 0.05);
}

TEST(Runner, TimeBetweenQueriesIsNotTheSystemUnderTests) {
  CountingSut sut;
  RunConfig config;
  config.runs = 5;
  config.warmup_runs = 0;
  config.max_seconds = 0.03;  // less than the pauses add up to: they must not count
  TimedPhaseHooks hooks;
  std::size_t pauses = 0;
  hooks.between_queries = [&] {
    ++pauses;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  const Measurement m = measure(sut, config, {}, hooks);
  EXPECT_EQ(m.latencies_ms.size(), 5u);
  EXPECT_EQ(pauses, 4u);  // before every timed query but the first
  EXPECT_LT(*std::max_element(m.latencies_ms.begin(), m.latencies_ms.end()), 10.0);
  EXPECT_LT(m.wall_seconds, 0.03);
}

TEST(Runner, InvalidConfigsAreRejected) {
  CountingSut sut;
  RunConfig config;
  config.runs = 0;
  EXPECT_THROW(measure(sut, config), Error);
  config.runs = 1;
  config.min_seconds = 5;
  config.max_seconds = 1;
  EXPECT_THROW(measure(sut, config), Error);
}

TEST(Runner, TimesACallableLikeAnySystemUnderTest) {
  int calls = 0;
  RunConfig config;
  config.runs = 7;
  config.warmup_runs = 2;
  config.max_seconds = std::numeric_limits<double>::infinity();
  const Measurement measurement = measure([&] { ++calls; }, config);
  EXPECT_EQ(calls, 9);
  EXPECT_EQ(measurement.latencies_ms.size(), 7u);
  EXPECT_EQ(measurement.warmup_runs_done, 2u);
}

TEST(Runner, InterleavedRoundsCallEachQueryOncePerRound) {
  std::string order;
  const std::vector<std::function<void()>> queries = {
      [&] { order += 'a'; }, [&] { order += 'b'; },
      [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        order += 'c';
      }};
  const auto latencies = measure_interleaved(queries, 3, 1);
  EXPECT_EQ(order, "abcabcabcabc");  // one warm-up round, then three timed rounds
  ASSERT_EQ(latencies.size(), 3u);
  for (const auto& each : latencies) EXPECT_EQ(each.size(), 3u);
  // Each latency belongs to its own query: the third one sleeps 2 ms every call.
  EXPECT_GE(*std::min_element(latencies[2].begin(), latencies[2].end()), 2.0);
  EXPECT_THROW(measure_interleaved(queries, 0), Error);
}

TEST(Stopwatch, MeasuresASleep) {
  const Stopwatch stopwatch;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(stopwatch.elapsed_ms(), 19.0);
  EXPECT_NEAR(stopwatch.elapsed_seconds() * 1e3, stopwatch.elapsed_ms(), 5.0);
}

TEST(Runner, OverheadIsMeasuredAndPositive) {
  const double overhead = harness_overhead_ns(20000);
  EXPECT_GT(overhead, 0);
  EXPECT_LT(overhead, 1e6);  // sanity, not a speed target
}

}  // namespace
}  // namespace edgeperf::bench
