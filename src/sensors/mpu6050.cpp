#include "edgeperf/sensors/mpu6050.h"

#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <thread>

namespace edgeperf::sensors {
namespace {

constexpr double kGravity = 9.80665;
constexpr std::uint8_t kPwrWakePllX = 0x01;  // SLEEP cleared, clock from the X gyro PLL
constexpr std::array<std::uint8_t, 6> kKnownWhoAmI = {0x68, 0x70, 0x71, 0x72, 0x73, 0x98};

class LinuxI2cBus final : public I2cBus {
 public:
  LinuxI2cBus(std::string device, std::uint8_t address)
      : device_(std::move(device)), address_(address) {
    fd_ = ::open(device_.c_str(), O_RDWR | O_CLOEXEC);
    EP_CHECK(fd_ >= 0, "{}: cannot open: {}", device_, std::strerror(errno));
    if (::ioctl(fd_, I2C_SLAVE, static_cast<long>(address_)) < 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd_);
      fail("{}: cannot select i2c address 0x{:02x}: {}", device_, address_, reason);
    }
  }
  ~LinuxI2cBus() override { ::close(fd_); }
  LinuxI2cBus(const LinuxI2cBus&) = delete;
  LinuxI2cBus& operator=(const LinuxI2cBus&) = delete;

  void write_register(std::uint8_t reg, std::uint8_t value) override {
    const std::array<std::uint8_t, 2> message = {reg, value};
    transfer_out(message.data(), message.size(), reg);
  }

  void read_registers(std::uint8_t first_reg, std::span<std::uint8_t> out) override {
    transfer_out(&first_reg, 1, first_reg);
    const ssize_t got = ::read(fd_, out.data(), out.size());
    if (got != static_cast<ssize_t>(out.size())) throw_io("read", first_reg, got);
  }

  std::string describe() const override { return fmt::format("{}@0x{:02x}", device_, address_); }

 private:
  void transfer_out(const std::uint8_t* data, std::size_t size, std::uint8_t reg) {
    const ssize_t put = ::write(fd_, data, size);
    if (put != static_cast<ssize_t>(size)) throw_io("write", reg, put);
  }
  [[noreturn]] void throw_io(const char* what, std::uint8_t reg, ssize_t result) {
    const int error_number = result < 0 ? errno : EIO;
    throw I2cError(fmt::format("{}: {} of register 0x{:02x} failed: {}", describe(), what, reg,
                               std::strerror(error_number)),
                   error_number);
  }

  std::string device_;
  std::uint8_t address_;
  int fd_ = -1;
};

std::int16_t big_endian_i16(std::span<const std::uint8_t, 14> raw, std::size_t offset) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(raw[offset] << 8) | raw[offset + 1]);
}

std::uint8_t accel_fs_sel(int range_g) {
  switch (range_g) {
    case 2:
      return 0;
    case 4:
      return 1;
    case 8:
      return 2;
    case 16:
      return 3;
  }
  fail("mpu6050: accel range must be 2, 4, 8 or 16 g, got {}", range_g);
}

std::uint8_t gyro_fs_sel(int range_dps) {
  switch (range_dps) {
    case 250:
      return 0;
    case 500:
      return 1;
    case 1000:
      return 2;
    case 2000:
      return 3;
  }
  fail("mpu6050: gyro range must be 250, 500, 1000 or 2000 deg/s, got {}", range_dps);
}

// Largest DLPF bandwidth that stays under the Nyquist rate of the sampling.
std::uint8_t dlpf_for_rate(double rate_hz) {
  constexpr std::array<std::pair<std::uint8_t, double>, 6> kBandwidths = {
      {{1, 184}, {2, 94}, {3, 44}, {4, 21}, {5, 10}, {6, 5}}};
  for (const auto& [cfg, bandwidth] : kBandwidths) {
    if (bandwidth <= rate_hz / 2) return cfg;
  }
  return 6;
}

int parse_int(const std::string& text, const std::string& what, int base = 10) {
  std::size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used, base);
  } catch (const std::exception&) {
    used = 0;
  }
  EP_CHECK(!text.empty() && used == text.size(), "mpu6050: bad {} '{}'", what, text);
  return static_cast<int>(value);
}

// The FIFO fills at the chip's rate, 1 kHz / (1 + SMPLRT_DIV); read at any other rate
// it would overflow or run dry within seconds.
void check_fifo_rate(const Mpu6050Setup& setup, double rate_hz) {
  const double chip_hz = 1000.0 / (1 + setup.smplrt_div);
  EP_CHECK(std::abs(chip_hz - rate_hz) <= 1e-3 * rate_hz,
           "mpu6050: with the FIFO the rate must be 1000/N Hz for N in 1..256 (the chip would "
           "sample at {:.4g} Hz, not {} Hz); choose such a rate or add the nofifo option",
           chip_hz, rate_hz);
}

}  // namespace

std::unique_ptr<I2cBus> open_linux_i2c(const std::string& device, std::uint8_t address) {
  return std::make_unique<LinuxI2cBus>(device, address);
}

Mpu6050Setup mpu6050_setup(const Mpu6050Config& config, double rate_hz) {
  Mpu6050Setup setup;
  const std::uint8_t afs = accel_fs_sel(config.accel_range_g);
  const std::uint8_t fs = gyro_fs_sel(config.gyro_range_dps);
  setup.accel_config = static_cast<std::uint8_t>(afs << 3);
  setup.gyro_config = static_cast<std::uint8_t>(fs << 3);
  setup.accel_lsb_per_g = 16384.0 / static_cast<double>(1 << afs);
  constexpr std::array<double, 4> kGyroLsb = {131.0, 65.5, 32.8, 16.4};
  setup.gyro_lsb_per_dps = kGyroLsb[fs];
  setup.dlpf_cfg = dlpf_for_rate(rate_hz);
  // With the DLPF on, the gyro output rate is 1 kHz; sample rate = 1 kHz / (1 + div).
  const double divider = std::round(1000.0 / std::max(rate_hz, 1e-3)) - 1.0;
  setup.smplrt_div = static_cast<std::uint8_t>(std::clamp(divider, 0.0, 255.0));
  return setup;
}

ImuSample mpu6050_convert(std::span<const std::uint8_t, 14> raw, const Mpu6050Setup& setup) {
  const double accel_scale = kGravity / setup.accel_lsb_per_g;
  const double gyro_scale = 1.0 / setup.gyro_lsb_per_dps;
  ImuSample sample;
  sample.accel_x = static_cast<float>(big_endian_i16(raw, 0) * accel_scale);
  sample.accel_y = static_cast<float>(big_endian_i16(raw, 2) * accel_scale);
  sample.accel_z = static_cast<float>(big_endian_i16(raw, 4) * accel_scale);
  sample.temp_c = static_cast<float>(big_endian_i16(raw, 6) / 340.0 + 36.53);
  sample.gyro_x = static_cast<float>(big_endian_i16(raw, 8) * gyro_scale);
  sample.gyro_y = static_cast<float>(big_endian_i16(raw, 10) * gyro_scale);
  sample.gyro_z = static_cast<float>(big_endian_i16(raw, 12) * gyro_scale);
  return sample;
}

Mpu6050Source::Mpu6050Source(std::unique_ptr<I2cBus> bus, Mpu6050Config config, Sleeper sleep)
    : bus_(std::move(bus)), config_(config), sleep_(std::move(sleep)) {
  EP_CHECK(bus_ != nullptr, "mpu6050: no bus");
  EP_CHECK(config_.max_retries >= 0 && config_.max_retries <= 16,
           "mpu6050: max retries must be in [0, 16], got {}", config_.max_retries);
  if (!sleep_) sleep_ = [](std::chrono::microseconds pause) { std::this_thread::sleep_for(pause); };
  setup_ = mpu6050_setup(config_, 100.0);  // validates the ranges now
}

template <typename Transfer>
bool Mpu6050Source::with_retries(Transfer&& transfer) {
  std::chrono::microseconds backoff = config_.first_backoff;
  for (int attempt = 0;; ++attempt) {
    try {
      transfer();
      return true;
    } catch (const I2cError&) {
      ++counters_.i2c_errors;
      if (attempt >= config_.max_retries) return false;
    }
    ++counters_.i2c_retries;
    sleep_(backoff);
    backoff = std::min(backoff * 2, config_.max_backoff);
  }
}

void Mpu6050Source::write_or_fail(std::uint8_t reg, std::uint8_t value) {
  EP_CHECK(with_retries([&] { bus_->write_register(reg, value); }),
           "{}: cannot write register 0x{:02x} after {} retries", bus_->describe(), reg,
           config_.max_retries);
}

void Mpu6050Source::start(double rate_hz) {
  setup_ = mpu6050_setup(config_, rate_hz);
  if (config_.use_fifo) check_fifo_rate(setup_, rate_hz);
  write_or_fail(mpu6050_reg::kPwrMgmt1, kPwrWakePllX);
  write_or_fail(mpu6050_reg::kSmplrtDiv, setup_.smplrt_div);
  write_or_fail(mpu6050_reg::kConfig, setup_.dlpf_cfg);
  write_or_fail(mpu6050_reg::kGyroConfig, setup_.gyro_config);
  write_or_fail(mpu6050_reg::kAccelConfig, setup_.accel_config);
  std::array<std::uint8_t, 1> who_am_i{};
  EP_CHECK(with_retries([&] { bus_->read_registers(mpu6050_reg::kWhoAmI, who_am_i); }),
           "{}: cannot read WHO_AM_I after {} retries", bus_->describe(), config_.max_retries);
  EP_CHECK(std::find(kKnownWhoAmI.begin(), kKnownWhoAmI.end(), who_am_i[0]) != kKnownWhoAmI.end(),
           "{}: WHO_AM_I is 0x{:02x}, not an MPU-6050 family chip", bus_->describe(), who_am_i[0]);
  if (config_.use_fifo) start_fifo();
}

// FIFO_RESET takes effect while the FIFO is disabled, so it is disabled first.
void Mpu6050Source::start_fifo() {
  fifo_buffer_.clear();
  buffer_next_ = 0;
  write_or_fail(mpu6050_reg::kUserCtrl, 0);
  write_or_fail(mpu6050_reg::kUserCtrl, mpu6050_reg::kUserCtrlFifoReset);
  write_or_fail(mpu6050_reg::kFifoEn, mpu6050_reg::kFifoEnAccelTempGyro);
  write_or_fail(mpu6050_reg::kIntEnable, mpu6050_reg::kIntFifoOverflow);
  write_or_fail(mpu6050_reg::kUserCtrl, mpu6050_reg::kUserCtrlFifoEn);
  // Reading INT_STATUS clears an overflow flag left over from before the reset.
  std::array<std::uint8_t, 1> status{};
  EP_CHECK(with_retries([&] { bus_->read_registers(mpu6050_reg::kIntStatus, status); }),
           "{}: cannot read INT_STATUS after {} retries", bus_->describe(), config_.max_retries);
  fifo_needs_reset_ = false;
}

std::optional<ImuSample> Mpu6050Source::read() {
  return config_.use_fifo ? read_fifo_sample() : read_registers_sample();
}

std::optional<ImuSample> Mpu6050Source::read_registers_sample() {
  std::array<std::uint8_t, kMpu6050RecordBytes> raw{};
  if (!with_retries([&] { bus_->read_registers(mpu6050_reg::kAccelXoutH, raw); })) {
    ++counters_.failed_reads;
    return std::nullopt;
  }
  return mpu6050_convert(raw, setup_);
}

std::optional<ImuSample> Mpu6050Source::read_fifo_sample() {
  if (buffer_next_ >= fifo_buffer_.size() && !refill_from_fifo()) return std::nullopt;
  const std::span<const std::uint8_t, kMpu6050RecordBytes> record(
      fifo_buffer_.data() + buffer_next_, kMpu6050RecordBytes);
  buffer_next_ += kMpu6050RecordBytes;
  return mpu6050_convert(record, setup_);
}

// Reads every whole record the FIFO holds into the local buffer; false when none
// could be read (FIFO empty, overflowed and reset, or the bus failed).
bool Mpu6050Source::refill_from_fifo() {
  fifo_buffer_.clear();
  buffer_next_ = 0;
  if (fifo_needs_reset_ && !reset_fifo()) {
    ++counters_.failed_reads;
    return false;
  }
  const std::optional<std::size_t> available = read_fifo_count();
  if (!available) {
    ++counters_.failed_reads;
    return false;
  }
  if (*available >= kMpu6050FifoBytes) {  // full: it has overflowed or is about to
    discard_after_overflow(*available / kMpu6050RecordBytes);
    return false;
  }
  const std::size_t records = *available / kMpu6050RecordBytes;
  if (records == 0) return false;
  read_records(records, *available);
  // INT_STATUS has latched any overflow since it was last read, at the end of the
  // previous refill: one during this refill overwrote bytes as they were read.
  if (!fifo_buffer_.empty() && overflowed()) {
    discard_after_overflow(fifo_buffer_.size() / kMpu6050RecordBytes);
    fifo_buffer_.clear();
    return false;
  }
  if (fifo_buffer_.empty()) ++counters_.failed_reads;
  return !fifo_buffer_.empty();
}

// Reads `records` whole records of the `available` bytes counted into the buffer, in
// transfers of at most kMpu6050MaxTransferBytes; on a failure keeps those read
// before and resets the FIFO, whose alignment is then unknown.
void Mpu6050Source::read_records(std::size_t records, std::size_t available) {
  fifo_buffer_.resize(records * kMpu6050RecordBytes);
  for (std::size_t offset = 0; offset < fifo_buffer_.size();) {
    const std::size_t size = std::min(kMpu6050MaxTransferBytes, fifo_buffer_.size() - offset);
    const std::size_t left_after = available - offset - size;
    if (!read_fifo_data(std::span<std::uint8_t>(fifo_buffer_.data() + offset, size), left_after)) {
      // Keep the records read before; the rest is gone with the FIFO reset.
      counters_.fifo_discarded_samples += (fifo_buffer_.size() - offset) / kMpu6050RecordBytes;
      fifo_buffer_.resize(offset);
      reset_fifo();
      break;
    }
    offset += size;
  }
}

// Reads (and so clears) INT_STATUS; true when it shows a FIFO overflow. A status
// that cannot be read counts as no overflow: the flag stays latched until the next read.
bool Mpu6050Source::overflowed() {
  std::array<std::uint8_t, 1> status{};
  return with_retries([&] { bus_->read_registers(mpu6050_reg::kIntStatus, status); }) &&
         (status[0] & mpu6050_reg::kIntFifoOverflow) != 0;
}

// After an overflow the chip has overwritten the oldest bytes, so the records are no
// longer aligned: count it and start the FIFO afresh.
void Mpu6050Source::discard_after_overflow(std::size_t records) {
  ++counters_.fifo_overflows;
  counters_.fifo_discarded_samples += records;
  reset_fifo();
}

std::optional<std::size_t> Mpu6050Source::read_fifo_count() {
  std::array<std::uint8_t, 2> count{};  // FIFO_COUNTH first: reading it latches both
  if (!with_retries([&] { bus_->read_registers(mpu6050_reg::kFifoCountH, count); })) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(count[0]) << 8 | count[1];
}

// Reads FIFO_R_W into `out`, after which `left_after` bytes should remain of those
// counted; false when the bus failed or the FIFO may have lost record alignment.
bool Mpu6050Source::read_fifo_data(std::span<std::uint8_t> out, std::size_t left_after) {
  const std::uint64_t retries_before = counters_.i2c_retries;
  if (!with_retries([&] { bus_->read_registers(mpu6050_reg::kFifoRw, out); })) return false;
  if (counters_.i2c_retries == retries_before) return true;
  // A failed attempt may have popped bytes before it broke off. The chip only adds
  // whole records, so the data is aligned if the count moved by whole records.
  // (Bytes popped past the end of the FIFO cannot be seen this way.)
  const std::optional<std::size_t> count = read_fifo_count();
  if (!count) return false;
  const std::size_t moved = *count > left_after ? *count - left_after : left_after - *count;
  return moved % kMpu6050RecordBytes == 0;
}

// Disable, reset, enable again (USER_CTRL), then clear a latched overflow flag
// (INT_STATUS) so it is not taken for a new one; on a bus failure the next refill retries.
bool Mpu6050Source::reset_fifo() {
  fifo_needs_reset_ = true;
  for (const std::uint8_t value :
       {std::uint8_t{0}, mpu6050_reg::kUserCtrlFifoReset, mpu6050_reg::kUserCtrlFifoEn}) {
    if (!with_retries([&] { bus_->write_register(mpu6050_reg::kUserCtrl, value); })) return false;
  }
  std::array<std::uint8_t, 1> status{};
  if (!with_retries([&] { bus_->read_registers(mpu6050_reg::kIntStatus, status); })) return false;
  fifo_needs_reset_ = false;
  return true;
}

std::string Mpu6050Source::describe() const {
  return fmt::format("mpu6050 {} accel ±{} g gyro ±{} deg/s{}", bus_->describe(),
                     config_.accel_range_g, config_.gyro_range_dps,
                     config_.use_fifo ? " fifo" : "");
}

Mpu6050Spec parse_mpu6050_spec(const std::string& text) {
  Mpu6050Spec spec;
  const std::size_t colon = text.find(':');
  std::string target = text.substr(0, colon);
  const std::string options = colon == std::string::npos ? "" : text.substr(colon + 1);
  const std::size_t at = target.find('@');
  if (at != std::string::npos) {
    const std::string address = target.substr(at + 1);
    const bool hex = address.rfind("0x", 0) == 0 || address.rfind("0X", 0) == 0;
    const int value = parse_int(hex ? address.substr(2) : address, "i2c address", hex ? 16 : 10);
    EP_CHECK(value >= 0x03 && value <= 0x77, "mpu6050: i2c address {} is outside 0x03..0x77",
             address);
    spec.address = static_cast<std::uint8_t>(value);
    target = target.substr(0, at);
  }
  EP_CHECK(!target.empty(), "mpu6050: missing i2c device, expected mpu6050:/dev/i2c-N[@0x68]");
  spec.device = target;
  std::size_t begin = 0;
  while (!options.empty() && begin <= options.size()) {
    const std::size_t end = std::min(options.find(',', begin), options.size());
    const std::string item = options.substr(begin, end - begin);
    begin = end + 1;
    if (item == "fifo" || item == "nofifo") {
      spec.config.use_fifo = item == "fifo";
      continue;
    }
    const std::size_t equals = item.find('=');
    EP_CHECK(equals != std::string::npos, "mpu6050: option '{}' is not key=value, fifo or nofifo",
             item);
    const std::string key = item.substr(0, equals);
    const std::string value = item.substr(equals + 1);
    if (key == "accel") {
      spec.config.accel_range_g = parse_int(value, "accel range");
      accel_fs_sel(spec.config.accel_range_g);
    } else if (key == "gyro") {
      spec.config.gyro_range_dps = parse_int(value, "gyro range");
      gyro_fs_sel(spec.config.gyro_range_dps);
    } else {
      fail("mpu6050: unknown option '{}' (expected accel=, gyro=, fifo or nofifo)", key);
    }
  }
  return spec;
}

}  // namespace edgeperf::sensors
