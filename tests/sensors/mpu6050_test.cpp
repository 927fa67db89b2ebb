#include "edgeperf/sensors/mpu6050.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "edgeperf/columnar/parquet.h"
#include "edgeperf/sensors/logger.h"

namespace edgeperf::sensors {
namespace {

namespace reg = mpu6050_reg;
using Words = std::array<std::int16_t, 7>;  // ax, ay, az, temp, gx, gy, gz

std::array<std::uint8_t, 14> record_bytes(const Words& words) {
  std::array<std::uint8_t, 14> bytes{};
  for (std::size_t i = 0; i < words.size(); ++i) {
    const auto word = static_cast<std::uint16_t>(words[i]);
    bytes[2 * i] = static_cast<std::uint8_t>(word >> 8);
    bytes[2 * i + 1] = static_cast<std::uint8_t>(word);
  }
  return bytes;
}

// A register file standing in for the chip, with its 1024-byte FIFO: records are
// pushed while USER_CTRL.FIFO_EN and FIFO_EN select accel, temp and gyro; pushing
// into a full FIFO drops the oldest byte and sets INT_STATUS.FIFO_OFLOW_INT, which
// a read of INT_STATUS clears; USER_CTRL.FIFO_RESET written with FIFO_EN clear
// empties it; FIFO_COUNTH/L give its size; FIFO_R_W pops bytes and, when empty,
// repeats the last byte. It can fail the next N transfers (all, or only those to
// one register) with EIO, optionally after popping some FIFO bytes.
struct FakeDevice {
  std::array<std::uint8_t, 256> registers{};
  std::vector<std::pair<std::uint8_t, std::uint8_t>> writes;
  std::vector<std::uint8_t> reads;  // first register of each read
  int fail_next = 0;
  std::optional<std::uint8_t> fail_only_register;
  std::size_t pop_before_failing = 0;
  std::deque<std::uint8_t> fifo;
  std::uint8_t last_fifo_byte = 0;
  std::vector<std::size_t> fifo_read_sizes;          // bytes asked for by each FIFO_R_W read
  std::function<void(FakeDevice&)> before_transfer;  // e.g. a sample clock filling the FIFO

  bool fifo_enabled() const {
    return (registers[reg::kUserCtrl] & reg::kUserCtrlFifoEn) != 0 &&
           registers[reg::kFifoEn] == reg::kFifoEnAccelTempGyro;
  }
  void push_bytes(std::span<const std::uint8_t> bytes) {
    if (!fifo_enabled()) return;
    for (std::uint8_t byte : bytes) {
      if (fifo.size() == kMpu6050FifoBytes) {
        fifo.pop_front();
        registers[reg::kIntStatus] |= reg::kIntFifoOverflow;
      }
      fifo.push_back(byte);
    }
  }
  void push_record(const Words& words) { push_bytes(record_bytes(words)); }
  std::uint8_t pop_fifo() {
    if (!fifo.empty()) {
      last_fifo_byte = fifo.front();
      fifo.pop_front();
    }
    return last_fifo_byte;
  }
  std::uint8_t register_value(std::size_t address) const {
    if (address == reg::kFifoCountH) return static_cast<std::uint8_t>(fifo.size() >> 8);
    if (address == reg::kFifoCountH + 1) return static_cast<std::uint8_t>(fifo.size());
    return registers[address % registers.size()];
  }
};

class FakeBus final : public I2cBus {
 public:
  explicit FakeBus(FakeDevice& device) : device_(device) {}
  void write_register(std::uint8_t address, std::uint8_t value) override {
    before(address);
    device_.writes.emplace_back(address, value);
    device_.registers[address] = value;
    if (address == reg::kUserCtrl && (value & reg::kUserCtrlFifoReset) != 0) {
      if ((value & reg::kUserCtrlFifoEn) == 0) device_.fifo.clear();
      device_.registers[address] &= static_cast<std::uint8_t>(~reg::kUserCtrlFifoReset);
    }
  }
  void read_registers(std::uint8_t first_reg, std::span<std::uint8_t> out) override {
    before(first_reg);
    device_.reads.push_back(first_reg);
    if (first_reg == reg::kFifoRw) {
      device_.fifo_read_sizes.push_back(out.size());
      for (std::uint8_t& byte : out) byte = device_.pop_fifo();
      return;
    }
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = device_.register_value(first_reg + i);
    if (first_reg <= reg::kIntStatus && reg::kIntStatus < first_reg + out.size()) {
      device_.registers[reg::kIntStatus] = 0;  // cleared by reading
    }
  }
  std::string describe() const override { return "fake@0x68"; }

 private:
  void before(std::uint8_t address) {
    if (device_.before_transfer) device_.before_transfer(device_);
    const bool targeted = !device_.fail_only_register || *device_.fail_only_register == address;
    if (device_.fail_next > 0 && targeted) {
      --device_.fail_next;
      if (address == reg::kFifoRw) {
        for (std::size_t i = 0; i < device_.pop_before_failing; ++i) device_.pop_fifo();
      }
      throw I2cError("fake: Input/output error", EIO);
    }
  }
  FakeDevice& device_;
};

Mpu6050Config register_mode() {
  Mpu6050Config config;
  config.use_fifo = false;
  return config;
}

Mpu6050Config fifo_mode() { return Mpu6050Config{}; }

struct Rig {
  FakeDevice device;
  std::vector<std::chrono::microseconds> backoffs;
  std::unique_ptr<Mpu6050Source> source;

  explicit Rig(Mpu6050Config config = register_mode()) {
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
  Mpu6050Config config = register_mode();
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
  Mpu6050Config config = register_mode();
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

// ---- FIFO mode -------------------------------------------------------------

constexpr double kAccelScale = 9.80665 / 8192;  // default ±4 g
constexpr double kGyroScale = 1 / 65.5;         // default ±500 deg/s

// Record n of a recognisable sequence: accel_x counts, the rest follow from it.
Words numbered_record(int n) {
  return {static_cast<std::int16_t>(n),      static_cast<std::int16_t>(-n),
          static_cast<std::int16_t>(8192),   static_cast<std::int16_t>(340 * (n % 7)),
          static_cast<std::int16_t>(2 * n),  static_cast<std::int16_t>(-3 * n),
          static_cast<std::int16_t>(n % 100)};
}

void expect_numbered_sample(const std::optional<ImuSample>& sample, int n) {
  ASSERT_TRUE(sample.has_value()) << "sample " << n;
  EXPECT_FLOAT_EQ(sample->accel_x, static_cast<float>(n * kAccelScale)) << n;
  EXPECT_FLOAT_EQ(sample->accel_y, static_cast<float>(-n * kAccelScale)) << n;
  EXPECT_FLOAT_EQ(sample->accel_z, 9.80665f) << n;
  EXPECT_FLOAT_EQ(sample->temp_c, static_cast<float>(340 * (n % 7) / 340.0 + 36.53)) << n;
  EXPECT_FLOAT_EQ(sample->gyro_x, static_cast<float>(2 * n * kGyroScale)) << n;
  EXPECT_FLOAT_EQ(sample->gyro_y, static_cast<float>(-3 * n * kGyroScale)) << n;
  EXPECT_FLOAT_EQ(sample->gyro_z, static_cast<float>((n % 100) * kGyroScale)) << n;
}

void push_numbered(FakeDevice& device, int first, int count) {
  for (int n = first; n < first + count; ++n) device.push_record(numbered_record(n));
}

const Writes kFifoReset = {{0x6A, 0x00}, {0x6A, 0x04}, {0x6A, 0x40}};

TEST(Mpu6050Fifo, SpecTurnsTheFifoOnByDefaultAndOffWithNofifo) {
  EXPECT_TRUE(parse_mpu6050_spec("/dev/i2c-1").config.use_fifo);
  EXPECT_TRUE(parse_mpu6050_spec("/dev/i2c-1@0x68:fifo").config.use_fifo);
  const Mpu6050Spec plain = parse_mpu6050_spec("/dev/i2c-1@0x69:accel=8,nofifo,gyro=250");
  EXPECT_FALSE(plain.config.use_fifo);
  EXPECT_EQ(plain.config.accel_range_g, 8);
  EXPECT_EQ(plain.config.gyro_range_dps, 250);
  EXPECT_THROW(parse_mpu6050_spec("/dev/i2c-1:fifo=2"), Error);
  EXPECT_THROW(parse_mpu6050_spec("/dev/i2c-1:fifos"), Error);
  EXPECT_EQ(Rig(fifo_mode()).source->max_burst(), 64u);
  EXPECT_EQ(Rig(register_mode()).source->max_burst(), 1u);
}

TEST(Mpu6050Fifo, StartResetsAndEnablesTheFifoForAccelTempAndGyro) {
  Rig rig(fifo_mode());
  // Stale bytes and a stale overflow flag from an earlier run.
  rig.device.registers[reg::kUserCtrl] = reg::kUserCtrlFifoEn;
  rig.device.registers[reg::kFifoEn] = reg::kFifoEnAccelTempGyro;
  push_numbered(rig.device, 0, 80);
  ASSERT_EQ(rig.device.fifo.size(), 1024u);
  rig.source->start(1000);
  const Writes expected = {{0x6B, 0x01}, {0x19, 0},    {0x1A, 1},    {0x1B, 0x08}, {0x1C, 0x08},
                           {0x6A, 0x00}, {0x6A, 0x04}, {0x23, 0xF8}, {0x38, 0x10}, {0x6A, 0x40}};
  EXPECT_EQ(rig.device.writes, expected);
  EXPECT_EQ(rig.device.reads, (std::vector<std::uint8_t>{0x75, 0x3A}));  // WHO_AM_I, INT_STATUS
  EXPECT_TRUE(rig.device.fifo.empty());
  EXPECT_EQ(rig.device.registers[reg::kIntStatus], 0);
  EXPECT_FALSE(rig.source->read().has_value());  // nothing sampled yet: no sample, no error
  const SourceCounters counters = rig.source->counters();
  EXPECT_EQ(counters.fifo_overflows, 0u);
  EXPECT_EQ(counters.failed_reads, 0u);
}

TEST(Mpu6050Fifo, RateMustBeOneTheChipSamplesAt) {
  for (double rate : {1000.0, 500.0, 250.0, 100.0, 20.0, 1000.0 / 256}) {
    EXPECT_NO_THROW(Rig(fifo_mode()).source->start(rate)) << rate;
  }
  for (double rate : {300.0, 400.0, 2000.0, 1.0}) {
    Rig rig(fifo_mode());
    try {
      rig.source->start(rate);
      ADD_FAILURE() << rate;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("nofifo"), std::string::npos) << error.what();
    }
    EXPECT_TRUE(rig.device.writes.empty()) << rate;  // rejected before touching the chip
  }
  EXPECT_NO_THROW(Rig(register_mode()).source->start(300));
}

TEST(Mpu6050Fifo, BurstsComeBackInOrderWithDatasheetConversions) {
  Rig rig(fifo_mode());
  rig.source->start(1000);
  rig.device.reads.clear();
  push_numbered(rig.device, 0, 40);
  for (int n = 0; n < 40; ++n) expect_numbered_sample(rig.source->read(), n);
  // One refill: FIFO_COUNT, 560 bytes in whole-record transfers <= 255, INT_STATUS.
  EXPECT_EQ(rig.device.fifo_read_sizes, (std::vector<std::size_t>{252, 252, 56}));
  EXPECT_EQ(rig.device.reads, (std::vector<std::uint8_t>{0x72, 0x74, 0x74, 0x74, 0x3A}));
  EXPECT_FALSE(rig.source->read().has_value());  // empty: nullopt rather than blocking
  push_numbered(rig.device, 40, 3);
  for (int n = 40; n < 43; ++n) expect_numbered_sample(rig.source->read(), n);
  const SourceCounters counters = rig.source->counters();
  EXPECT_EQ(counters.failed_reads, 0u);
  EXPECT_EQ(counters.i2c_errors, 0u);
  EXPECT_EQ(counters.fifo_overflows, 0u);
}

TEST(Mpu6050Fifo, SameConversionAsTheRegisterBurst) {
  const Words words = {8192, -4096, 16384, -521, 655, -131, -32768};
  Rig fifo(fifo_mode());
  fifo.source->start(100);
  fifo.device.push_record(words);
  Rig registers(register_mode());
  registers.source->start(100);
  const auto bytes = record_bytes(words);
  std::copy(bytes.begin(), bytes.end(), registers.device.registers.begin() + reg::kAccelXoutH);
  const ImuSample a = *fifo.source->read();
  const ImuSample b = *registers.source->read();
  EXPECT_EQ(std::tie(a.accel_x, a.accel_y, a.accel_z, a.temp_c, a.gyro_x, a.gyro_y, a.gyro_z),
            std::tie(b.accel_x, b.accel_y, b.accel_z, b.temp_c, b.gyro_x, b.gyro_y, b.gyro_z));
  EXPECT_FLOAT_EQ(a.gyro_x, 10.0f);
}

TEST(Mpu6050Fifo, APartialRecordIsNeverConsumedHalf) {
  Rig rig(fifo_mode());
  rig.source->start(1000);
  push_numbered(rig.device, 0, 2);
  const auto third = record_bytes(numbered_record(2));
  rig.device.push_bytes(std::span(third).first(5));  // the chip is mid-way through a record
  expect_numbered_sample(rig.source->read(), 0);
  expect_numbered_sample(rig.source->read(), 1);
  EXPECT_EQ(rig.device.fifo.size(), 5u);
  EXPECT_FALSE(rig.source->read().has_value());
  EXPECT_EQ(rig.device.fifo.size(), 5u);
  rig.device.push_bytes(std::span(third).subspan(5));
  push_numbered(rig.device, 3, 1);
  expect_numbered_sample(rig.source->read(), 2);
  expect_numbered_sample(rig.source->read(), 3);
  EXPECT_EQ(rig.source->counters().fifo_overflows, 0u);
}

TEST(Mpu6050Fifo, OverflowIsDetectedResetAndCounted) {
  Rig rig(fifo_mode());
  rig.source->start(1000);
  push_numbered(rig.device, 0, 80);  // 1120 bytes into 1024: the oldest are overwritten
  ASSERT_NE(rig.device.registers[reg::kIntStatus] & reg::kIntFifoOverflow, 0);
  rig.device.writes.clear();
  EXPECT_FALSE(rig.source->read().has_value());
  EXPECT_EQ(rig.device.writes, kFifoReset);
  EXPECT_TRUE(rig.device.fifo.empty());
  EXPECT_TRUE(rig.device.fifo_read_sizes.empty());  // no misaligned byte was read
  SourceCounters counters = rig.source->counters();
  EXPECT_EQ(counters.fifo_overflows, 1u);
  EXPECT_EQ(counters.fifo_discarded_samples, 73u);
  EXPECT_EQ(counters.failed_reads, 0u);
  EXPECT_EQ(rig.device.registers[reg::kIntStatus], 0);  // a stale flag would discard good data
  push_numbered(rig.device, 100, 3);
  for (int n = 100; n < 103; ++n) expect_numbered_sample(rig.source->read(), n);

  // A full FIFO counts as an overflow even when the flag was already cleared.
  push_numbered(rig.device, 0, 80);
  rig.device.registers[reg::kIntStatus] = 0;
  EXPECT_FALSE(rig.source->read().has_value());
  counters = rig.source->counters();
  EXPECT_EQ(counters.fifo_overflows, 2u);
  EXPECT_EQ(counters.fifo_discarded_samples, 146u);
  push_numbered(rig.device, 200, 1);
  expect_numbered_sample(rig.source->read(), 200);
}

TEST(Mpu6050Fifo, AnOverflowDuringTheReadDiscardsWhatWasRead) {
  Rig rig(fifo_mode());
  rig.source->start(1000);
  push_numbered(rig.device, 0, 70);  // 980 bytes
  bool overflowed_once = false;
  rig.device.before_transfer = [&](FakeDevice& device) {
    if (!overflowed_once && !device.fifo_read_sizes.empty()) {
      overflowed_once = true;
      push_numbered(device, 70, 25);  // arrive after the first transfer: 728 + 350 bytes
    }
  };
  rig.device.writes.clear();
  EXPECT_FALSE(rig.source->read().has_value());  // what was read may be misaligned
  EXPECT_EQ(rig.device.writes, kFifoReset);
  SourceCounters counters = rig.source->counters();
  EXPECT_EQ(counters.fifo_overflows, 1u);
  EXPECT_EQ(counters.fifo_discarded_samples, 70u);
  EXPECT_EQ(rig.device.registers[reg::kIntStatus], 0);  // the flag was cleared with the reset
  push_numbered(rig.device, 300, 2);
  expect_numbered_sample(rig.source->read(), 300);
  expect_numbered_sample(rig.source->read(), 301);
  EXPECT_EQ(rig.source->counters().fifo_overflows, 1u);
}

TEST(Mpu6050Fifo, EioDuringAFifoReadIsRetriedAndCounted) {
  Rig rig(fifo_mode());
  rig.source->start(1000);
  push_numbered(rig.device, 0, 10);
  rig.device.fail_only_register = reg::kFifoRw;
  rig.device.fail_next = 2;
  for (int n = 0; n < 10; ++n) expect_numbered_sample(rig.source->read(), n);
  const SourceCounters counters = rig.source->counters();
  EXPECT_EQ(counters.i2c_errors, 2u);
  EXPECT_EQ(counters.i2c_retries, 2u);
  EXPECT_EQ(counters.failed_reads, 0u);
  EXPECT_EQ(counters.fifo_discarded_samples, 0u);
  using std::chrono::microseconds;
  EXPECT_EQ(rig.backoffs, (std::vector<microseconds>{microseconds(100), microseconds(200)}));
}

TEST(Mpu6050Fifo, EioDuringTheCountIsRetriedAndCounted) {
  Rig rig(fifo_mode());
  rig.source->start(1000);
  push_numbered(rig.device, 0, 2);
  rig.device.fail_only_register = reg::kFifoCountH;
  rig.device.fail_next = 3;
  expect_numbered_sample(rig.source->read(), 0);
  expect_numbered_sample(rig.source->read(), 1);
  EXPECT_EQ(rig.source->counters().i2c_retries, 3u);
  EXPECT_EQ(rig.source->counters().failed_reads, 0u);
}

TEST(Mpu6050Fifo, AFailedTransferThatPoppedBytesResetsTheFifo) {
  Rig rig(fifo_mode());
  rig.source->start(1000);
  push_numbered(rig.device, 0, 30);  // 420 bytes: transfers of 252 and 168
  rig.device.fail_only_register = reg::kFifoRw;
  rig.device.fail_next = 1;
  rig.device.pop_before_failing = 5;  // the chip gave up 5 bytes before the transfer broke
  rig.device.writes.clear();
  EXPECT_FALSE(rig.source->read().has_value());  // the retried data would be misaligned
  EXPECT_EQ(rig.device.writes, kFifoReset);
  SourceCounters counters = rig.source->counters();
  EXPECT_EQ(counters.i2c_retries, 1u);
  EXPECT_EQ(counters.fifo_discarded_samples, 30u);
  EXPECT_EQ(counters.failed_reads, 1u);
  push_numbered(rig.device, 50, 2);
  expect_numbered_sample(rig.source->read(), 50);
  expect_numbered_sample(rig.source->read(), 51);
}

TEST(Mpu6050Fifo, PersistentEioLosesTheBurstButLoggingContinues) {
  Rig rig(fifo_mode());
  rig.source->start(1000);
  push_numbered(rig.device, 0, 20);
  rig.device.fail_only_register = reg::kFifoRw;
  rig.device.fail_next = 5;  // first attempt and all 4 retries
  EXPECT_FALSE(rig.source->read().has_value());
  SourceCounters counters = rig.source->counters();
  EXPECT_EQ(counters.i2c_errors, 5u);
  EXPECT_EQ(counters.failed_reads, 1u);
  EXPECT_EQ(counters.fifo_discarded_samples, 20u);  // alignment unknown: reset
  EXPECT_TRUE(rig.device.fifo.empty());
  push_numbered(rig.device, 30, 1);
  expect_numbered_sample(rig.source->read(), 30);
}

TEST(Mpu6050Fifo, AFailedResetIsRetriedBeforeTheNextRefill) {
  Rig rig(fifo_mode());
  rig.source->start(1000);
  push_numbered(rig.device, 0, 80);
  rig.device.fail_only_register = reg::kUserCtrl;
  rig.device.fail_next = 5;  // the first reset write fails after every retry
  EXPECT_FALSE(rig.source->read().has_value());
  EXPECT_EQ(rig.device.fifo.size(), 1024u);
  EXPECT_FALSE(rig.source->read().has_value());  // resets now, before reading anything
  EXPECT_TRUE(rig.device.fifo.empty());
  EXPECT_TRUE(rig.device.fifo_read_sizes.empty());
  push_numbered(rig.device, 7, 1);
  expect_numbered_sample(rig.source->read(), 7);
  EXPECT_EQ(rig.source->counters().fifo_overflows, 1u);
}

// The chip's sample clock: fills the FIFO with numbered records at `rate_hz`
// from the moment the FIFO is enabled, in whatever thread touches the bus.
class SampleClock {
 public:
  explicit SampleClock(double rate_hz) : rate_hz_(rate_hz) {}
  void operator()(FakeDevice& device) {
    const bool enabled = device.fifo_enabled();
    const auto now = std::chrono::steady_clock::now();
    if (!enabled) {
      started_.reset();
      return;
    }
    if (!started_) started_ = now;
    const double seconds = std::chrono::duration<double>(now - *started_).count();
    const auto due = static_cast<int>(std::floor(seconds * rate_hz_));
    for (; produced_ < due; ++produced_) device.push_record(numbered_record(produced_ % 30000));
  }

 private:
  double rate_hz_;
  std::optional<std::chrono::steady_clock::time_point> started_;
  int produced_ = 0;
};

TEST(Mpu6050Fifo, LoggerAt1kHzWakesAbout100TimesASecondAndWritesEverySample) {
  const auto out =
      std::filesystem::temp_directory_path() / ("ep_mpu6050_fifo_" + std::to_string(::getpid()));
  std::filesystem::remove_all(out);
  Mpu6050Config config = fifo_mode();
  config.first_backoff = std::chrono::microseconds(1);
  Rig rig(config);
  rig.device.before_transfer = SampleClock(1000);
  LoggerOptions options;
  options.rate_hz = 1000;
  options.out_dir = out;
  options.chunk_rows = 400;
  options.duration_seconds = 1;
  const std::atomic<bool> stop{false};
  const LoggerStats stats = run_logger(*rig.source, options, stop);
  ASSERT_TRUE(stats.error.empty()) << stats.error;
  RecordProperty("wakeups", static_cast<int>(stats.wakeups));
  RecordProperty("source_misses", static_cast<int>(stats.source_misses));
  RecordProperty("fifo_overflows", static_cast<int>(stats.source.fifo_overflows));
  EXPECT_EQ(stats.burst, 10u);
  EXPECT_LE(stats.wakeups, 100u);
  EXPECT_GE(stats.wakeups + stats.skipped_ticks / 10, 100u);
  EXPECT_EQ(stats.samples + stats.source_misses + stats.skipped_ticks, 1000u);
  EXPECT_EQ(stats.rows_written, stats.samples);
  std::vector<int> sequence;
  for (const ChunkRecord& chunk : stats.chunks) {
    const columnar::Table table = columnar::ParquetReader(out / chunk.path).read_all({"accel_x"});
    for (float value : std::get<std::vector<float>>(table.columns[0])) {
      sequence.push_back(static_cast<int>(std::lround(value / kAccelScale)));
    }
  }
  ASSERT_EQ(sequence.size(), stats.rows_written);
  for (std::size_t i = 1; i < sequence.size(); ++i) ASSERT_LT(sequence[i - 1], sequence[i]) << i;
  // Unless the loaded machine stalled the logger past the FIFO's 73 ms, nothing is lost.
  if (stats.source.fifo_overflows == 0 && stats.skipped_ticks == 0) {
    EXPECT_EQ(stats.source_misses, 0u);
    ASSERT_EQ(sequence.size(), 1000u);
    EXPECT_EQ(sequence.front(), 0);
    EXPECT_EQ(sequence.back(), 999);
  }
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace edgeperf::sensors
