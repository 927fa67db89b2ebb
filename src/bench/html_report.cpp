// HTML rendering of a bench report: inline SVG drawn here, so the file opens offline.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "edgeperf/bench/report.h"

namespace edgeperf::bench {
namespace {

using nlohmann::json;

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
constexpr int kWidth = 640, kHeight = 320, kLeft = 60, kRight = 20, kTop = 20, kBottom = 40;

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

struct Axis {
  double low, high;
  int pixel_low, pixel_high;
  double map(double value) const {
    const double span = high > low ? high - low : 1;
    return pixel_low + (value - low) / span * (pixel_high - pixel_low);
  }
};

std::string axes(const Axis& x, const Axis& y, const std::string& x_label, const std::string& y_label,
                 bool numeric_x = true) {
  std::string svg = fmt::format(
      R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#333"/><line x1="{0}" y1="{1}" x2="{0}" y2="{3}" stroke="#333"/>)",
      kLeft, kHeight - kBottom, kWidth - kRight, kTop);
  for (int i = 0; i <= 4; ++i) {
    const double xv = x.low + (x.high - x.low) * i / 4, yv = y.low + (y.high - y.low) * i / 4;
    if (numeric_x) {
      svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{:.3g}</text>)", x.map(xv),
                         kHeight - kBottom + 15, xv);
    }
    svg += fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{:.3g}</text>)", kLeft - 5,
                       y.map(yv) + 4, yv);
  }
  svg += fmt::format(R"(<text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text>)", (kLeft + kWidth - kRight) / 2,
                     kHeight - 5, escape(x_label));
  svg += fmt::format(R"svg(<text x="14" y="{}" font-size="12" text-anchor="middle" transform="rotate(-90 14 {})">{}</text>)svg",
                     kHeight / 2, kHeight / 2, escape(y_label));
  return svg;
}

std::string svg_open(const std::string& id) {
  return fmt::format(R"(<svg id="{}" class="chart" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}"><rect width="100%" height="100%" fill="#fff"/>)",
                     id, kWidth, kHeight, kWidth, kHeight);
}

std::string legend(const std::vector<std::string>& names) {
  std::string svg;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const int y = kTop + 14 * static_cast<int>(i);
    svg += fmt::format(R"(<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>)",
                       kWidth - kRight - 150, y, kPalette[i % 8], kWidth - kRight - 136, y + 9, escape(names[i]));
  }
  return svg;
}

// Empirical CDF of each model's first-batch latencies.
std::string latency_cdf(const json& models) {
  double low = INFINITY, high = 0;
  std::vector<std::vector<double>> samples;
  std::vector<std::string> names;
  for (const json& m : models) {
    std::vector<double> values = m["batches"][0]["raw_latencies_ms"].get<std::vector<double>>();
    std::sort(values.begin(), values.end());
    low = std::min(low, values.front());
    high = std::max(high, values[static_cast<std::size_t>(0.99 * static_cast<double>(values.size() - 1))]);
    samples.push_back(std::move(values));
    names.push_back(m["label"].get<std::string>());
  }
  const Axis x{low, high, kLeft, kWidth - kRight}, y{0, 1, kHeight - kBottom, kTop};
  std::string svg = svg_open("latency-cdf") + axes(x, y, "latency (ms), up to p99", "fraction of runs");
  for (std::size_t i = 0; i < samples.size(); ++i) {
    std::string points;
    for (std::size_t k = 0; k < samples[i].size(); ++k) {
      const double value = std::min(samples[i][k], high);
      points += fmt::format("{:.1f},{:.1f} ", x.map(value), y.map(static_cast<double>(k + 1) / static_cast<double>(samples[i].size())));
    }
    svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>)", kPalette[i % 8], points);
  }
  return svg + legend(names) + "</svg>";
}

// p50 bars with the 95% CI of the mean as error bars.
std::string latency_bars(const json& models) {
  double high = 0;
  for (const json& m : models) high = std::max({high, m["batches"][0]["latency_ms"]["ci95_high"].get<double>(),
                                                m["batches"][0]["latency_ms"]["p50"].get<double>()});
  const Axis y{0, high * 1.1, kHeight - kBottom, kTop};
  const Axis x{0, static_cast<double>(models.size()), kLeft, kWidth - kRight};
  std::string svg = svg_open("latency-bars") + axes(x, y, "model", "p50 latency (ms), 95% CI of mean", false);
  const double slot = (kWidth - kRight - kLeft) / static_cast<double>(models.size());
  for (std::size_t i = 0; i < models.size(); ++i) {
    const json& l = models[i]["batches"][0]["latency_ms"];
    const double center = kLeft + slot * (static_cast<double>(i) + 0.5), bar = slot * 0.5;
    svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"/>)", center - bar / 2,
                       y.map(l["p50"].get<double>()), bar, y.map(0) - y.map(l["p50"].get<double>()), kPalette[i % 8]);
    const double top = y.map(l["ci95_high"].get<double>()), bottom = y.map(l["ci95_low"].get<double>());
    svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#000" stroke-width="1.5"/>)", center, top, bottom);
    svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#000"/>)", center - 6, top, center + 6, top);
    svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#000"/>)", center - 6, bottom, center + 6, bottom);
    svg += fmt::format(R"(<text x="{:.1f}" y="{}" font-size="11" text-anchor="middle">{}</text>)", center, kHeight - kBottom + 28,
                       escape(models[i]["label"].get<std::string>()));
  }
  return svg + "</svg>";
}

// Latency against file size; frontier points are filled, dominated ones hollow.
std::string pareto_scatter(const json& report) {
  const json& models = report["models"];
  std::vector<std::string> frontier;
  if (report["comparison"].contains("pareto_frontier")) frontier = report["comparison"]["pareto_frontier"].get<std::vector<std::string>>();
  double max_latency = 0, max_size = 0;
  for (const json& m : models) {
    max_latency = std::max(max_latency, m["batches"][0]["latency_ms"]["p50"].get<double>());
    max_size = std::max(max_size, m["file_bytes"].get<double>() / 1e6);
  }
  const Axis x{0, max_latency * 1.15, kLeft, kWidth - kRight}, y{0, max_size * 1.15, kHeight - kBottom, kTop};
  std::string svg = svg_open("pareto") + axes(x, y, "p50 latency (ms)", "file size (MB)");
  for (std::size_t i = 0; i < models.size(); ++i) {
    const std::string label = models[i]["label"].get<std::string>();
    const bool on_frontier = std::find(frontier.begin(), frontier.end(), label) != frontier.end();
    const double px = x.map(models[i]["batches"][0]["latency_ms"]["p50"].get<double>());
    const double py = y.map(models[i]["file_bytes"].get<double>() / 1e6);
    svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="7" fill="{}" stroke="{}" stroke-width="2"/>)", px, py,
                       on_frontier ? kPalette[i % 8] : "#fff", kPalette[i % 8]);
    const bool near_right_edge = px > kWidth - 180;  // keep labels inside the chart
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="11" text-anchor="{}">{}{}</text>)",
                       near_right_edge ? px - 9 : px + 9, py - 6, near_right_edge ? "end" : "start", escape(label),
                       on_frontier ? "" : " (dominated)");
  }
  return svg + "</svg>";
}

std::string markdownish_table(const json& report) {
  std::string html = "<table><tr><th>model</th><th>threads</th><th>batch</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th>"
                     "<th>mean ± 95% CI</th><th>CV</th><th>inf/s</th><th>load ms</th><th>first ms</th><th>peak RSS MB</th>"
                     "<th>arena MB</th><th>size MB</th><th>GMACs</th><th>top-1</th><th>energy</th><th>noisy</th></tr>";
  for (const json& m : report["models"]) {
    for (const json& b : m["batches"]) {
      const json& l = b["latency_ms"];
      html += fmt::format(
          "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}</td><td>{:.3f}</td><td>{:.3f}</td><td>{:.3f} ± {:.3f}</td>"
          "<td>{:.1f}%</td><td>{:.1f}</td><td>{:.1f}</td><td>{:.2f}</td><td>{:.1f}</td><td>{:.2f}</td><td>{:.2f}</td>"
          "<td>{:.3f}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
          escape(m["label"].get<std::string>()), m["threads"].get<int>(), b["batch"].get<int>(), l["p50"].get<double>(),
          l["p90"].get<double>(), l["p99"].get<double>(), l["mean"].get<double>(),
          l["ci95_high"].get<double>() - l["mean"].get<double>(), l["cv"].get<double>() * 100,
          b["throughput_inferences_per_s"].get<double>(), m["load_ms"].get<double>(), m["first_inference_ms"].get<double>(),
          m["peak_rss_bytes"].get<double>() / 1e6, m["arena_bytes"].get<double>() / 1e6, m["file_bytes"].get<double>() / 1e6,
          m["macs"].get<double>() / 1e9,
          m["accuracy"].is_null() ? "not measured" : fmt::format("{:.2f}%", m["accuracy"]["top1"].get<double>() * 100),
          m["energy"]["joules_per_inference"].is_null() ? escape(m["energy"]["method"].get<std::string>())
                                                         : fmt::format("{:.4f} J", m["energy"]["joules_per_inference"].get<double>()),
          m["noisy"].get<bool>() ? "yes" : "no");
    }
  }
  return html + "</table>";
}

std::string comparison_section(const json& comparison) {
  if (comparison.empty()) return "";
  std::string html = fmt::format("<h2>Comparison (baseline {})</h2><table><tr><th>model</th><th>speed-up p50</th>"
                                 "<th>Mann-Whitney p</th><th>size ratio</th><th>memory ratio</th><th>accuracy retention</th></tr>",
                                 escape(comparison["baseline"].get<std::string>()));
  for (const json& row : comparison["rows"]) {
    html += fmt::format("<tr><td>{}</td><td>{:.2f}x</td><td>{:.3g}</td><td>{:.2f}</td><td>{:.2f}</td><td>{}</td></tr>",
                        escape(row["model"].get<std::string>()), row["speedup_p50"].get<double>(),
                        row["mann_whitney_p"].get<double>(), row["size_ratio"].get<double>(), row["memory_ratio"].get<double>(),
                        row["accuracy_retention"].is_null() ? "not measured" : fmt::format("{:.4f}", row["accuracy_retention"].get<double>()));
  }
  html += "</table><h3>Recommendations</h3><ul>";
  for (const auto& [use_case, rec] : comparison["recommendations"].items()) {
    html += fmt::format("<li><b>{}</b>: {} — {}</li>", escape(use_case),
                        rec["model"].is_null() ? "none" : escape(rec["model"].get<std::string>()), escape(rec["reason"].get<std::string>()));
  }
  html += "</ul>";
  for (const json& event : comparison["events"]) {
    html += fmt::format("<h3>Event: {} (objective {}; constraints {})</h3><table><tr><th>rank</th><th>model</th><th>score</th><th>note</th></tr>",
                        escape(event["event"].get<std::string>()), escape(event["objective"].get<std::string>()),
                        escape(event["constraints"].dump()));
    for (const json& row : event["ranking"]) {
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", row["rank"].is_null() ? "-" : row["rank"].dump(),
                          escape(row["model"].get<std::string>()),
                          row["score"].is_null() ? "-" : fmt::format("{:.4g}", row["score"].get<double>()),
                          escape(row["reason"].get<std::string>()));
    }
    html += "</table>";
  }
  html += "<p>Dominated: ";
  for (const json& d : comparison["dominated"]) {
    html += fmt::format("{} (by {}); ", escape(d["model"].get<std::string>()), escape(d["dominated_by"].get<std::string>()));
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
  std::string html = R"(<!doctype html><html><head><meta charset="utf-8"><title>edgeperf benchmark report</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:3px 6px;font-size:13px;text-align:right}th{background:#f3f3f3}.chart{border:1px solid #ddd;margin:8px}</style></head><body>)";
  html += "<h1>edgeperf benchmark report</h1>";
  html += fmt::format("<p>{} ({} physical cores), {}, oneDNN {}. Energy: {}. Harness overhead {:.1f} ns per timed iteration. "
                      "Percentiles: {}.</p>",
                      escape(system["cpu_model"].get<std::string>()), system["physical_cores"].get<int>(),
                      escape(system["kernel"].get<std::string>()), escape(system["onednn_version"].get<std::string>()),
                      escape(system["energy_method"].get<std::string>()), report["harness_overhead_ns_per_iteration"].get<double>(),
                      escape(report["percentile_definition"].get<std::string>()));
  if (report.contains("devices")) html += device_table(report["devices"]);
  html += markdownish_table(report);
  html += "<h2>Latency distribution</h2>" + latency_cdf(report["models"]);
  html += "<h2>p50 latency with 95% confidence interval</h2>" + latency_bars(report["models"]);
  html += "<h2>Pareto: latency against size</h2>" + pareto_scatter(report);
  html += comparison_section(report["comparison"]);
  return html + "</body></html>\n";
}

}  // namespace edgeperf::bench
