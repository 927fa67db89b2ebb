#include "edgeperf/bench/merge_report.h"

#include <fmt/format.h>

#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

using nlohmann::json;

constexpr const char* kNotMeasured = "not measured";

std::string machine_name(const json& system) {
  return fmt::format("{} ({} cores)", system.value("cpu_model", std::string("unknown CPU")),
                     system.value("physical_cores", 0));
}

void check_report(const json& report, const std::string& source) {
  EP_CHECK(report.is_object() && report.value("schema", std::string()) == "edgeperf.bench/1",
           "{}: not an edgeperf bench report (schema edgeperf.bench/1)", source);
  for (const char* field : {"system", "models"}) {
    EP_CHECK(report.contains(field), "{}: the report has no '{}'", source, field);
  }
  EP_CHECK(report["models"].is_array() && !report["models"].empty(), "{}: the report has no models",
           source);
  for (const json& model : report["models"]) {
    for (const char* field : {"label", "file_bytes", "load_ms", "first_inference_ms", "batches",
                              "peak_rss_bytes", "macs", "energy", "accuracy"}) {
      EP_CHECK(model.contains(field), "{}: model '{}' has no '{}'", source,
               model.value("label", std::string("?")), field);
    }
    EP_CHECK(model["batches"].is_array() && !model["batches"].empty(),
             "{}: model '{}' has no batches", source, model["label"].get<std::string>());
  }
}

json device_row(const json& model, const json& system) {
  const json& batch = model["batches"][0];
  const json& temperature = model.value("temperature_c", json::object());
  const json clock = system.value("clock_ghz_measured", json(nullptr));
  return {
      {"target", machine_name(system)},
      {"model", model["label"]},
      {"threads", model.value("threads", 0)},
      {"size_mb", model["file_bytes"].get<double>() / 1e6},
      {"accuracy_top1",
       model["accuracy"].is_null() ? json(kNotMeasured) : model["accuracy"]["top1"]},
      {"latency_p50_ms", batch["latency_ms"]["p50"]},
      {"throughput_per_s", batch["throughput_inferences_per_s"]},
      {"ram_peak_mb", model["peak_rss_bytes"].get<double>() / 1e6},
      {"energy_j_per_inference", model["energy"]["joules_per_inference"].is_null()
                                     ? json(model["energy"].value("method", kNotMeasured))
                                     : model["energy"]["joules_per_inference"]},
      {"startup_ms", model["load_ms"]},
      {"temperature_c", temperature.value("after", json(nullptr)).is_null() ? json("unavailable")
                                                                            : temperature["after"]},
      {"complexity_gmacs", model["macs"].get<double>() / 1e9},
      {"clock_ghz", clock.is_null() ? json(kNotMeasured) : clock},
      {"deployment_ms",
       model["load_ms"].get<double>() + model["first_inference_ms"].get<double>()}};
}

std::string cell(const json& value, const char* format) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return kNotMeasured;
  return fmt::format(fmt::runtime(format), value.get<double>());
}

}  // namespace

json merge_reports(const std::vector<json>& reports, const std::vector<std::string>& sources) {
  EP_CHECK(!reports.empty(), "report: give at least one bench report");
  json machines = json::array(), models = json::array(), rows = json::array();
  for (std::size_t r = 0; r < reports.size(); ++r) {
    check_report(reports[r], sources.at(r));
    const json& system = reports[r]["system"];
    machines.push_back({{"source", sources[r]}, {"system", system}});
    for (json model : reports[r]["models"]) {
      rows.push_back(device_row(model, system));
      model["label"] = fmt::format("{} @ {}", model["label"].get<std::string>(),
                                   system.value("cpu_model", std::string("?")));
      model["machine"] = r;
      models.push_back(std::move(model));
    }
  }
  json merged = reports.front();
  merged["command"] = "edgeperf report";
  merged["machines"] = machines;
  merged["models"] = models;
  merged["devices"] = rows;
  merged["comparison"] = json::object();  // rankings compare runs of one machine only
  return merged;
}

std::string render_device_table(const json& merged) {
  std::string md =
      "| target | model | threads | size MB | accuracy | latency p50 ms | throughput inf/s | RAM "
      "MB | energy J/inf | startup ms | temperature C | complexity GMACs | clock GHz | deployment "
      "ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const json& row : merged["devices"]) {
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                      row["target"].get<std::string>(), row["model"].get<std::string>(),
                      row["threads"].get<int>(), cell(row["size_mb"], "{:.2f}"),
                      row["accuracy_top1"].is_number()
                          ? fmt::format("{:.2f}%", row["accuracy_top1"].get<double>() * 100)
                          : cell(row["accuracy_top1"], "{}"),
                      cell(row["latency_p50_ms"], "{:.3f}"),
                      cell(row["throughput_per_s"], "{:.1f}"), cell(row["ram_peak_mb"], "{:.1f}"),
                      cell(row["energy_j_per_inference"], "{:.4f}"),
                      cell(row["startup_ms"], "{:.1f}"), cell(row["temperature_c"], "{:.1f}"),
                      cell(row["complexity_gmacs"], "{:.3f}"), cell(row["clock_ghz"], "{:.2f}"),
                      cell(row["deployment_ms"], "{:.1f}"));
  }
  return md;
}

}  // namespace edgeperf::bench
