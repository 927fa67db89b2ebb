#include <gtest/gtest.h>

#include <fstream>

#include "edgeperf/bench/probes.h"

namespace edgeperf::bench {
namespace {
namespace fs = std::filesystem;

class FakeSysfs : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("edgeperf-sysfs-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& relative, const std::string& text) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text << "\n";
  }
  fs::path root_;
};

TEST_F(FakeSysfs, NoCountersMeansUnavailable) {
  EnergyProbe probe(root_);
  EXPECT_FALSE(probe.available());
  EXPECT_EQ(probe.method(), "unavailable");
  EXPECT_FALSE(probe.read_microjoules().has_value());
  EXPECT_TRUE(read_thermal_zones(root_).empty());
  EXPECT_FALSE(max_temperature(read_thermal_zones(root_)).has_value());
}

TEST_F(FakeSysfs, RaplPackagesAreSummedAndWrapsHandled) {
  write("class/powercap/intel-rapl:0/energy_uj", "1000");
  write("class/powercap/intel-rapl:0/max_energy_range_uj", "5000");
  write("class/powercap/intel-rapl:0/name", "package-0");
  write("class/powercap/intel-rapl:0:0/energy_uj", "999999");  // sub-domain: not counted
  write("class/powercap/intel-rapl:1/energy_uj", "250");
  write("class/powercap/intel-rapl:1/max_energy_range_uj", "5000");
  EnergyProbe probe(root_);
  ASSERT_TRUE(probe.available());
  EXPECT_EQ(probe.method(), "rapl:package-0,intel-rapl:1");
  EXPECT_DOUBLE_EQ(*probe.read_microjoules(), 1250);
  EXPECT_DOUBLE_EQ(probe.delta_microjoules(9000, 500), 500 + 10000 - 9000);
}

TEST_F(FakeSysfs, HwmonEnergyIsUsedWithoutRapl) {
  write("class/hwmon/hwmon0/energy1_input", "42");
  EnergyProbe probe(root_);
  EXPECT_EQ(probe.method(), "hwmon:hwmon0/energy1_input");
  EXPECT_DOUBLE_EQ(*probe.read_microjoules(), 42);
}

TEST_F(FakeSysfs, ThermalAndFrequency) {
  write("class/thermal/thermal_zone0/temp", "45500");
  write("class/thermal/thermal_zone0/type", "cpu-thermal");
  write("class/thermal/thermal_zone1/temp", "51000");
  EXPECT_DOUBLE_EQ(*max_temperature(read_thermal_zones(root_)), 51.0);
  write("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1500000");
  write("devices/system/cpu/cpu0/cpufreq/scaling_governor", "ondemand");
  const FrequencyReading before = read_frequencies(root_);
  EXPECT_EQ(before.governor, "ondemand");
  ASSERT_EQ(before.current_mhz.size(), 1u);
  EXPECT_DOUBLE_EQ(before.current_mhz[0], 1500);
  write("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1000000");
  EXPECT_TRUE(throttled_between(before, read_frequencies(root_)));
  EXPECT_FALSE(throttled_between(before, before));
}

}  // namespace
}  // namespace edgeperf::bench
