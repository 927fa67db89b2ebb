#pragma once
// Reporting, kept apart from measurement: results become one JSON document
// (schema "edgeperf.bench/1"), and every other format is rendered from that JSON.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgeperf/bench/events.h"
#include "edgeperf/bench/model_bench.h"
#include "edgeperf/bench/sysinfo.h"

namespace edgeperf::bench {

inline constexpr const char* kReportSchema = "edgeperf.bench/1";

struct ReportInputs {
  std::vector<ModelResult> models;  // the first is the baseline of comparisons
  SystemInfo system;
  double harness_overhead_ns = 0;
  std::string command_line;
  std::vector<EventSpec> events = default_events();
};

nlohmann::json build_report(const ReportInputs& inputs);

// Comparison of 2+ models: speed-ups with Mann-Whitney p-values, ratios, Pareto
// frontier and recommendations. Empty object for fewer than two models.
nlohmann::json compare_models(const std::vector<ModelResult>& models,
                              const std::vector<EventSpec>& events = default_events());

std::string render_markdown(const nlohmann::json& report);
std::string render_csv(const nlohmann::json& report);
// One self-contained HTML file (no scripts, no network): tables plus inline SVG charts
// (latency CDF per model, p50 bars with 95% CI error bars, Pareto scatter).
std::string render_html(const nlohmann::json& report);

}  // namespace edgeperf::bench
