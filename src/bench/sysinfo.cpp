#include "edgeperf/bench/sysinfo.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <google/protobuf/stubs/common.h>
#include <sys/utsname.h>

#include <cctype>
#include <dnnl.hpp>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "edgeperf/bench/probes.h"
#include "edgeperf/core/cpu_features.h"

namespace edgeperf::bench {
namespace {

std::string after_colon(const std::string& line) {
  const auto colon = line.find(':');
  std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  return value;
}

void read_cpuinfo(const std::filesystem::path& proc_root, SystemInfo& info) {
  static const std::set<std::string> kInteresting = {
      "sse4_2",   "avx",      "avx2",        "fma",      "f16c",        "avx512f",
      "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8",
      "amx_bf16", "neon",     "asimd",       "asimddp",  "sve",         "fphp"};
  std::ifstream cpuinfo(proc_root / "cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, physical_id = "0";
  bool flags_done = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("processor", 0) == 0) ++info.logical_cpus;
    if (line.rfind("model name", 0) == 0 && info.cpu_model.empty())
      info.cpu_model = after_colon(line);
    if (line.rfind("Model", 0) == 0) info.board = after_colon(line);  // Raspberry Pi kernels
    if (line.rfind("physical id", 0) == 0) physical_id = after_colon(line);
    if (line.rfind("core id", 0) == 0) cores.emplace(physical_id, after_colon(line));
    if (!flags_done && (line.rfind("flags", 0) == 0 || line.rfind("Features", 0) == 0)) {
      std::istringstream flags(after_colon(line));
      std::string flag;
      while (flags >> flag) {
        if (kInteresting.count(flag)) info.isa_extensions.push_back(flag);
        if (flag == "hypervisor") info.virtualized = true;
      }
      flags_done = true;
    }
  }
  info.physical_cores = cores.empty() ? info.logical_cpus : static_cast<int>(cores.size());
}

void read_meminfo(const std::filesystem::path& proc_root, SystemInfo& info) {
  std::ifstream meminfo(proc_root / "meminfo");
  std::string key;
  double kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemTotal:") info.memory_total_gib = kib / (1024.0 * 1024.0);
    if (key == "MemAvailable:") info.memory_available_gib = kib / (1024.0 * 1024.0);
  }
}

// The device tree's model string (NUL-terminated), which boards have and PCs do not.
std::string read_board(const MachinePaths& paths) {
  for (const auto& file :
       {paths.sys / "firmware/devicetree/base/model", paths.proc / "device-tree/model"}) {
    std::ifstream stream(file, std::ios::binary);
    std::string model((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
    model = model.substr(0, model.find('\0'));
    while (!model.empty() && std::isspace(static_cast<unsigned char>(model.back())))
      model.pop_back();
    if (!model.empty()) return model;
  }
  return "";
}

std::string describe_clusters(const std::vector<CpuCluster>& clusters) {
  std::vector<std::string> parts;
  parts.reserve(clusters.size());
  for (const CpuCluster& cluster : clusters) {
    parts.push_back(fmt::format("{}x {}", cluster.cpus.size(), cluster.core));
  }
  return fmt::format("{}", fmt::join(parts, " + "));
}

void read_power(const MachinePaths& paths, SystemInfo& info) {
  const PowerProbe power(paths);
  info.power_method = power.method();
  info.power_coverage = power.coverage();
  if (const auto rails = power.read_rails()) info.power_rails = *rails;
}

nlohmann::json rails_json(const std::vector<PowerRail>& rails) {
  nlohmann::json out = nlohmann::json::array();
  for (const PowerRail& rail : rails) {
    out.push_back({{"name", rail.name}, {"watts", rail.watts}, {"in_total", rail.in_total}});
  }
  return out;
}

nlohmann::json clusters_json(const std::vector<CpuCluster>& clusters) {
  nlohmann::json out = nlohmann::json::array();
  for (const CpuCluster& cluster : clusters) {
    out.push_back({{"core", cluster.core},
                   {"midr", cluster.part},
                   {"cpus", cluster.cpus},
                   {"max_mhz", cluster.max_mhz > 0 ? nlohmann::json(cluster.max_mhz)
                                                   : nlohmann::json(nullptr)}});
  }
  return out;
}

// The library the dynamic linker binds omp_* calls to: the build may link LLVM's libomp
// ahead of the libgomp that oneDNN names (cmake/openmp_runtime.cmake).
std::string openmp_runtime_library() {
  void* symbol = ::dlsym(RTLD_DEFAULT, "omp_get_max_threads");
  Dl_info where{};
  if (symbol == nullptr || ::dladdr(symbol, &where) == 0 || where.dli_fname == nullptr) {
    return "unavailable";
  }
  return std::filesystem::path(where.dli_fname).filename().string();
}

nlohmann::json throttling_json(const std::optional<ThrottleState>& state) {
  if (!state) return "unavailable";
  return {{"raw", fmt::format("{:#x}", state->raw)},
          {"now", state->now},
          {"since_boot", state->since_boot}};
}

}  // namespace

SystemInfo collect_system_info(const MachinePaths& paths) {
  const std::filesystem::path& proc_root = paths.proc;
  const std::filesystem::path& sysfs_root = paths.sys;
  SystemInfo info;
  read_cpuinfo(proc_root, info);
  read_meminfo(proc_root, info);
  if (std::string board = read_board(paths); !board.empty()) info.board = board;
  info.clusters = read_cpu_clusters(paths);
  if (info.cpu_model.empty()) info.cpu_model = describe_clusters(info.clusters);
  info.kernel_isa = CpuFeatures::host().best();
  utsname names{};
  if (::uname(&names) == 0) {
    info.kernel = fmt::format("{} {}", names.sysname, names.release);
    info.architecture = names.machine;
  }
  info.compiler = fmt::format("{} {}", "g++/clang", __VERSION__);
  const dnnl_version_t* version = dnnl_version();
  info.onednn_version = fmt::format("{}.{}.{}", version->major, version->minor, version->patch);
  info.protobuf_version = google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION);
  info.openmp_runtime = openmp_runtime_library();
  const FrequencyReading frequencies = read_frequencies(sysfs_root);
  info.governor = frequencies.governor;
  info.cur_mhz = frequencies.current_mhz;
  for (const ThermalReading& zone : read_thermal_zones(sysfs_root)) {
    info.thermal_zones.push_back(fmt::format("{}: {:.1f} C", zone.zone, zone.celsius));
  }
  info.energy_method = EnergyProbe(sysfs_root).method();
  read_power(paths, info);
  info.throttling = read_throttle_state(paths);
  return info;
}

nlohmann::json to_json(const SystemInfo& info) {
  return nlohmann::json{
      {"cpu_model", info.cpu_model},
      {"board", info.board.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.board)},
      {"cpu_clusters", clusters_json(info.clusters)},
      {"architecture", info.architecture},
      {"isa_extensions", info.isa_extensions},
      {"kernel_isa", info.kernel_isa},
      {"physical_cores", info.physical_cores},
      {"logical_cpus", info.logical_cpus},
      {"governor", info.governor.empty() ? "unavailable" : info.governor},
      {"cur_mhz", info.cur_mhz},
      {"memory_total_gib", info.memory_total_gib},
      {"memory_available_gib", info.memory_available_gib},
      {"kernel", info.kernel},
      {"compiler", info.compiler},
      {"onednn_version", info.onednn_version},
      {"protobuf_version", info.protobuf_version},
      {"openmp_runtime", info.openmp_runtime},
      {"thermal_zones", info.thermal_zones},
      {"energy_method", info.energy_method},
      {"power_method", info.power_method},
      {"power_coverage", info.power_coverage},
      {"power_rails", rails_json(info.power_rails)},
      {"throttling", throttling_json(info.throttling)},
      {"virtualized", info.virtualized},
      {"clock_ghz_measured",
       info.measured_ghz > 0 ? nlohmann::json(info.measured_ghz) : nlohmann::json(nullptr)}};
}

}  // namespace edgeperf::bench
