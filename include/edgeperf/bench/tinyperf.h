#pragma once
// TinyMLPerf-style task compliance: a task fixes the input shape and the targets;
// accuracy comes only from a labeled dataset, otherwise the verdict is "not measured".
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgeperf/bench/model_bench.h"

namespace edgeperf::bench {

struct TinyTask {
  std::string name;         // kws | vww | ad | ic
  std::string description;
  std::vector<Shape> input_shapes;  // accepted per-sample shapes (NCHW and NHWC layouts)
  double min_accuracy_pct;
  double max_latency_ms;    // p90 single-stream
};

const TinyTask& find_tiny_task(const std::string& name);  // Error listing the tasks

// Checks the model's input against the task, then judges a benchmark result.
void check_task_input(const TinyTask& task, const Shape& model_input_shape, const std::string& model);
nlohmann::json judge_tiny_task(const TinyTask& task, const ModelResult& result);
std::string render_tiny_markdown(const nlohmann::json& verdict);

}  // namespace edgeperf::bench
