// edgeperf sysinfo [--json]: the machine, as a benchmark report records it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "edgeperf/bench/profile.h"
#include "edgeperf/bench/sysinfo.h"
#include "edgeperf/cli/commands.h"

namespace edgeperf::cli {
namespace {

void print_power(const bench::SystemInfo& info) {
  if (info.power_method == "unavailable") {
    fmt::print("power          unavailable (no INA3221, Pi 5 PMIC or hwmon power sensor)\n");
    return;
  }
  fmt::print("power          {:.2f} W now: {}\n", bench::total_watts(info.power_rails),
             info.power_coverage);
  for (const bench::PowerRail& rail : info.power_rails) {
    fmt::print("  rail         {:<16} {:7.3f} W{}\n", rail.name, rail.watts,
               rail.in_total ? "" : " (part of the input rail)");
  }
}

std::string energy_cell(const bench::SystemInfo& info) {
  if (info.energy_method != "unavailable") return "measurable: " + info.energy_method;
  if (info.power_method != "unavailable") return "measurable (power sampled): " + info.power_method;
  return "not measurable here (no energy counter or power sensor)";
}

void print_text(const bench::SystemInfo& info) {
  fmt::print("cpu            {} ({}, {} physical cores, {} logical CPUs{})\n", info.cpu_model,
             info.architecture, info.physical_cores, info.logical_cpus,
             info.virtualized ? ", virtualized" : "");
  if (!info.board.empty()) fmt::print("board          {}\n", info.board);
  for (const bench::CpuCluster& cluster : info.clusters) {
    fmt::print("cluster        {} x {} (MIDR {}, CPUs {}{})\n", cluster.cpus.size(), cluster.core,
               cluster.part, fmt::join(cluster.cpus, ","),
               cluster.max_mhz > 0 ? fmt::format(", up to {:.0f} MHz", cluster.max_mhz) : "");
  }
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
  fmt::print("libraries      oneDNN {}, protobuf {}, OpenMP {}\n", info.onednn_version,
             info.protobuf_version, info.openmp_runtime);
  fmt::print("thermal        {}\n", info.thermal_zones.empty()
                                        ? std::string("unavailable (no thermal zones)")
                                        : fmt::format("{}", fmt::join(info.thermal_zones, "; ")));
  fmt::print("energy         {}\n", info.energy_method);
  print_power(info);
  if (info.throttling) {
    fmt::print("throttling     {:#x}: now {}; since boot {}\n", info.throttling->raw,
               info.throttling->now.empty()
                   ? "none"
                   : fmt::format("{}", fmt::join(info.throttling->now, ", ")),
               info.throttling->since_boot.empty()
                   ? "none"
                   : fmt::format("{}", fmt::join(info.throttling->since_boot, ", ")));
  }
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
      info.memory_total_gib, energy_cell(info), kPerModel,
      info.thermal_zones.empty() ? "not measurable here (no thermal zone)"
                                 : info.thermal_zones.front(),
      kPerModel, ghz, kPerModel);
}

}  // namespace

void add_sysinfo_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto root = std::make_shared<std::string>("/");
  CLI::App* command = app.add_subcommand(
      "sysinfo", "CPU, ISA, frequencies, memory, versions, thermal and energy sources");
  command->add_flag("--json", *json, "Print JSON");
  command
      ->add_option("--root", *root,
                   "Read proc/, sys/ and usr/bin/vcgencmd under this directory instead of / "
                   "(a tree captured from a board, or a test's fake one)")
      ->check(CLI::ExistingDirectory);
  command->callback([json, root] {
    const bench::SystemInfo info = bench::collect_system_info(bench::MachinePaths::under(*root));
    if (*json) {
      fmt::print("{}\n", bench::to_json(info).dump(2));
    } else {
      print_text(info);
    }
  });
}

}  // namespace edgeperf::cli
