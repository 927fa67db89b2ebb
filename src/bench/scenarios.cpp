#include "edgeperf/bench/scenarios.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMultiStreamSamples = 8;
constexpr std::size_t kOfflineSamples = 32;

// Exponential inter-arrival times from a SplitMix64 stream (deterministic per seed).
class PoissonArrivals {
 public:
  PoissonArrivals(double qps, std::uint64_t seed) : qps_(qps), state_(seed) {}
  double next_gap_seconds() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const double uniform = (static_cast<double>(z >> 11) + 0.5) * 0x1.0p-53;
    return -std::log(uniform) / qps_;
  }

 private:
  double qps_;
  std::uint64_t state_;
};

Summary summarize_or_throw(const std::vector<double>& latencies) {
  EP_CHECK(!latencies.empty(), "the scenario completed no query");
  return summarize(latencies);
}

// Highest rate whose server-scenario p99 stays within the bound: bisection between a
// rate that meets it and one that does not.
double search_max_qps(SystemUnderTest& sut, const ScenarioConfig& config, double single_query_ms) {
  const double capacity = 1000.0 / std::max(single_query_ms, 1e-3);
  double low = 0, high = capacity * 1.5;
  const std::size_t queries = std::min<std::size_t>(config.queries, 200);
  for (int step = 0; step < 7; ++step) {
    const double rate = (low + high) / 2;
    std::vector<double> latencies =
        run_server(sut, rate, queries, config.max_seconds / 8, config.seed + step);
    std::sort(latencies.begin(), latencies.end());
    (percentile(latencies, 99) <= config.latency_bound_ms ? low : high) = rate;
  }
  return low;
}

}  // namespace

namespace {

constexpr auto kScenarios =
    enum_names<Scenario>("--scenario", {{Scenario::single_stream, "single-stream"},
                                        {Scenario::multi_stream, "multi-stream"},
                                        {Scenario::server, "server"},
                                        {Scenario::offline, "offline"}});

}  // namespace

Scenario parse_scenario(const std::string& name) { return kScenarios.parse(name); }

std::string scenario_name(Scenario scenario) { return std::string(kScenarios.name(scenario)); }

std::vector<double> run_server(SystemUnderTest& sut, double qps, std::size_t queries,
                               double max_seconds, std::uint64_t seed) {
  EP_CHECK(qps > 0 && std::isfinite(qps), "--qps must be a positive number, got {}", qps);
  PoissonArrivals arrivals(qps, seed);
  const auto start = Clock::now();
  double next_arrival = 0;  // seconds since start
  std::vector<double> latencies;
  latencies.reserve(queries);
  for (std::size_t i = 0; i < queries; ++i) {
    next_arrival += arrivals.next_gap_seconds();
    const auto arrival = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(next_arrival));
    if (Clock::now() < arrival) std::this_thread::sleep_until(arrival);
    sut.process_query();
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - arrival).count());
    if (std::chrono::duration<double>(Clock::now() - start).count() > max_seconds) break;
  }
  return latencies;
}

ScenarioResult run_scenario(const ScenarioConfig& config, const SutFactory& make_sut) {
  EP_CHECK(config.latency_bound_ms >= 0, "--latency-bound-ms must not be negative");
  ScenarioResult result;
  result.scenario = scenario_name(config.scenario);
  RunConfig run;
  run.runs = config.queries;
  run.max_seconds = config.max_seconds;
  switch (config.scenario) {
    case Scenario::single_stream:
    case Scenario::multi_stream: {
      result.samples_per_query =
          config.scenario == Scenario::multi_stream ? kMultiStreamSamples : 1;
      auto sut = make_sut(result.samples_per_query);
      const Measurement m = measure(*sut, run);
      result.latency = summarize_or_throw(m.latencies_ms);
      result.achieved_qps = m.throughput_qps;
      result.metric =
          config.scenario == Scenario::multi_stream ? "p99 latency (ms)" : "p90 latency (ms)";
      result.value =
          config.scenario == Scenario::multi_stream ? result.latency.p99 : result.latency.p90;
      break;
    }
    case Scenario::server: {
      EP_CHECK(config.qps > 0, "--scenario server needs --qps greater than 0");
      auto sut = make_sut(1);
      for (int i = 0; i < 10; ++i) sut->process_query();  // warm-up
      const auto latencies =
          run_server(*sut, config.qps, config.queries, config.max_seconds, config.seed);
      result.latency = summarize_or_throw(latencies);
      result.achieved_qps = config.qps;
      result.metric = "p99 latency (ms) at the offered QPS";
      result.value = result.latency.p99;
      if (config.latency_bound_ms > 0) {
        result.max_qps_within_bound = search_max_qps(*sut, config, result.latency.median);
      }
      break;
    }
    case Scenario::offline: {
      result.samples_per_query = kOfflineSamples;
      auto sut = make_sut(kOfflineSamples);
      const Measurement m = measure(*sut, run);
      result.latency = summarize_or_throw(m.latencies_ms);
      result.achieved_qps = m.throughput_qps;
      result.metric = "throughput (samples/s)";
      result.value = m.throughput_sps;
      break;
    }
  }
  return result;
}

}  // namespace edgeperf::bench
