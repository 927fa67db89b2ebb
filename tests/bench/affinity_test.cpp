#include "edgeperf/bench/affinity.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <filesystem>

#include "edgeperf/bench/model_bench.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

// Lets the team's threads run anywhere again, so that later tests in this process are
// not confined to the cores a test pinned.
void unpin(int threads, const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) CPU_SET(cpu, &set);
#pragma omp parallel num_threads(threads)
  sched_setaffinity(0, sizeof set, &set);
}

TEST(Affinity, PinsEachTeamThreadToItsCore) {
  const std::vector<int> cpus = allowed_cpus();
  ASSERT_FALSE(cpus.empty());
  const int threads = std::min<int>(2, static_cast<int>(cpus.size()));
  // Listed in reverse, so that thread i's core differs from what the OS would pick.
  const std::vector<int> cores(cpus.rbegin(), cpus.rbegin() + threads);
  pin_threads_to_cores(cores, threads);
  EXPECT_EQ(team_cpus(threads), cores);
  unpin(threads, cpus);
  EXPECT_EQ(team_cpus(threads), std::vector<int>(threads, cpus.size() == 1 ? cpus[0] : -1));
}

TEST(Affinity, RejectsCoresThisProcessCannotUse) {
  const std::vector<int> cpus = allowed_cpus();
  const int missing = cpus.back() + 1;
  EXPECT_THROW(pin_threads_to_cores({missing}, 1), Error);
  EXPECT_THROW(pin_threads_to_cores({cpus.front()}, 2), Error);  // fewer cores than threads
  EXPECT_THROW(pin_threads_to_cores({}, 1), Error);
}

TEST(Affinity, BenchReportsThePinnedCores) {
  ModelBenchOptions options;
  options.session.threads = 1;
  options.pin_cores = {allowed_cpus().back()};
  options.run.runs = 5;
  options.run.warmup_runs = 1;
  const ModelResult result = bench_model_isolated(
      std::filesystem::path(EP_SOURCE_DIR) / "models/fixtures/digits_mlp.onnx", options);
  EXPECT_EQ(result.pinned_cores, options.pin_cores);
}

}  // namespace
}  // namespace edgeperf::bench
