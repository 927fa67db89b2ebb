#include <gtest/gtest.h>

#include "edgeperf/bench/model_bench.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

ModelResult round_of(std::vector<double> latencies_ms, double load_ms, std::size_t peak_rss) {
  ModelResult result;
  result.label = "m";
  result.load_ms = load_ms;
  result.first_run_ms = 2 * load_ms;
  result.peak_rss_bytes = peak_rss;
  BatchResult batch;
  batch.measurement.latencies_ms = std::move(latencies_ms);
  batch.measurement.wall_seconds = 1;
  batch.latency = summarize(batch.measurement.latencies_ms);
  result.batches.push_back(batch);
  return result;
}

TEST(MergeRounds, PoolsLatenciesAndTakesMedianTimesAndLargestMemory) {
  std::vector<ModelResult> rounds = {round_of({1, 1, 1}, 30, 100), round_of({5, 5, 5}, 10, 300),
                                     round_of({1, 1, 2}, 20, 200)};
  rounds[0].accuracy = eval::Accuracy{};
  for (std::size_t r = 0; r < rounds.size(); ++r)
    rounds[r].round_positions = {r % 2 == 0 ? 4u : 0u};
  const ModelResult merged = merge_rounds(rounds);
  EXPECT_EQ(merged.rounds, 3u);
  EXPECT_EQ(merged.round_positions, (std::vector<std::size_t>{4, 0, 4}));
  ASSERT_EQ(merged.batches.size(), 1u);
  EXPECT_EQ(merged.batches[0].latency.n, 9u);
  EXPECT_DOUBLE_EQ(merged.batches[0].latency.p50, 1.0);  // one slow round does not move it
  EXPECT_DOUBLE_EQ(merged.batches[0].latency.max, 5.0);
  EXPECT_DOUBLE_EQ(merged.batches[0].measurement.throughput_qps, 3.0);  // 9 queries in 3 s
  EXPECT_DOUBLE_EQ(merged.load_ms, 20);
  EXPECT_DOUBLE_EQ(merged.first_run_ms, 40);
  EXPECT_EQ(merged.peak_rss_bytes, 300u);
  EXPECT_TRUE(merged.accuracy.has_value());
  EXPECT_TRUE(merged.noisy);  // the pooled spread is wide
}

TEST(MergeRounds, OneRoundIsUnchanged) {
  const ModelResult merged = merge_rounds({round_of({1, 2, 3}, 5, 7)});
  EXPECT_EQ(merged.rounds, 1u);
  EXPECT_EQ(merged.batches[0].latency.n, 3u);
  EXPECT_DOUBLE_EQ(merged.load_ms, 5);
}

TEST(MergeRounds, MismatchedRoundsAreAnError) {
  EXPECT_THROW(merge_rounds({}), Error);
  ModelResult two_batches = round_of({1}, 1, 1);
  two_batches.batches.push_back(two_batches.batches[0]);
  EXPECT_THROW(merge_rounds({round_of({1}, 1, 1), two_batches}), Error);
  ModelResult other_batch = round_of({1}, 1, 1);
  other_batch.batches[0].batch = 8;
  EXPECT_THROW(merge_rounds({round_of({1}, 1, 1), other_batch}), Error);
}

}  // namespace
}  // namespace edgeperf::bench
