#include "edgeperf/sensors/mpu6050.h"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

namespace edgeperf::sensors {
namespace {

// A register file standing in for the chip; can fail the next N transfers with EIO.
struct FakeDevice {
  std::array<std::uint8_t, 256> registers{};
  std::vector<std::pair<std::uint8_t, std::uint8_t>> writes;
  std::vector<std::uint8_t> reads;  // first register of each read
  int fail_next = 0;
};

class FakeBus final : public I2cBus {
 public:
  explicit FakeBus(FakeDevice& device) : device_(device) {}
  void write_register(std::uint8_t reg, std::uint8_t value) override {
    maybe_fail();
    device_.writes.emplace_back(reg, value);
    device_.registers[reg] = value;
  }
  void read_registers(std::uint8_t first_reg, std::span<std::uint8_t> out) override {
    maybe_fail();
    device_.reads.push_back(first_reg);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = device_.registers[first_reg + i];
  }
  std::string describe() const override { return "fake@0x68"; }

 private:
  void maybe_fail() {
    if (device_.fail_next > 0) {
      --device_.fail_next;
      throw I2cError("fake: Input/output error", EIO);
    }
  }
  FakeDevice& device_;
};

struct Rig {
  FakeDevice device;
  std::vector<std::chrono::microseconds> backoffs;
  std::unique_ptr<Mpu6050Source> source;

  explicit Rig(Mpu6050Config config = {}) {
    device.registers[mpu6050_reg::kWhoAmI] = 0x68;
    source = std::make_unique<Mpu6050Source>(
        std::make_unique<FakeBus>(device), config,
        [this](std::chrono::microseconds pause) { backoffs.push_back(pause); });
  }
  void set_burst(const std::array<std::int16_t, 7>& words) {
    for (std::size_t i = 0; i < words.size(); ++i) {
      const auto word = static_cast<std::uint16_t>(words[i]);
      device.registers[mpu6050_reg::kAccelXoutH + 2 * i] = static_cast<std::uint8_t>(word >> 8);
      device.registers[mpu6050_reg::kAccelXoutH + 2 * i + 1] = static_cast<std::uint8_t>(word);
    }
  }
};

using Writes = std::vector<std::pair<std::uint8_t, std::uint8_t>>;

TEST(Mpu6050, StartWritesTheConfigurationRegistersInOrder) {
  Rig rig;  // defaults: accel ±4 g, gyro ±500 deg/s
  rig.source->start(100);
  const Writes expected = {{0x6B, 0x01}, {0x19, 9}, {0x1A, 3}, {0x1B, 0x08}, {0x1C, 0x08}};
  EXPECT_EQ(rig.device.writes, expected);
  EXPECT_EQ(rig.device.reads, std::vector<std::uint8_t>{0x75});  // WHO_AM_I check
}

TEST(Mpu6050, FullScaleRangesAndRateChooseRegisterValues) {
  Mpu6050Config config;
  config.accel_range_g = 16;
  config.gyro_range_dps = 2000;
  Rig rig(config);
  rig.source->start(1000);
  const Writes expected = {{0x6B, 0x01}, {0x19, 0}, {0x1A, 1}, {0x1B, 0x18}, {0x1C, 0x18}};
  EXPECT_EQ(rig.device.writes, expected);
  EXPECT_EQ(mpu6050_setup({2, 250}, 20).accel_config, 0x00);
  EXPECT_EQ(mpu6050_setup({2, 250}, 20).gyro_config, 0x00);
  EXPECT_EQ(mpu6050_setup({8, 1000}, 20).accel_config, 0x10);
  EXPECT_EQ(mpu6050_setup({8, 1000}, 20).gyro_config, 0x10);
  EXPECT_EQ(mpu6050_setup({8, 1000}, 20).smplrt_div, 49);
  EXPECT_EQ(mpu6050_setup({8, 1000}, 20).dlpf_cfg, 5);       // 10 Hz bandwidth under 10 Hz Nyquist
  EXPECT_EQ(mpu6050_setup({8, 1000}, 0.5).smplrt_div, 255);  // slowest the chip can go
}

TEST(Mpu6050, ConvertsKnownRawBytesWithDatasheetFormulas) {
  Rig rig;  // ±4 g: 8192 LSB/g; ±500 deg/s: 65.5 LSB/(deg/s)
  rig.source->start(100);
  rig.set_burst({8192, -4096, 16384, -521, 655, -131, -32768});
  const ImuSample sample = *rig.source->read();
  EXPECT_FLOAT_EQ(sample.accel_x, 9.80665f);
  EXPECT_FLOAT_EQ(sample.accel_y, -4.903325f);
  EXPECT_FLOAT_EQ(sample.accel_z, 19.6133f);
  EXPECT_FLOAT_EQ(sample.temp_c, static_cast<float>(-521 / 340.0 + 36.53));
  EXPECT_FLOAT_EQ(sample.gyro_x, 10.0f);
  EXPECT_FLOAT_EQ(sample.gyro_y, static_cast<float>(-131 / 65.5));
  EXPECT_FLOAT_EQ(sample.gyro_z, static_cast<float>(-32768 / 65.5));
  EXPECT_EQ(rig.device.reads.back(), 0x3B);  // burst from ACCEL_XOUT_H
}

TEST(Mpu6050, ConversionScalesForEveryRange) {
  const std::array<std::uint8_t, 14> raw = {0x40, 0x00, 0, 0, 0, 0, 0, 0, 0x00, 0x83, 0, 0, 0, 0};
  const std::array<std::pair<int, double>, 4> accel = {{{2, 1.0}, {4, 2.0}, {8, 4.0}, {16, 8.0}}};
  for (const auto& [range, g] : accel) {
    const ImuSample s = mpu6050_convert(raw, mpu6050_setup({range, 250}, 100));
    EXPECT_FLOAT_EQ(s.accel_x, static_cast<float>(g * 9.80665)) << range;  // 0x4000 = 16384
    EXPECT_FLOAT_EQ(s.gyro_x, 1.0f);                                       // 131 LSB at ±250
    EXPECT_FLOAT_EQ(s.temp_c, 36.53f);
  }
  const std::array<std::pair<int, double>, 4> gyro = {
      {{250, 131.0}, {500, 65.5}, {1000, 32.8}, {2000, 16.4}}};
  for (const auto& [range, lsb] : gyro) {
    EXPECT_DOUBLE_EQ(mpu6050_setup({2, range}, 100).gyro_lsb_per_dps, lsb);
  }
}

TEST(Mpu6050, EioIsRetriedWithExponentialBackoffAndCounted) {
  Rig rig;
  rig.source->start(100);
  rig.set_burst({0, 0, 8192, 0, 0, 0, 0});
  rig.device.fail_next = 3;
  const auto sample = rig.source->read();
  ASSERT_TRUE(sample.has_value());
  EXPECT_FLOAT_EQ(sample->accel_z, 9.80665f);
  EXPECT_EQ(rig.source->counters().i2c_errors, 3u);
  EXPECT_EQ(rig.source->counters().i2c_retries, 3u);
  EXPECT_EQ(rig.source->counters().failed_reads, 0u);
  using std::chrono::microseconds;
  EXPECT_EQ(rig.backoffs,
            (std::vector<microseconds>{microseconds(100), microseconds(200), microseconds(400)}));
}

TEST(Mpu6050, PersistentEioLosesTheSampleButLoggingContinues) {
  Rig rig;
  rig.source->start(100);
  rig.device.fail_next = 100;
  EXPECT_FALSE(rig.source->read().has_value());
  const SourceCounters counters = rig.source->counters();
  EXPECT_EQ(counters.i2c_errors, 5u);  // first attempt + 4 retries
  EXPECT_EQ(counters.i2c_retries, 4u);
  EXPECT_EQ(counters.failed_reads, 1u);
  for (auto pause : rig.backoffs) EXPECT_LE(pause, std::chrono::microseconds(2000));
  rig.device.fail_next = 0;
  EXPECT_TRUE(rig.source->read().has_value());
  EXPECT_EQ(rig.source->counters().failed_reads, 1u);
}

TEST(Mpu6050, BackoffIsCapped) {
  Mpu6050Config config;
  config.max_retries = 8;
  Rig rig(config);
  rig.source->start(100);
  rig.device.fail_next = 100;
  rig.source->read();
  ASSERT_EQ(rig.backoffs.size(), 8u);
  EXPECT_EQ(rig.backoffs.back(), std::chrono::microseconds(2000));
}

TEST(Mpu6050, StartFailsOnAForeignChipOrDeadBus) {
  Rig foreign;
  foreign.device.registers[mpu6050_reg::kWhoAmI] = 0x12;
  EXPECT_THROW(foreign.source->start(100), Error);
  Rig dead;
  dead.device.fail_next = 1000;
  try {
    dead.source->start(100);
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("0x6b"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace edgeperf::sensors
