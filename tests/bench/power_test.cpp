#include "edgeperf/bench/power.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "edgeperf/bench/model_bench.h"
#include "edgeperf/bench/sysinfo.h"

namespace edgeperf::bench {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// `vcgencmd pmic_read_adc` as a Raspberry Pi 5 prints it (values made up for the test).
constexpr const char* kPmicOutput =
    " 3V7_WL_SW_A current(0)=0.10000000A\n"
    "   3V3_SYS_A current(1)=0.05000000A\n"
    "  VDD_CORE_A current(7)=2.00000000A\n"
    " 3V7_WL_SW_V volt(8)=3.70000000V\n"
    "   3V3_SYS_V volt(9)=3.30000000V\n"
    "  VDD_CORE_V volt(15)=0.80000000V\n"
    "     EXT5V_V volt(24)=5.10000000V\n"
    "      BATT_V volt(25)=0.00000000V\n";

class FakeBoard : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("edgeperf-board-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& relative, const std::string& text) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text << "\n";
  }
  // A vcgencmd that answers pmic_read_adc and get_throttled from files in the tree.
  void write_vcgencmd(const std::string& pmic, const std::string& throttled) {
    write("pmic.txt", pmic);
    write("throttled.txt", throttled);
    write("usr/bin/vcgencmd", "#!/bin/sh\ncase \"$1\" in\n  pmic_read_adc) cat '" +
                                  (root_ / "pmic.txt").string() + "' ;;\n  get_throttled) cat '" +
                                  (root_ / "throttled.txt").string() +
                                  "' ;;\n  *) echo 'error=2'; exit 1 ;;\nesac");
    fs::permissions(root_ / "usr/bin/vcgencmd", fs::perms::owner_all);
  }
  MachinePaths paths() const { return MachinePaths::under(root_); }
  fs::path root_;
};

TEST(PmicAdc, PairsCurrentsWithVoltagesByRailName) {
  const std::vector<PowerRail> rails = parse_pmic_adc(kPmicOutput);
  ASSERT_EQ(rails.size(), 3u);  // EXT5V and BATT have no current: left out
  EXPECT_EQ(rails[0].name, "3V7_WL_SW");
  EXPECT_NEAR(rails[0].watts, 0.37, 1e-12);
  EXPECT_EQ(rails[2].name, "VDD_CORE");
  EXPECT_NEAR(rails[2].watts, 1.6, 1e-12);
  EXPECT_TRUE(parse_pmic_adc("error=2 error_msg=\"Invalid arguments\"\n").empty());
  EXPECT_TRUE(parse_pmic_adc("").empty());
}

TEST(Throttled, DecodesCurrentAndSinceBootBits) {
  const auto state = parse_throttled("throttled=0x50005\n");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->raw, 0x50005u);
  EXPECT_EQ(state->now, (std::vector<std::string>{"under-voltage", "throttled"}));
  EXPECT_EQ(state->since_boot, (std::vector<std::string>{"under-voltage", "throttled"}));
  EXPECT_TRUE(parse_throttled("throttled=0x0")->now.empty());
  EXPECT_FALSE(parse_throttled("error=1").has_value());
}

TEST(ArmCores, NamesKnownPartsAndSaysWhenItDoesNot) {
  EXPECT_EQ(arm_core_name(0x41, 0xd08), "Cortex-A72");
  EXPECT_EQ(arm_core_name(0x41, 0xd0b), "Cortex-A76");
  EXPECT_EQ(arm_core_name(0x41, 0xd42), "Cortex-A78AE");
  EXPECT_EQ(arm_core_name(0x41, 0xfff), "implementer 0x41 part 0xfff");
}

TEST_F(FakeBoard, NoSensorMeansUnavailable) {
  const PowerProbe probe(paths());
  EXPECT_FALSE(probe.available());
  EXPECT_EQ(probe.method(), "unavailable");
  EXPECT_FALSE(probe.read_total_watts().has_value());
}

TEST_F(FakeBoard, JetsonIna3221HwmonTotalIsTheInputRail) {
  write("sys/class/hwmon/hwmon0/name", "cpu_thermal");
  const std::string ina = "sys/class/hwmon/hwmon3/";
  write(ina + "name", "ina3221");
  write(ina + "in1_label", "VDD_IN");
  write(ina + "in1_input", "5000");    // mV
  write(ina + "curr1_input", "1200");  // mA
  write(ina + "in2_label", "VDD_CPU_GPU_CV");
  write(ina + "in2_input", "5000");
  write(ina + "curr2_input", "400");
  write(ina + "in3_label", "VDD_SOC");
  write(ina + "in3_input", "5000");
  write(ina + "curr3_input", "300");
  const PowerProbe probe(paths());
  EXPECT_EQ(probe.method(), "ina3221:VDD_IN,VDD_CPU_GPU_CV,VDD_SOC");
  const auto rails = probe.read_rails();
  ASSERT_TRUE(rails.has_value());
  ASSERT_EQ(rails->size(), 3u);
  EXPECT_NEAR((*rails)[1].watts, 2.0, 1e-12);
  EXPECT_TRUE((*rails)[0].in_total);
  EXPECT_FALSE((*rails)[1].in_total);  // a branch of VDD_IN: not counted twice
  EXPECT_NEAR(*probe.read_total_watts(), 6.0, 1e-12);
}

TEST_F(FakeBoard, OlderJetsonIioRailsAreMilliwatts) {
  const std::string iio = "sys/bus/iio/devices/iio:device0/";
  write(iio + "name", "ina3221x");
  write(iio + "rail_name_0", "POM_5V_IN");
  write(iio + "in_power0_input", "3500");
  write(iio + "rail_name_1", "POM_5V_GPU");
  write(iio + "in_power1_input", "500");
  const PowerProbe probe(paths());
  EXPECT_EQ(probe.method(), "ina3221:POM_5V_IN,POM_5V_GPU");
  EXPECT_NEAR(*probe.read_total_watts(), 3.5, 1e-12);
}

TEST_F(FakeBoard, Pi5PmicRailsAreSummed) {
  write_vcgencmd(kPmicOutput, "throttled=0x0");
  const PowerProbe probe(paths());
  EXPECT_EQ(probe.method(), "pi5-pmic:3V7_WL_SW,3V3_SYS,VDD_CORE");
  EXPECT_NEAR(*probe.read_total_watts(), 0.37 + 0.165 + 1.6, 1e-9);
}

TEST_F(FakeBoard, Pi4WithoutPmicHasNoPowerSensor) {
  write_vcgencmd("error=2 error_msg=\"Invalid arguments\"", "throttled=0x0");
  EXPECT_FALSE(PowerProbe(paths()).available());
}

TEST_F(FakeBoard, HwmonPowerInputsAreMicrowatts) {
  write("sys/class/hwmon/hwmon1/name", "acpi_power_meter");
  write("sys/class/hwmon/hwmon1/power1_input", "7500000");
  const PowerProbe probe(paths());
  EXPECT_EQ(probe.method(), "hwmon-power:acpi_power_meter/power1");
  EXPECT_NEAR(*probe.read_total_watts(), 7.5, 1e-12);
}

TEST_F(FakeBoard, SamplerIntegratesPowerOverTime) {
  write("sys/class/hwmon/hwmon1/power1_input", "2000000");  // 2 W
  const PowerProbe probe(paths());
  PowerSampler sampler(probe, 5ms);
  std::this_thread::sleep_for(100ms);
  write("sys/class/hwmon/hwmon1/power1_input", "8000000");  // 8 W
  std::this_thread::sleep_for(100ms);
  const auto energy = sampler.stop();
  ASSERT_TRUE(energy.has_value());
  EXPECT_GE(energy->samples, 3u);
  EXPECT_GE(energy->seconds, 0.2);
  // Between all of it at 2 W and all of it at 8 W, and near the 50/50 split.
  EXPECT_GT(energy->mean_watts(), 2.0);
  EXPECT_LT(energy->mean_watts(), 8.0);
  EXPECT_FALSE(sampler.stop().has_value());  // stopping twice gives nothing more
}

TEST_F(FakeBoard, SamplerNeedsThreeReadings) {
  write("sys/class/hwmon/hwmon1/power1_input", "2000000");
  const PowerProbe probe(paths());
  PowerSampler sampler(probe, std::chrono::hours(1));
  EXPECT_FALSE(sampler.stop().has_value());  // one reading at each end only
}

TEST_F(FakeBoard, ProgramThatHangsIsKilled) {
  write("usr/bin/vcgencmd", "#!/bin/sh\nsleep 30\n");
  fs::permissions(root_ / "usr/bin/vcgencmd", fs::perms::owner_all);
  EXPECT_FALSE(run_program(paths().vcgencmd, {"get_throttled"}, 200ms).has_value());
  EXPECT_FALSE(run_program(root_ / "missing", {}).has_value());
}

TEST_F(FakeBoard, Pi5SysinfoShowsCoresRailsAndThrottling) {
  std::string cpuinfo;
  for (int cpu = 0; cpu < 4; ++cpu) {
    cpuinfo += "processor\t: " + std::to_string(cpu) +
               "\nFeatures\t: fp asimd evtstrm crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc "
               "dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: "
               "0x4\nCPU part\t: 0xd0b\nCPU revision\t: 1\n\n";
    write("sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/cpuinfo_max_freq",
          "2400000");
  }
  write("proc/cpuinfo", cpuinfo + "Revision\t: d04170\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0");
  write("proc/meminfo", "MemTotal:       8245000 kB\nMemAvailable:   7000000 kB");
  write_vcgencmd(kPmicOutput, "throttled=0x80000");
  const SystemInfo info = collect_system_info(paths());
  EXPECT_EQ(info.board, "Raspberry Pi 5 Model B Rev 1.0");
  EXPECT_EQ(info.cpu_model, "4x Cortex-A76");
  ASSERT_EQ(info.clusters.size(), 1u);
  EXPECT_EQ(info.clusters[0].cpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_DOUBLE_EQ(info.clusters[0].max_mhz, 2400);
  EXPECT_EQ(info.isa_extensions, (std::vector<std::string>{"asimd", "fphp", "asimddp"}));
  EXPECT_EQ(info.power_rails.size(), 3u);
  EXPECT_EQ(info.power_method.rfind("pi5-pmic:", 0), 0u);
  ASSERT_TRUE(info.throttling.has_value());
  EXPECT_EQ(info.throttling->since_boot, (std::vector<std::string>{"soft temperature limit"}));
  const nlohmann::json json = to_json(info);
  EXPECT_EQ(json["power_rails"][2]["name"], "VDD_CORE");
  EXPECT_EQ(json["throttling"]["raw"], "0x80000");
  EXPECT_EQ(json["cpu_clusters"][0]["core"], "Cortex-A76");
}

TEST_F(FakeBoard, BigLittleCoresFormClusters) {
  std::string cpuinfo;
  const auto add = [&](int cpu, const char* part) {
    cpuinfo += "processor\t: " + std::to_string(cpu) +
               "\nCPU implementer\t: 0x41\nCPU part\t: " + part + "\n\n";
  };
  add(0, "0xd05");
  add(1, "0xd05");
  add(2, "0xd0b");
  add(3, "0xd05");
  write("proc/cpuinfo", cpuinfo);
  const std::vector<CpuCluster> clusters = read_cpu_clusters(paths());
  ASSERT_EQ(clusters.size(), 2u);
  EXPECT_EQ(clusters[0].core, "Cortex-A55");
  EXPECT_EQ(clusters[0].cpus, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(clusters[1].core, "Cortex-A76");
  EXPECT_DOUBLE_EQ(clusters[1].max_mhz, 0);  // no cpufreq in this tree
}

// Energy per inference from a power sensor covers the timed runs only, at the sensor's
// mean power: a constant 5 W sensor gives 5 W x wall time / inferences.
TEST_F(FakeBoard, BenchIntegratesSampledPowerOverTheTimedRuns) {
  write("sys/class/hwmon/hwmon2/name", "fake_meter");
  write("sys/class/hwmon/hwmon2/power1_input", "5000000");
  ModelBenchOptions options;
  options.machine = paths();
  options.run.runs = 20;
  options.run.min_seconds = 0.3;
  options.run.warmup_runs = 2;
  const ModelResult result =
      bench_model(fs::path(EP_SOURCE_DIR) / "models/fixtures/digits_cnn.onnx", options);
  EXPECT_EQ(result.energy.method, "hwmon-power:fake_meter/power1");
  ASSERT_TRUE(result.energy.mean_watts.has_value());
  EXPECT_NEAR(*result.energy.mean_watts, 5.0, 1e-9);
  ASSERT_TRUE(result.energy.joules_per_inference.has_value());
  const Measurement& timed = result.batches.front().measurement;
  const double expected = 5.0 * timed.wall_seconds / static_cast<double>(timed.latencies_ms.size());
  EXPECT_NEAR(*result.energy.joules_per_inference, expected, 0.1 * expected);
  EXPECT_NE(result.energy.note.find("readings"), std::string::npos);
}

// The Pi firmware's flags mark a run throttled when a condition is first seen during it;
// one seen since boot before the run does not.
TEST_F(FakeBoard, BenchMarksThrottlingTheFirmwareSawDuringTheRun) {
  write("calls", "");
  // get_throttled answers `before` on its first call and `after` from then on.
  const auto fake_vcgencmd = [&](const std::string& before, const std::string& after) {
    write("usr/bin/vcgencmd",
          "#!/bin/sh\n[ \"$1\" = get_throttled ] || exit 1\n"
          "if [ -s '" +
              (root_ / "calls").string() + "' ]; then echo throttled=" + after +
              "; else echo x > '" + (root_ / "calls").string() + "'; echo throttled=" + before +
              "; fi");
    fs::permissions(root_ / "usr/bin/vcgencmd", fs::perms::owner_all);
    fs::resize_file(root_ / "calls", 0);
  };
  ModelBenchOptions options;
  options.machine = paths();
  options.run.runs = 5;
  options.run.warmup_runs = 1;
  const fs::path model = fs::path(EP_SOURCE_DIR) / "models/fixtures/digits_mlp.onnx";
  fake_vcgencmd("0x0", "0x40000");
  EXPECT_TRUE(bench_model(model, options).throttled);
  fake_vcgencmd("0x40000", "0x40000");
  EXPECT_FALSE(bench_model(model, options).throttled);
  fake_vcgencmd("0x0", "0x4");  // throttled now
  EXPECT_TRUE(bench_model(model, options).throttled);
}

}  // namespace
}  // namespace edgeperf::bench
