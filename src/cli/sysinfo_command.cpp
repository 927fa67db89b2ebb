// edgeperf sysinfo [--json]: the machine, as a benchmark report records it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "edgeperf/bench/profile.h"
#include "edgeperf/bench/sysinfo.h"
#include "edgeperf/cli/commands.h"

namespace edgeperf::cli {
namespace {

void print_text(const bench::SystemInfo& info) {
  fmt::print("cpu            {} ({}, {} physical cores, {} logical CPUs{})\n", info.cpu_model,
             info.architecture, info.physical_cores, info.logical_cpus,
             info.virtualized ? ", virtualized" : "");
  fmt::print("isa            {}\n", fmt::join(info.isa_extensions, " "));
  fmt::print("kernels        {} (edgeperf's own kernels, chosen at run time)\n", info.kernel_isa);
  fmt::print("frequency      {}\n", info.cur_mhz.empty()
                                        ? std::string("unavailable (no cpufreq)")
                                        : fmt::format("{:.0f} MHz", fmt::join(info.cur_mhz, ", ")));
  fmt::print("governor       {}\n", info.governor.empty() ? "unavailable" : info.governor);
  fmt::print("memory         {:.1f} GiB total, {:.1f} GiB available\n", info.memory_total_gib,
             info.memory_available_gib);
  fmt::print("kernel         {}\n", info.kernel);
  fmt::print("compiler       {}\n", info.compiler);
  fmt::print("libraries      oneDNN {}, protobuf {}\n", info.onednn_version, info.protobuf_version);
  fmt::print("thermal        {}\n", info.thermal_zones.empty()
                                        ? std::string("unavailable (no thermal zones)")
                                        : fmt::format("{}", fmt::join(info.thermal_zones, "; ")));
  fmt::print("energy         {}\n", info.energy_method);
  const double ghz = bench::measure_cpu_ghz();
  fmt::print("clock          {:.2f} GHz measured (a chain of dependent adds, one per cycle)\n",
             ghz);
  fmt::print(
      "\nDevice profiling row (the model columns are measured by `edgeperf bench MODEL`):\n");
  fmt::print(
      "| target | model size | accuracy | latency | throughput | RAM | energy | startup | "
      "temperature | complexity | clock | deployment |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  constexpr const char* kPerModel = "not measured (per model)";
  fmt::print(
      "| {} ({} cores) | {} | {} | {} | {} | {:.1f} GiB total | {} | {} | {} | {} | {:.2f} GHz | "
      "{} |\n",
      info.cpu_model, info.physical_cores, kPerModel, kPerModel, kPerModel, kPerModel,
      info.memory_total_gib,
      info.energy_method == "unavailable" ? "not measurable here (no energy counter)"
                                          : "measurable: " + info.energy_method,
      kPerModel,
      info.thermal_zones.empty() ? "not measurable here (no thermal zone)"
                                 : info.thermal_zones.front(),
      kPerModel, ghz, kPerModel);
}

}  // namespace

void add_sysinfo_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand(
      "sysinfo", "CPU, ISA, frequencies, memory, versions, thermal and energy sources");
  command->add_flag("--json", *json, "Print JSON");
  command->callback([json] {
    const bench::SystemInfo info = bench::collect_system_info();
    if (*json) {
      fmt::print("{}\n", bench::to_json(info).dump(2));
    } else {
      print_text(info);
    }
  });
}

}  // namespace edgeperf::cli
