#pragma once
// Probes of the machine: energy counters, temperatures, CPU frequency. Each reads
// Linux sysfs under a root directory (injectable for tests) and says plainly when a
// quantity cannot be measured here.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgeperf::bench {

// Where a machine's facts are read from: / on a real machine, a fake tree in tests (or a
// tree captured from a board).
struct MachinePaths {
  std::filesystem::path proc = "/proc";
  std::filesystem::path sys = "/sys";
  std::filesystem::path vcgencmd = "/usr/bin/vcgencmd";  // Raspberry Pi firmware tool
  // root/proc, root/sys and root/usr/bin/vcgencmd.
  static MachinePaths under(const std::filesystem::path& root);
};

// Cumulative energy counters: powercap RAPL (intel-rapl, also used by AMD) or hwmon
// energy*_input. Wrap-around is handled with max_energy_range_uj.
class EnergyProbe {
 public:
  explicit EnergyProbe(std::filesystem::path sysfs_root = "/sys");
  bool available() const { return !counters_.empty(); }
  std::string method() const;  // "rapl:<names>", "hwmon:<names>" or "unavailable"
  // Microjoules summed over the package-level counters; nullopt when unavailable.
  std::optional<double> read_microjoules() const;
  // Energy between two readings, with counter wrap-around handled.
  double delta_microjoules(double before, double after) const;

 private:
  struct Counter {
    std::filesystem::path energy_file;
    double max_range_uj = 0;
    std::string name;
  };
  std::vector<Counter> counters_;
  std::string kind_;
};

struct ThermalReading {
  std::string zone;
  double celsius = 0;
};
std::vector<ThermalReading> read_thermal_zones(const std::filesystem::path& sysfs_root = "/sys");
// Highest temperature across zones; nullopt when the machine exposes none.
std::optional<double> max_temperature(const std::vector<ThermalReading>& readings);

struct FrequencyReading {
  std::vector<double> current_mhz;             // per CPU, empty when cpufreq is absent
  std::string governor;                        // "" when unknown
  std::optional<std::int64_t> throttle_count;  // summed thermal_throttle counters if present
};
FrequencyReading read_frequencies(const std::filesystem::path& sysfs_root = "/sys");

// Throttling or frequency change between two readings (a drop of more than 5% in the
// mean current frequency, or a throttle counter that moved).
bool throttled_between(const FrequencyReading& before, const FrequencyReading& after);

}  // namespace edgeperf::bench
