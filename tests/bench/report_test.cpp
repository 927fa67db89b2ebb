#include <gtest/gtest.h>

#include "edgeperf/bench/events.h"
#include "edgeperf/bench/report.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

ModelResult fake_model(const std::string& label, std::vector<double> latencies, std::size_t file_bytes,
                       std::optional<double> top1) {
  ModelResult m;
  m.label = label;
  m.file_bytes = file_bytes;
  m.peak_rss_bytes = 1000000;
  BatchResult batch;
  batch.measurement.latencies_ms = std::move(latencies);
  batch.latency = summarize(batch.measurement.latencies_ms);
  m.batches.push_back(batch);
  if (top1) {
    eval::Accuracy accuracy;
    accuracy.top1 = *top1;
    m.accuracy = accuracy;
  }
  return m;
}

std::vector<ModelResult> three_variants() {
  return {fake_model("fp32", {10, 10.5, 11, 10.2, 10.4, 10.1, 10.3, 10.6}, 4000000, 0.95),
          fake_model("int8", {4, 4.2, 4.1, 4.3, 4.0, 4.4, 4.1, 4.2}, 1000000, 0.945),
          fake_model("slow-big", {20, 21, 22, 20.5, 21.5, 20.2, 20.8, 21.1}, 8000000, 0.90)};
}

TEST(Report, ParetoRecommendationsAndSpeedups) {
  const auto models = three_variants();
  const nlohmann::json comparison = compare_models(models);
  EXPECT_EQ(comparison["pareto_frontier"], nlohmann::json({"fp32", "int8"}));
  ASSERT_EQ(comparison["dominated"].size(), 1u);
  EXPECT_EQ(comparison["dominated"][0]["model"], "slow-big");
  EXPECT_EQ(comparison["recommendations"]["latency_critical"]["model"], "int8");
  EXPECT_EQ(comparison["recommendations"]["accuracy_preserving"]["model"], "fp32");
  EXPECT_NEAR(comparison["rows"][1]["speedup_p50"].get<double>(), 10.35 / 4.15, 0.05);
  EXPECT_LT(comparison["rows"][1]["mann_whitney_p"].get<double>(), 0.01);
}

TEST(Report, EventsRankWithConstraints) {
  const auto models = three_variants();
  const nlohmann::json sprint = rank_event(parse_event("latency-sprint:min_acc=94"), models);
  EXPECT_EQ(sprint["ranking"][0]["model"], "int8");
  EXPECT_EQ(sprint["ranking"][1]["model"], "fp32");
  EXPECT_FALSE(sprint["ranking"][2]["eligible"].get<bool>());  // 90% < 94%
  const nlohmann::json contest = rank_event(parse_event("accuracy-contest:max_mb=5"), models);
  EXPECT_EQ(contest["ranking"][0]["model"], "fp32");
  EXPECT_FALSE(contest["ranking"][2]["eligible"].get<bool>());  // 8 MB > 5 MB
  EXPECT_THROW(parse_event("marathon"), Error);
  EXPECT_THROW(parse_event("latency-sprint:min_acc=abc"), Error);
  EXPECT_THROW(parse_event("latency-sprint:speed=3"), Error);
}

TEST(Report, EventsWithoutAccuracyAreNotFaked) {
  std::vector<ModelResult> models = {fake_model("a", {1, 2, 3}, 10, std::nullopt)};
  const nlohmann::json sprint = rank_event(parse_event("latency-sprint"), models);
  EXPECT_FALSE(sprint["ranking"][0]["eligible"].get<bool>());
  EXPECT_NE(sprint["ranking"][0]["reason"].get<std::string>().find("not measured"), std::string::npos);
}

TEST(Report, AllFormatsCarryComparisonAndEvents) {
  ReportInputs inputs;
  inputs.models = three_variants();
  inputs.system.cpu_model = "Test";
  inputs.system.energy_method = "unavailable";
  const nlohmann::json report = build_report(inputs);
  EXPECT_EQ(report["schema"], kReportSchema);
  const std::string md = render_markdown(report), html = render_html(report), csv = render_csv(report);
  for (const std::string& text : {md, html}) {
    EXPECT_NE(text.find("latency-sprint"), std::string::npos);
    EXPECT_NE(text.find("slow-big"), std::string::npos);
    EXPECT_NE(text.find("dominated"), std::string::npos);
  }
  // Charts are drawn in the page from the embedded report by the inlined uPlot and report.js.
  EXPECT_NE(html.find("<div id=\"pareto\""), std::string::npos);
  EXPECT_NE(html.find("<script type=\"application/json\" id=\"report-data\">"), std::string::npos);
  EXPECT_NE(html.find("uPlot"), std::string::npos);
  EXPECT_EQ(html.find("</script", html.find("id=\"report-data\">") + 30),
            html.find("</script><script>"));  // the JSON cannot end its <script> early
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);  // header + 3 models
  EXPECT_NE(csv.find("on_pareto_frontier,dominated_by,recommended_for,rank_latency-sprint"), std::string::npos);
  EXPECT_NE(csv.find(",no,fp32,"), std::string::npos);  // slow-big: off the frontier, dominated by fp32
}

}  // namespace
}  // namespace edgeperf::bench
