#include "edgeperf/bench/probes.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <regex>

#include "sysfs_read.h"

namespace edgeperf::bench {
namespace fs = std::filesystem;
using sysfs::read_line;
using sysfs::read_number;
using sysfs::sorted_entries;

MachinePaths MachinePaths::under(const fs::path& root) {
  return MachinePaths{root / "proc", root / "sys", root / "usr/bin/vcgencmd"};
}

EnergyProbe::EnergyProbe(fs::path sysfs_root) {
  // Package-level RAPL domains are intel-rapl:N (sub-domains intel-rapl:N:M are inside them).
  for (const fs::path& domain :
       sorted_entries(sysfs_root / "class/powercap", std::regex(R"(intel-rapl:\d+)"))) {
    if (!read_number(domain / "energy_uj")) continue;  // unreadable (permissions): skip
    counters_.push_back(Counter{domain / "energy_uj",
                                read_number(domain / "max_energy_range_uj").value_or(0),
                                read_line(domain / "name").value_or(domain.filename().string())});
  }
  if (!counters_.empty()) {
    kind_ = "rapl";
    return;
  }
  for (const fs::path& hwmon :
       sorted_entries(sysfs_root / "class/hwmon", std::regex(R"(hwmon\d+)"))) {
    for (const fs::path& input : sorted_entries(hwmon, std::regex(R"(energy\d+_input)"))) {
      if (!read_number(input)) continue;
      counters_.push_back(
          Counter{input, 0, hwmon.filename().string() + "/" + input.filename().string()});
    }
  }
  if (!counters_.empty()) kind_ = "hwmon";
}

std::string EnergyProbe::method() const {
  if (counters_.empty()) return "unavailable";
  std::string names;
  for (const Counter& counter : counters_) names += (names.empty() ? "" : ",") + counter.name;
  return kind_ + ":" + names;
}

std::optional<double> EnergyProbe::read_microjoules() const {
  if (counters_.empty()) return std::nullopt;
  double total = 0;
  for (const Counter& counter : counters_) {
    const auto value = read_number(counter.energy_file);
    if (!value) return std::nullopt;
    total += *value;
  }
  return total;
}

double EnergyProbe::delta_microjoules(double before, double after) const {
  if (after >= before) return after - before;
  // One wrap of the (summed) counter range.
  double range = 0;
  for (const Counter& counter : counters_) range += counter.max_range_uj;
  return range > 0 ? after + range - before : 0;
}

std::vector<ThermalReading> read_thermal_zones(const fs::path& sysfs_root) {
  std::vector<ThermalReading> readings;
  for (const fs::path& zone :
       sorted_entries(sysfs_root / "class/thermal", std::regex(R"(thermal_zone\d+)"))) {
    const auto millidegrees = read_number(zone / "temp");
    if (!millidegrees) continue;
    readings.push_back(ThermalReading{read_line(zone / "type").value_or(zone.filename().string()),
                                      *millidegrees / 1000.0});
  }
  return readings;
}

std::optional<double> max_temperature(const std::vector<ThermalReading>& readings) {
  if (readings.empty()) return std::nullopt;
  return std::max_element(readings.begin(), readings.end(),
                          [](const auto& a, const auto& b) { return a.celsius < b.celsius; })
      ->celsius;
}

FrequencyReading read_frequencies(const fs::path& sysfs_root) {
  FrequencyReading reading;
  std::int64_t throttles = 0;
  bool any_throttle_counter = false;
  for (const fs::path& cpu :
       sorted_entries(sysfs_root / "devices/system/cpu", std::regex(R"(cpu\d+)"))) {
    if (const auto khz = read_number(cpu / "cpufreq/scaling_cur_freq")) {
      reading.current_mhz.push_back(*khz / 1000.0);
    }
    if (reading.governor.empty()) {
      reading.governor = read_line(cpu / "cpufreq/scaling_governor").value_or("");
    }
    if (const auto count = read_number(cpu / "thermal_throttle/core_throttle_count")) {
      throttles += static_cast<std::int64_t>(*count);
      any_throttle_counter = true;
    }
  }
  if (any_throttle_counter) reading.throttle_count = throttles;
  return reading;
}

bool throttled_between(const FrequencyReading& before, const FrequencyReading& after) {
  if (before.throttle_count && after.throttle_count &&
      *after.throttle_count > *before.throttle_count) {
    return true;
  }
  if (before.current_mhz.empty() || after.current_mhz.empty()) return false;
  const auto mean = [](const std::vector<double>& values) {
    return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  };
  return mean(after.current_mhz) < 0.95 * mean(before.current_mhz);
}

namespace sysfs {

std::optional<std::string> read_line(const fs::path& file) {
  std::ifstream stream(file);
  std::string line;
  if (!stream || !std::getline(stream, line)) return std::nullopt;
  return line;
}

std::optional<double> read_number(const fs::path& file) {
  const auto line = read_line(file);
  if (!line) return std::nullopt;
  try {
    return std::stod(*line);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<fs::path> sorted_entries(const fs::path& directory, const std::regex& pattern) {
  std::vector<fs::path> entries;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (std::regex_match(entry.path().filename().string(), pattern))
      entries.push_back(entry.path());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

}  // namespace sysfs

}  // namespace edgeperf::bench
