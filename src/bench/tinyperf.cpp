#include "edgeperf/bench/tinyperf.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

const std::vector<TinyTask>& tiny_tasks() {
  static const std::vector<TinyTask> tasks = {
      {"kws", "keyword spotting (49x10 MFCC, 12 classes)", {{1, 49, 10}, {49, 10, 1}}, 90, 100},
      {"vww", "visual wake words (96x96 RGB person detection)", {{3, 96, 96}, {96, 96, 3}}, 80, 200},
      {"ad", "anomaly detection (640 log-mel features)", {{640}}, 85, 50},
      {"ic", "image classification (32x32 RGB, 10 classes)", {{3, 32, 32}, {32, 32, 3}}, 75, 150}};
  return tasks;
}

}  // namespace

const TinyTask& find_tiny_task(const std::string& name) {
  for (const TinyTask& task : tiny_tasks()) {
    if (task.name == name) return task;
  }
  fail("unknown --task '{}' (expected kws, vww, ad or ic)", name);
}

void check_task_input(const TinyTask& task, const Shape& model_input_shape, const std::string& model) {
  const Shape sample(model_input_shape.begin() + (model_input_shape.empty() ? 0 : 1), model_input_shape.end());
  const bool accepted = std::find(task.input_shapes.begin(), task.input_shapes.end(), sample) != task.input_shapes.end();
  EP_CHECK(accepted, "model '{}' takes samples of shape {} but task {} needs {}", model, shape_to_string(sample),
           task.name, shape_to_string(task.input_shapes.front()));
}

nlohmann::json judge_tiny_task(const TinyTask& task, const ModelResult& result) {
  const double p90 = result.batches.front().latency.p90;
  const bool latency_ok = p90 <= task.max_latency_ms;
  nlohmann::json accuracy = nullptr;
  std::string accuracy_verdict = "not measured";
  bool accuracy_ok = false;
  if (result.accuracy) {
    accuracy = result.accuracy->top1 * 100;
    accuracy_ok = result.accuracy->top1 * 100 >= task.min_accuracy_pct;
    accuracy_verdict = accuracy_ok ? "pass" : "fail";
  }
  return {{"schema", "edgeperf.tinyperf/1"},
          {"task", task.name},
          {"description", task.description},
          {"model", result.path},
          {"threads", result.threads},
          {"targets", {{"min_accuracy_pct", task.min_accuracy_pct}, {"max_p90_latency_ms", task.max_latency_ms}}},
          {"measured", {{"accuracy_pct", accuracy},
                        {"samples", result.accuracy ? nlohmann::json(result.accuracy->samples) : nlohmann::json(nullptr)},
                        {"p90_latency_ms", p90},
                        {"p50_latency_ms", result.batches.front().latency.p50},
                        {"runs", result.batches.front().latency.n}}},
          {"verdicts", {{"accuracy", accuracy_verdict}, {"latency", latency_ok ? "pass" : "fail"}}},
          {"compliant", accuracy_ok && latency_ok},
          {"noisy", result.noisy}};
}

std::string render_tiny_markdown(const nlohmann::json& verdict) {
  const auto& measured = verdict["measured"];
  const auto& targets = verdict["targets"];
  return fmt::format(
      "# TinyMLPerf-style compliance: {}\n\n{} — model `{}`, {} thread(s)\n\n"
      "| metric | target | measured | verdict |\n|---|---|---|---|\n"
      "| top-1 accuracy | >= {:.0f}% | {} | {} |\n| p90 latency | <= {:.0f} ms | {:.3f} ms ({} runs) | {} |\n\n"
      "**{}**{}\n",
      verdict["task"].get<std::string>(), verdict["description"].get<std::string>(), verdict["model"].get<std::string>(),
      verdict["threads"].get<int>(), targets["min_accuracy_pct"].get<double>(),
      measured["accuracy_pct"].is_null() ? std::string("not measured (no --data)")
                                         : fmt::format("{:.2f}% of {}", measured["accuracy_pct"].get<double>(),
                                                       measured["samples"].get<std::int64_t>()),
      verdict["verdicts"]["accuracy"].get<std::string>(), targets["max_p90_latency_ms"].get<double>(),
      measured["p90_latency_ms"].get<double>(), measured["runs"].get<std::size_t>(),
      verdict["verdicts"]["latency"].get<std::string>(), verdict["compliant"].get<bool>() ? "COMPLIANT" : "NOT COMPLIANT",
      verdict["noisy"].get<bool>() ? " (the latency run was noisy: CV > 10% or throttling)" : "");
}

}  // namespace edgeperf::bench
