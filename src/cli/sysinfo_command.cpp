// edgeperf sysinfo [--json]: the machine, as a benchmark report records it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "edgeperf/bench/sysinfo.h"
#include "edgeperf/cli/commands.h"

namespace edgeperf::cli {
namespace {

void print_text(const bench::SystemInfo& info) {
  fmt::print("cpu            {} ({}, {} physical cores, {} logical CPUs{})\n", info.cpu_model,
             info.architecture, info.physical_cores, info.logical_cpus,
             info.virtualized ? ", virtualized" : "");
  fmt::print("isa            {}\n", fmt::join(info.isa_extensions, " "));
  fmt::print("frequency      {}\n", info.cur_mhz.empty() ? std::string("unavailable (no cpufreq)")
                                                          : fmt::format("{:.0f} MHz", fmt::join(info.cur_mhz, ", ")));
  fmt::print("governor       {}\n", info.governor.empty() ? "unavailable" : info.governor);
  fmt::print("memory         {:.1f} GiB total, {:.1f} GiB available\n", info.memory_total_gib,
             info.memory_available_gib);
  fmt::print("kernel         {}\n", info.kernel);
  fmt::print("compiler       {}\n", info.compiler);
  fmt::print("libraries      oneDNN {}, protobuf {}\n", info.onednn_version, info.protobuf_version);
  fmt::print("thermal        {}\n", info.thermal_zones.empty() ? std::string("unavailable (no thermal zones)")
                                                              : fmt::format("{}", fmt::join(info.thermal_zones, "; ")));
  fmt::print("energy         {}\n", info.energy_method);
  fmt::print("\nDevice profiling row (model fields come from `edgeperf bench`):\n");
  fmt::print("| target | model size | accuracy | latency | throughput | RAM | energy | startup | temperature | complexity | clock | deployment |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  fmt::print("| {} ({} cores) | - | - | - | - | {:.1f} GiB | {} | - | {} | - | {} | - |\n",
             info.cpu_model, info.physical_cores, info.memory_total_gib,
             info.energy_method == "unavailable" ? "unavailable" : "measurable",
             info.thermal_zones.empty() ? "unavailable" : info.thermal_zones.front(),
             info.cur_mhz.empty() ? std::string("unavailable") : fmt::format("{:.0f} MHz", info.cur_mhz.front()));
}

}  // namespace

void add_sysinfo_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand("sysinfo", "CPU, ISA, frequencies, memory, versions, thermal and energy sources");
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
