#pragma once
// InvenSense MPU-6050 over Linux i2c-dev, at the register level.
//
// Spec: mpu6050:/dev/i2c-N[@0x68][:accel=2|4|8|16,gyro=250|500|1000|2000,fifo|nofifo]
//   accel full scale in g (default 4), gyro full scale in deg/s (default 500);
//   fifo (the default) reads samples through the chip's 1024-byte FIFO, nofifo
//   reads the data registers once per sample.
//
// start(rate) wakes the chip (PWR_MGMT_1), then sets SMPLRT_DIV, CONFIG (DLPF),
// GYRO_CONFIG and ACCEL_CONFIG. Without the FIFO, read() burst-reads the 14 bytes
// from ACCEL_XOUT_H. With it, start() also resets the FIFO and enables it for
// accel, temp and gyro (FIFO_EN, USER_CTRL), and read() serves samples from a
// local buffer refilled with the whole 14-byte records the FIFO holds
// (FIFO_COUNT, then FIFO_R_W in transfers of at most 252 bytes, then INT_STATUS);
// it returns nullopt rather than block when the FIFO holds no whole record, and
// when the FIFO is full or overflowed during the refill it discards the records,
// resets the FIFO and counts the event. Records have the burst read's layout, so
// both modes convert with the datasheet formulas. An I/O error from the bus is
// retried with bounded exponential backoff and counted; when every retry fails
// the tick yields no sample (in FIFO mode the FIFO is reset, as bytes may have
// been lost mid-record) and logging continues.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgeperf/core/error.h"
#include "edgeperf/sensors/source.h"

namespace edgeperf::sensors {

namespace mpu6050_reg {
inline constexpr std::uint8_t kSmplrtDiv = 0x19;
inline constexpr std::uint8_t kConfig = 0x1A;
inline constexpr std::uint8_t kGyroConfig = 0x1B;
inline constexpr std::uint8_t kAccelConfig = 0x1C;
inline constexpr std::uint8_t kFifoEn = 0x23;
inline constexpr std::uint8_t kIntEnable = 0x38;
inline constexpr std::uint8_t kIntStatus = 0x3A;
inline constexpr std::uint8_t kAccelXoutH = 0x3B;
inline constexpr std::uint8_t kUserCtrl = 0x6A;
inline constexpr std::uint8_t kPwrMgmt1 = 0x6B;
inline constexpr std::uint8_t kFifoCountH = 0x72;  // then FIFO_COUNTL; read H first to latch
inline constexpr std::uint8_t kFifoRw = 0x74;
inline constexpr std::uint8_t kWhoAmI = 0x75;

// FIFO_EN: TEMP_FIFO_EN | XG_FIFO_EN | YG_FIFO_EN | ZG_FIFO_EN | ACCEL_FIFO_EN.
inline constexpr std::uint8_t kFifoEnAccelTempGyro = 0xF8;
inline constexpr std::uint8_t kUserCtrlFifoEn = 0x40;
inline constexpr std::uint8_t kUserCtrlFifoReset = 0x04;
inline constexpr std::uint8_t kIntFifoOverflow = 0x10;  // INT_ENABLE / INT_STATUS bit 4
}  // namespace mpu6050_reg

inline constexpr std::size_t kMpu6050FifoBytes = 1024;
inline constexpr std::size_t kMpu6050RecordBytes = 14;  // accel, temp, gyro: 7 big-endian int16
// Whole records the FIFO holds (73), less headroom for the samples that arrive
// while a burst is being read.
inline constexpr std::size_t kMpu6050FifoBurst = 64;
// Longest FIFO_R_W transfer: whole records within the 255 bytes many adapters allow.
inline constexpr std::size_t kMpu6050MaxTransferBytes = 18 * kMpu6050RecordBytes;

// An I/O failure on the bus; `error_number` is the errno (EIO, ENXIO, ...).
class I2cError : public Error {
 public:
  I2cError(const std::string& message, int error_number)
      : Error(message), error_number_(error_number) {}
  int error_number() const { return error_number_; }

 private:
  int error_number_;
};

// Register access to one device; throws I2cError on a failed transfer.
class I2cBus {
 public:
  virtual ~I2cBus() = default;
  virtual void write_register(std::uint8_t reg, std::uint8_t value) = 0;
  virtual void read_registers(std::uint8_t first_reg, std::span<std::uint8_t> out) = 0;
  virtual std::string describe() const = 0;
};

// /dev/i2c-N with ioctl(I2C_SLAVE); reads use a combined write-then-read transfer.
std::unique_ptr<I2cBus> open_linux_i2c(const std::string& device, std::uint8_t address);

struct Mpu6050Config {
  int accel_range_g = 4;                         // 2, 4, 8, 16
  int gyro_range_dps = 500;                      // 250, 500, 1000, 2000
  int max_retries = 4;                           // retries after the first failed attempt
  std::chrono::microseconds first_backoff{100};  // doubled after each retry
  std::chrono::microseconds max_backoff{2000};
  bool use_fifo = true;  // read through the chip's FIFO (spec options fifo / nofifo)
};

// Register values and scale factors for a config and sample rate.
struct Mpu6050Setup {
  std::uint8_t smplrt_div = 0;
  std::uint8_t dlpf_cfg = 0;
  std::uint8_t gyro_config = 0;
  std::uint8_t accel_config = 0;
  double accel_lsb_per_g = 0;
  double gyro_lsb_per_dps = 0;
};
Mpu6050Setup mpu6050_setup(const Mpu6050Config& config, double rate_hz);

// Converts the 14-byte burst from ACCEL_XOUT_H (big-endian int16 each: ax, ay,
// az, temp, gx, gy, gz) to SI units (m/s^2, deg/s, deg C).
ImuSample mpu6050_convert(std::span<const std::uint8_t, 14> raw, const Mpu6050Setup& setup);

class Mpu6050Source final : public Source {
 public:
  using Sleeper = std::function<void(std::chrono::microseconds)>;
  // `sleep` waits between retries (tests pass one that records the backoff).
  Mpu6050Source(std::unique_ptr<I2cBus> bus, Mpu6050Config config, Sleeper sleep = {});

  void start(double rate_hz) override;
  std::optional<ImuSample> read() override;
  SourceCounters counters() const override { return counters_; }
  std::size_t max_burst() const override { return config_.use_fifo ? kMpu6050FifoBurst : 1; }
  std::string describe() const override;
  const Mpu6050Setup& setup() const { return setup_; }

 private:
  template <typename Transfer>
  bool with_retries(Transfer&& transfer);
  void write_or_fail(std::uint8_t reg, std::uint8_t value);
  void start_fifo();
  std::optional<ImuSample> read_registers_sample();
  std::optional<ImuSample> read_fifo_sample();
  bool refill_from_fifo();
  void read_records(std::size_t records, std::size_t available);
  bool overflowed();
  void discard_after_overflow(std::size_t records);
  std::optional<std::size_t> read_fifo_count();
  bool read_fifo_data(std::span<std::uint8_t> out, std::size_t left_after);
  bool reset_fifo();

  std::unique_ptr<I2cBus> bus_;
  Mpu6050Config config_;
  Sleeper sleep_;
  Mpu6050Setup setup_;
  SourceCounters counters_;
  // Whole FIFO records read but not yet returned; buffer_next_ indexes the next one.
  std::vector<std::uint8_t> fifo_buffer_;
  std::size_t buffer_next_ = 0;
  bool fifo_needs_reset_ = false;  // a reset failed on the bus; retried before the next refill
};

// Parses the part after "mpu6050:"; throws Error naming the bad piece.
struct Mpu6050Spec {
  std::string device;
  std::uint8_t address = 0x68;
  Mpu6050Config config;
};
Mpu6050Spec parse_mpu6050_spec(const std::string& text);

}  // namespace edgeperf::sensors
