#pragma once
// Whether an optimized variant (quantized, pruned, FP16) runs as fast as the model it
// came from, measured on this machine. Both run in this process at each thread count,
// alternating in short rounds, so drift in the machine's state hits both alike; when the
// variant is slower, a profile of each says where its extra time goes.
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::bench {

struct SpeedCheckOptions {
  runtime::SessionOptions session;  // its threads are replaced by each of `threads`
  std::vector<int> threads = {1, 2};
  double min_seconds = 0.4;   // per thread count, both models together
  double max_seconds = 6;     // ...stopping here even if min_runs is not reached
  std::size_t min_runs = 15;  // per model and thread count
  std::size_t round_runs = 3;
};

struct ThreadCountSpeed {
  int threads = 1;
  double input_p50_ms = 0, variant_p50_ms = 0;
  std::size_t runs = 0;  // per model
  double ratio() const { return variant_p50_ms / input_p50_ms; }
};

// Op types (with their backend) whose profiled time grew most from input to variant.
struct TimeGrowth {
  std::string ops;      // "ConvInteger", "Conv+Relu"
  std::string backend;  // "reference", "onednn"
  double input_ms = 0, variant_ms = 0;
};

struct SpeedCheck {
  std::vector<ThreadCountSpeed> speeds;
  std::vector<TimeGrowth> growth;  // largest growth first, at most 3; at the first thread count
  double worst_ratio() const;
  // "1.00x at 1 thread (6.51 vs 6.50 ms p50), 1.02x at 2 threads (...)".
  std::string speeds_text() const;
  // "ConvInteger on reference +101.2 ms, ..." (empty when nothing grew).
  std::string growth_text() const;
};

SpeedCheck check_variant_speed(const graph::Graph& input, const graph::Graph& variant,
                               const SpeedCheckOptions& options = {});

}  // namespace edgeperf::bench
