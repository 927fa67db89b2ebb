#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "edgeperf/bench/scenarios.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

// Takes a fixed service time per sample.
class SleepySut final : public SystemUnderTest {
 public:
  SleepySut(std::size_t samples, double ms_per_sample) : samples_(samples), ms_(ms_per_sample) {}
  void process_query() override {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms_ * static_cast<double>(samples_)));
    ++queries;
  }
  std::size_t samples_per_query() const override { return samples_; }
  std::size_t queries = 0;

 private:
  std::size_t samples_;
  double ms_;
};

SutFactory sleepy(double ms_per_sample) {
  return [ms_per_sample](std::size_t samples) { return std::make_unique<SleepySut>(samples, ms_per_sample); };
}

TEST(Scenarios, NamesRoundTripAndUnknownIsRejected) {
  for (const char* name : {"single-stream", "multi-stream", "server", "offline"}) {
    EXPECT_EQ(scenario_name(parse_scenario(name)), name);
  }
  EXPECT_THROW(parse_scenario("burst"), Error);
}

TEST(Scenarios, MultiStreamUsesEightSamplesPerQuery) {
  ScenarioConfig config{Scenario::multi_stream, 10};
  const ScenarioResult result = run_scenario(config, sleepy(0.1));
  EXPECT_EQ(result.samples_per_query, 8u);
  EXPECT_EQ(result.latency.n, 10u);
  EXPECT_GE(result.value, 0.8);  // 8 x 0.1 ms at least
}

TEST(Scenarios, OfflineReportsThroughputInSamples) {
  ScenarioConfig config{Scenario::offline, 5};
  const ScenarioResult result = run_scenario(config, sleepy(0.05));
  EXPECT_EQ(result.samples_per_query, 32u);
  EXPECT_NEAR(result.value, result.achieved_qps * 32, 1e-6);
}

TEST(Scenarios, ServerQueueingGrowsLatencyAboveCapacity) {
  SleepySut sut(1, 2.0);  // capacity 500 QPS
  const auto light = run_server(sut, 50, 40, 10, 7);
  const auto overloaded = run_server(sut, 2000, 40, 10, 7);
  std::vector<double> a = light, b = overloaded;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_LT(percentile(a, 50), 10.0);
  EXPECT_GT(percentile(b, 90), 3 * percentile(a, 50));  // queueing delay piles up
}

TEST(Scenarios, ServerNeedsPositiveQps) {
  ScenarioConfig config{Scenario::server, 10};
  config.qps = 0;
  EXPECT_THROW(run_scenario(config, sleepy(0.1)), Error);
  SleepySut sut(1, 0.1);
  EXPECT_THROW(run_server(sut, -5, 10, 1, 1), Error);
}

TEST(Scenarios, ServerSearchFindsARateWithinTheBound) {
  ScenarioConfig config{Scenario::server, 60};
  config.qps = 50;
  config.latency_bound_ms = 20;
  config.max_seconds = 8;
  const ScenarioResult result = run_scenario(config, sleepy(2.0));
  ASSERT_TRUE(result.max_qps_within_bound.has_value());
  EXPECT_GT(*result.max_qps_within_bound, 0);
  EXPECT_LT(*result.max_qps_within_bound, 750);  // cannot exceed 1.5x the 500 QPS capacity
}

}  // namespace
}  // namespace edgeperf::bench
