// Merging the rounds of one benchmark configuration (see merge_rounds in model_bench.h).
#include <algorithm>

#include "edgeperf/bench/model_bench.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

void pool_batch(BatchResult& into, const BatchResult& round) {
  EP_CHECK(into.batch == round.batch, "bench: rounds measured batch {} and batch {}", into.batch,
           round.batch);
  Measurement& pooled = into.measurement;
  const Measurement& more = round.measurement;
  pooled.latencies_ms.insert(pooled.latencies_ms.end(), more.latencies_ms.begin(),
                             more.latencies_ms.end());
  pooled.warmup_runs_done += more.warmup_runs_done;
  pooled.warmup_stabilized = pooled.warmup_stabilized && more.warmup_stabilized;
  pooled.wall_seconds += more.wall_seconds;
}

void finish_batch(BatchResult& batch) {
  Measurement& m = batch.measurement;
  const auto queries = static_cast<double>(m.latencies_ms.size());
  m.throughput_qps = m.wall_seconds > 0 ? queries / m.wall_seconds : 0;
  m.throughput_sps = m.throughput_qps * static_cast<double>(batch.batch);
  batch.latency = summarize(m.latencies_ms);
}

}  // namespace

ModelResult merge_rounds(std::vector<ModelResult> rounds) {
  EP_CHECK(!rounds.empty(), "bench: no rounds to merge");
  std::vector<double> load_ms, first_run_ms;
  for (const ModelResult& round : rounds) {
    load_ms.push_back(round.load_ms);
    first_run_ms.push_back(round.first_run_ms);
  }
  ModelResult merged = std::move(rounds.front());
  for (std::size_t r = 1; r < rounds.size(); ++r) {
    const ModelResult& round = rounds[r];
    EP_CHECK(round.batches.size() == merged.batches.size(),
             "bench: rounds of '{}' measured {} and {} batch sizes", merged.label,
             merged.batches.size(), round.batches.size());
    for (std::size_t b = 0; b < round.batches.size(); ++b) {
      pool_batch(merged.batches[b], round.batches[b]);
    }
    merged.peak_rss_bytes = std::max(merged.peak_rss_bytes, round.peak_rss_bytes);
    merged.baseline_rss_bytes = std::max(merged.baseline_rss_bytes, round.baseline_rss_bytes);
    merged.arena_bytes = std::max(merged.arena_bytes, round.arena_bytes);
    merged.round_positions.insert(merged.round_positions.end(), round.round_positions.begin(),
                                  round.round_positions.end());
    merged.throttled = merged.throttled || round.throttled;
    merged.turns += round.turns;
    if (round.temperature_after_c) merged.temperature_after_c = round.temperature_after_c;
  }
  if (rounds.size() > 1) {
    merged.load_ms = median_of(std::move(load_ms));
    merged.first_run_ms = median_of(std::move(first_run_ms));
    for (BatchResult& batch : merged.batches) finish_batch(batch);
  }
  merged.rounds = rounds.size();
  merged.noisy = merged.throttled || merged.batches.front().latency.cv > 0.10;
  return merged;
}

}  // namespace edgeperf::bench
