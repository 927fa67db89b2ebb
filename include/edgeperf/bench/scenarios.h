#pragma once
// Load scenarios in the spirit of MLPerf LoadGen. The scenario generates queries and
// times them; the SUT only processes them (runner.h's SystemUnderTest).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/bench/runner.h"
#include "edgeperf/bench/stats.h"

namespace edgeperf::bench {

enum class Scenario { single_stream, multi_stream, server, offline };
Scenario parse_scenario(const std::string& name);  // single-stream|multi-stream|server|offline
std::string scenario_name(Scenario scenario);

struct ScenarioConfig {
  Scenario scenario = Scenario::single_stream;
  std::size_t queries = 200;
  double max_seconds = 60;
  double qps = 0;                // server: Poisson arrival rate (> 0)
  double latency_bound_ms = 0;   // server: p99 bound for the max-QPS search (0: no search)
  std::uint64_t seed = 1;
};

struct ScenarioResult {
  std::string scenario;
  std::string metric;  // "p90 latency (ms)", "p99 latency (ms)", "throughput (samples/s)"
  double value = 0;
  Summary latency;     // per query, including queueing for the server scenario
  double achieved_qps = 0;
  std::size_t samples_per_query = 1;
  std::optional<double> max_qps_within_bound;  // server with a latency bound
};

// `make_sut(samples_per_query)` builds a SUT processing that many samples per query
// (MultiStream uses 8; Offline uses its largest batch).
using SutFactory = std::function<std::unique_ptr<SystemUnderTest>(std::size_t samples_per_query)>;

// Throws Error for a server scenario without a positive --qps, or a negative bound.
ScenarioResult run_scenario(const ScenarioConfig& config, const SutFactory& make_sut);

// Server scenario at a fixed rate: Poisson arrivals, one FIFO worker, latency measured
// from arrival to completion. Exposed for tests.
std::vector<double> run_server(SystemUnderTest& sut, double qps, std::size_t queries, double max_seconds,
                               std::uint64_t seed);

}  // namespace edgeperf::bench
