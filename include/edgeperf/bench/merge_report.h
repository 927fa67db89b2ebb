#pragma once
// Reports from several machines (an x86 dev box, a Pi, a Jetson) merged into one
// comparison with the device-profiling columns of the model-profiling playbook: size,
// accuracy, latency, throughput, RAM, energy, startup, temperature, complexity, clock
// and deployment time (model file to first inference: load, plan and first run).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace edgeperf::bench {

// `reports` are edgeperf.bench/1 reports; `sources` name them (file paths) for errors.
// The result keeps every model (labelled "model @ machine"), the machines, and one
// device-profiling row per model; it renders with render_html like a bench report.
nlohmann::json merge_reports(const std::vector<nlohmann::json>& reports,
                             const std::vector<std::string>& sources);
std::string render_device_table(const nlohmann::json& merged);  // Markdown

}  // namespace edgeperf::bench
