#pragma once
// Power sensors on boards without RAPL: Jetson INA3221 rails (hwmon driver "ina3221" or
// L4T's older iio driver "ina3221x"), Raspberry Pi 5 PMIC rails (`vcgencmd
// pmic_read_adc`), and any hwmon power*_input. They report instantaneous watts;
// PowerSampler integrates them over a measurement into joules.
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "edgeperf/bench/probes.h"

namespace edgeperf::bench {

// Runs `program args...` and returns its standard output; nullopt when the program is
// missing, fails, or runs longer than `timeout`.
std::optional<std::string> run_program(const std::filesystem::path& program,
                                       const std::vector<std::string>& args,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(2));

struct PowerRail {
  std::string name;
  double watts = 0;
  bool in_total = true;  // counted in the total (false for a rail that is part of another)
};

// The sum of the rails counted in the total.
double total_watts(const std::vector<PowerRail>& rails);

// Rails of `vcgencmd pmic_read_adc`: each NAME_A current(i)=xA paired with NAME_V
// volt(j)=yV; rails with only a voltage (EXT5V_V, BATT_V) are left out.
std::vector<PowerRail> parse_pmic_adc(const std::string& text);

class PowerProbe {
 public:
  explicit PowerProbe(const MachinePaths& paths = {});
  bool available() const { return kind_ != Kind::kNone; }
  // "ina3221:VDD_IN,...", "pi5-pmic:VDD_CORE,...", "hwmon-power:hwmon0/power1_input" or
  // "unavailable".
  std::string method() const;
  // What the total covers, for reports ("module input rail VDD_IN", ...).
  std::string coverage() const;
  // One reading of every rail; nullopt when a sensor could not be read.
  std::optional<std::vector<PowerRail>> read_rails() const;
  std::optional<double> read_total_watts() const;
  // How often PowerSampler reads this probe: a sysfs read is cheap, a vcgencmd call is not.
  std::chrono::milliseconds sample_interval() const;

 private:
  enum class Kind { kNone, kIna3221Hwmon, kIna3221Iio, kHwmonPower, kPiPmic };
  struct Channel {
    std::string name;
    std::filesystem::path power;                  // microwatts (hwmon) or milliwatts (iio)
    std::filesystem::path millivolts, milliamps;  // hwmon ina3221: power = V * I
  };
  void find_ina3221_hwmon(const std::filesystem::path& sys);
  void find_ina3221_iio(const std::filesystem::path& sys);
  void find_hwmon_power(const std::filesystem::path& sys);
  std::optional<double> read_channel_watts(const Channel& channel) const;
  void mark_total(std::vector<PowerRail>& rails) const;

  Kind kind_ = Kind::kNone;
  std::vector<Channel> channels_;
  std::filesystem::path vcgencmd_;
  std::vector<std::string> pmic_rails_;  // the names the first reading found
};

struct SampledEnergy {
  double joules = 0;
  double seconds = 0;
  std::size_t samples = 0;
  double mean_watts() const { return seconds > 0 ? joules / seconds : 0; }
};

// Reads a PowerProbe on its own thread from start() to stop() and integrates the total
// power over time (trapezoids between samples, one sample at each end).
class PowerSampler {
 public:
  explicit PowerSampler(const PowerProbe& probe);
  PowerSampler(const PowerProbe& probe, std::chrono::milliseconds interval);
  ~PowerSampler();
  PowerSampler(const PowerSampler&) = delete;
  PowerSampler& operator=(const PowerSampler&) = delete;
  // Energy since construction; nullopt when fewer than three readings succeeded (the run
  // was shorter than the sampling interval, or the sensor stopped answering).
  std::optional<SampledEnergy> stop();

 private:
  void sample();
  void loop();

  const PowerProbe& probe_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<std::pair<double, double>> readings_;  // (seconds since start, watts)
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

}  // namespace edgeperf::bench
