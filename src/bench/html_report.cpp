// HTML rendering of a bench report: tables rendered here, charts drawn in the page by
// uPlot and report.js (both inlined, with the report's JSON), so one file opens offline.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "edgeperf/bench/report.h"
#include "html_assets.inc"

namespace edgeperf::bench {
namespace {

using nlohmann::json;

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The report JSON for the page's script; "</" is escaped so no value can end the
// <script> element early.
std::string embedded_json(const json& report) {
  const std::string text = report.dump();
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') out += "\\";
  }
  return out;
}

std::string chart_section(const char* id, const char* title, const char* caption) {
  return fmt::format(
      R"(<section><h2>{}</h2><p class="note">{}</p><div id="{}" class="chart"></div></section>)",
      title, caption, id);
}

std::string markdownish_table(const json& report) {
  std::string html =
      "<table><tr><th>model</th><th>threads</th><th>batch</th><th>p50 ms</th><th>p90 "
      "ms</th><th>p99 ms</th>"
      "<th>mean ± 95% CI</th><th>CV</th><th>inf/s</th><th>load ms</th><th>first ms</th><th>peak "
      "RSS MB</th>"
      "<th>arena MB</th><th>size "
      "MB</th><th>GMACs</th><th>top-1</th><th>energy</th><th>noisy</th></tr>";
  for (const json& m : report["models"]) {
    for (const json& b : m["batches"]) {
      const json& l = b["latency_ms"];
      html += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}</td><td>{:.3f}</td><td>{:.3f}</"
          "td><td>{:.3f} ± {:.3f}</td>"
          "<td>{:.1f}%</td><td>{:.1f}</td><td>{:.1f}</td><td>{:.2f}</td><td>{:.1f}</td><td>{:.2f}</"
          "td><td>{:.2f}</td>"
          "<td>{:.3f}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
          escape(m["label"].get<std::string>()), m["threads"].get<int>(), b["batch"].get<int>(),
          l["p50"].get<double>(), l["p90"].get<double>(), l["p99"].get<double>(),
          l["mean"].get<double>(), l["ci95_high"].get<double>() - l["mean"].get<double>(),
          l["cv"].get<double>() * 100, b["throughput_inferences_per_s"].get<double>(),
          m["load_ms"].get<double>(), m["first_inference_ms"].get<double>(),
          m["peak_rss_bytes"].get<double>() / 1e6, m["arena_bytes"].get<double>() / 1e6,
          m["file_bytes"].get<double>() / 1e6, m["macs"].get<double>() / 1e9,
          m["accuracy"].is_null()
              ? "not measured"
              : fmt::format("{:.2f}%", m["accuracy"]["top1"].get<double>() * 100),
          m["energy"]["joules_per_inference"].is_null()
              ? escape(m["energy"]["method"].get<std::string>())
              : fmt::format("{:.4f} J", m["energy"]["joules_per_inference"].get<double>()),
          m["noisy"].get<bool>() ? "yes" : "no");
    }
  }
  return html + "</table>";
}

std::string comparison_section(const json& comparison) {
  if (comparison.empty()) return "";
  std::string html = fmt::format(
      "<h2>Comparison (baseline {})</h2><table><tr><th>model</th><th>speed-up p50</th>"
      "<th>Mann-Whitney p</th><th>size ratio</th><th>memory ratio</th><th>accuracy "
      "retention</th></tr>",
      escape(comparison["baseline"].get<std::string>()));
  for (const json& row : comparison["rows"]) {
    html += fmt::format(
        "<tr><td>{}</td><td>{:.2f}x</td><td>{:.3g}</td><td>{:.2f}</td><td>{:.2f}</td><td>{}</td></"
        "tr>",
        escape(row["model"].get<std::string>()), row["speedup_p50"].get<double>(),
        row["mann_whitney_p"].get<double>(), row["size_ratio"].get<double>(),
        row["memory_ratio"].get<double>(),
        row["accuracy_retention"].is_null()
            ? "not measured"
            : fmt::format("{:.4f}", row["accuracy_retention"].get<double>()));
  }
  html += "</table><h3>Recommendations</h3><ul>";
  for (const auto& [use_case, rec] : comparison["recommendations"].items()) {
    html += fmt::format("<li><b>{}</b>: {} — {}</li>", escape(use_case),
                        rec["model"].is_null() ? "none" : escape(rec["model"].get<std::string>()),
                        escape(rec["reason"].get<std::string>()));
  }
  html += "</ul>";
  for (const json& event : comparison["events"]) {
    html += fmt::format(
        "<h3>Event: {} (objective {}; constraints "
        "{})</h3><table><tr><th>rank</th><th>model</th><th>score</th><th>note</th></tr>",
        escape(event["event"].get<std::string>()), escape(event["objective"].get<std::string>()),
        escape(event["constraints"].dump()));
    for (const json& row : event["ranking"]) {
      html += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
          row["rank"].is_null() ? "-" : row["rank"].dump(), escape(row["model"].get<std::string>()),
          row["score"].is_null() ? "-" : fmt::format("{:.4g}", row["score"].get<double>()),
          escape(row["reason"].get<std::string>()));
    }
    html += "</table>";
  }
  html += "<p>Dominated: ";
  for (const json& d : comparison["dominated"]) {
    html += fmt::format("{} (by {}); ", escape(d["model"].get<std::string>()),
                        escape(d["dominated_by"].get<std::string>()));
  }
  return html + "</p>";
}

// The merged device comparison of `edgeperf report`: one row per model and machine.
std::string device_table(const json& rows) {
  std::string html =
      "<h2>Devices</h2><table><tr><th>target</th><th>model</th><th>threads</th><th>size MB</th>"
      "<th>accuracy</th><th>latency p50 ms</th><th>throughput inf/s</th><th>RAM MB</th>"
      "<th>energy J/inf</th><th>startup ms</th><th>temperature C</th><th>GMACs</th>"
      "<th>clock GHz</th><th>deployment ms</th></tr>";
  const auto cell = [](const json& value, const char* format) {
    if (value.is_number()) return fmt::format(fmt::runtime(format), value.get<double>());
    return escape(value.is_string() ? value.get<std::string>() : std::string("not measured"));
  };
  for (const json& row : rows) {
    html += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        escape(row["target"].get<std::string>()), escape(row["model"].get<std::string>()),
        row["threads"].get<int>(), cell(row["size_mb"], "{:.2f}"),
        cell(row["accuracy_top1"], "{:.4f}"), cell(row["latency_p50_ms"], "{:.3f}"),
        cell(row["throughput_per_s"], "{:.1f}"), cell(row["ram_peak_mb"], "{:.1f}"),
        cell(row["energy_j_per_inference"], "{:.4f}"), cell(row["startup_ms"], "{:.1f}"),
        cell(row["temperature_c"], "{:.1f}"), cell(row["complexity_gmacs"], "{:.3f}"),
        cell(row["clock_ghz"], "{:.2f}"), cell(row["deployment_ms"], "{:.1f}"));
  }
  return html + "</table>";
}

}  // namespace

std::string render_html(const json& report) {
  const json& system = report["system"];
  std::string html = fmt::format(
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>edgeperf benchmark report</title>"
      "<style>{}</style><style>{}</style></head><body>",
      kUplotCss, kReportCss);
  html += "<h1>edgeperf benchmark report</h1>";
  html += fmt::format(
      "<p>{} ({} physical cores), {}, oneDNN {}, OpenMP {}. Energy: {}. Harness overhead {:.1f} ns "
      "per timed "
      "iteration. "
      "Percentiles: {}.</p>",
      escape(system["cpu_model"].get<std::string>()), system["physical_cores"].get<int>(),
      escape(system["kernel"].get<std::string>()),
      escape(system["onednn_version"].get<std::string>()),
      escape(system.value("openmp_runtime", "unavailable")),
      escape(system["energy_method"].get<std::string>()),
      report["harness_overhead_ns_per_iteration"].get<double>(),
      escape(report["percentile_definition"].get<std::string>()));
  if (report.contains("devices")) html += device_table(report["devices"]);
  html += "<p class=\"note\">Click a column header to sort.</p>" + markdownish_table(report);
  html += chart_section("latency-cdf", "Latency distribution",
                        "Fraction of runs at or below each latency; log scale, so one slow variant "
                        "does not flatten the rest.");
  html += chart_section(
      "latency-bars", "p50 latency with 95% confidence interval",
      "Sorted fastest first; the whisker is the 95% confidence interval of the mean.");
  html += chart_section("pareto", "Pareto: latency against size",
                        "Red: the frontier (no other model is both faster and smaller). Hover a "
                        "point for its model.");
  html +=
      chart_section("accuracy", "Accuracy against latency", "Top-1 accuracy on the labelled data.");
  html += chart_section("profile", "Where the time goes",
                        "Per-step profile (--profile): the slowest steps and the time by op type.");
  html += comparison_section(report["comparison"]);
  html +=
      "<script type=\"application/json\" id=\"report-data\">" + embedded_json(report) + "</script>";
  html += fmt::format("<script>{}</script><script>{}</script>", kUplotJs, kReportJs);
  return html + "</body></html>\n";
}

}  // namespace edgeperf::bench
