// What a single-board computer adds to sysinfo: ARM core types and clusters, and the
// Raspberry Pi firmware's throttling flags.
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <regex>

#include "edgeperf/bench/sysinfo.h"

namespace edgeperf::bench {
namespace {

struct CoreName {
  unsigned implementer, part;
  const char* name;
};
// MIDR_EL1 implementer and part numbers, from Arm's and NVIDIA's technical reference
// manuals: the cores of Raspberry Pi, Jetson and common arm64 servers.
constexpr CoreName kCoreNames[] = {
    {0x41, 0xd03, "Cortex-A53"},   {0x41, 0xd04, "Cortex-A35"},  {0x41, 0xd05, "Cortex-A55"},
    {0x41, 0xd07, "Cortex-A57"},   {0x41, 0xd08, "Cortex-A72"},  {0x41, 0xd09, "Cortex-A73"},
    {0x41, 0xd0a, "Cortex-A75"},   {0x41, 0xd0b, "Cortex-A76"},  {0x41, 0xd0c, "Neoverse-N1"},
    {0x41, 0xd0d, "Cortex-A77"},   {0x41, 0xd40, "Neoverse-V1"}, {0x41, 0xd41, "Cortex-A78"},
    {0x41, 0xd42, "Cortex-A78AE"}, {0x41, 0xd44, "Cortex-X1"},   {0x41, 0xd46, "Cortex-A510"},
    {0x41, 0xd47, "Cortex-A710"},  {0x41, 0xd48, "Cortex-X2"},   {0x41, 0xd49, "Neoverse-N2"},
    {0x41, 0xd4b, "Cortex-A78C"},  {0x41, 0xd4d, "Cortex-A715"}, {0x41, 0xd4e, "Cortex-X3"},
    {0x41, 0xd4f, "Neoverse-V2"},  {0x41, 0xd80, "Cortex-A520"}, {0x41, 0xd81, "Cortex-A720"},
    {0x41, 0xd82, "Cortex-X4"},    {0x4e, 0x003, "Denver 2"},    {0x4e, 0x004, "Carmel"},
};

struct ThrottleBit {
  unsigned bit;
  const char* condition;
};
constexpr ThrottleBit kThrottleBits[] = {{0, "under-voltage"},
                                         {1, "arm frequency capped"},
                                         {2, "throttled"},
                                         {3, "soft temperature limit"}};
constexpr unsigned kSinceBootShift = 16;

std::optional<unsigned> hex_field(const std::string& line) {
  const auto colon = line.find(':');
  if (colon == std::string::npos) return std::nullopt;
  try {
    return static_cast<unsigned>(std::stoul(line.substr(colon + 1), nullptr, 0));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

double max_mhz_of(const MachinePaths& paths, int cpu) {
  std::ifstream file(paths.sys /
                     fmt::format("devices/system/cpu/cpu{}/cpufreq/cpuinfo_max_freq", cpu));
  double khz = 0;
  return file >> khz ? khz / 1000.0 : 0.0;
}

}  // namespace

std::string arm_core_name(unsigned implementer, unsigned part) {
  for (const CoreName& core : kCoreNames) {
    if (core.implementer == implementer && core.part == part) return core.name;
  }
  return fmt::format("implementer {:#04x} part {:#05x}", implementer, part);
}

std::vector<CpuCluster> read_cpu_clusters(const MachinePaths& paths) {
  std::ifstream cpuinfo(paths.proc / "cpuinfo");
  std::vector<CpuCluster> clusters;
  std::map<std::pair<unsigned, unsigned>, std::size_t> by_part;
  int cpu = -1;
  // -1: this processor's block has no implementer line (yet).
  std::int64_t implementer = -1;
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("processor", 0) == 0) {
      cpu = static_cast<int>(hex_field(line).value_or(0));
      implementer = -1;
    } else if (line.rfind("CPU implementer", 0) == 0) {
      const auto value = hex_field(line);
      implementer = value ? std::int64_t{*value} : -1;
    } else if (line.rfind("CPU part", 0) == 0 && implementer >= 0 && cpu >= 0) {
      const auto part = hex_field(line);
      if (!part) continue;
      const auto key = std::make_pair(static_cast<unsigned>(implementer), *part);
      auto found = by_part.find(key);
      if (found == by_part.end()) {
        found = by_part.emplace(key, clusters.size()).first;
        clusters.push_back(CpuCluster{arm_core_name(key.first, *part),
                                      fmt::format("{:#04x}:{:#05x}", key.first, *part),
                                      {},
                                      0});
      }
      CpuCluster& cluster = clusters[found->second];
      cluster.cpus.push_back(cpu);
      cluster.max_mhz = std::max(cluster.max_mhz, max_mhz_of(paths, cpu));
    }
  }
  return clusters;
}

std::optional<ThrottleState> parse_throttled(const std::string& vcgencmd_output) {
  static const std::regex kValue(R"(throttled=(0x[0-9a-fA-F]+|\d+))");
  std::smatch match;
  if (!std::regex_search(vcgencmd_output, match, kValue)) return std::nullopt;
  ThrottleState state;
  try {
    state.raw = static_cast<std::uint32_t>(std::stoul(match[1], nullptr, 0));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  for (const ThrottleBit& bit : kThrottleBits) {
    if (state.raw & (1u << bit.bit)) state.now.emplace_back(bit.condition);
    if (state.raw & (1u << (bit.bit + kSinceBootShift)))
      state.since_boot.emplace_back(bit.condition);
  }
  return state;
}

std::optional<ThrottleState> read_throttle_state(const MachinePaths& paths) {
  const auto output = run_program(paths.vcgencmd, {"get_throttled"});
  return output ? parse_throttled(*output) : std::nullopt;
}

}  // namespace edgeperf::bench
