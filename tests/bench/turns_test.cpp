#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "edgeperf/bench/model_bench.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

const std::filesystem::path kModel =
    std::filesystem::path(EP_SOURCE_DIR) / "models/fixtures/digits_mlp.onnx";

TurnJob job(const std::filesystem::path& model, const std::string& label, double turn_ms) {
  TurnJob job{model, {}};
  job.options.session.threads = 1;
  job.options.run.runs = 6;
  job.options.run.warmup_runs = 1;
  job.options.label = label;
  job.options.turn_ms = turn_ms;
  job.options.rewarm_ms = 0;
  return job;
}

TEST(TakingTurns, EveryJobIsMeasuredInItsOwnTurns) {
  // A zero-length turn hands the CPU on before every timed query but the first.
  const std::vector<ModelResult> results =
      bench_models_in_turns({job(kModel, "first", 0), job(kModel, "second", 0)});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].label, "first");
  EXPECT_EQ(results[1].label, "second");
  for (const ModelResult& result : results) {
    EXPECT_EQ(result.turns, 6u);
    EXPECT_EQ(result.batches.front().measurement.latencies_ms.size(), 6u);
    EXPECT_EQ(result.energy.method, "unavailable");  // the counters saw both processes
  }
}

TEST(TakingTurns, ALongTurnIsOneTurn) {
  const std::vector<ModelResult> results =
      bench_models_in_turns({job(kModel, "first", 1e6), job(kModel, "second", 1e6)});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].turns, 1u);
  EXPECT_EQ(results[1].turns, 1u);
}

TEST(TakingTurns, AJobWithNobodyToTakeTurnsWithIsMeasuredAlone) {
  const std::vector<ModelResult> results = bench_models_in_turns({job(kModel, "only", 0)});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].turns, 0u);
  EXPECT_EQ(results[0].batches.front().measurement.latencies_ms.size(), 6u);
}

TEST(TakingTurns, AFailingJobFailsTheBenchWithItsErrorAndLeavesNoProcess) {
  const std::filesystem::path missing = "no_such_model.onnx";
  try {
    bench_models_in_turns({job(kModel, "fine", 0), job(missing, "missing", 0)});
    FAIL() << "a missing model must fail the bench";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("no_such_model.onnx"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // both processes reaped
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace edgeperf::bench
