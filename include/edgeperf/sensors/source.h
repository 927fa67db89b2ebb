#pragma once
// IMU sample sources behind one interface, opened from a spec string:
//   sim[:seed[:script]]              deterministic simulator (see sim_source.h)
//   mpu6050:/dev/i2c-N[@0xAA][:opts] MPU-6050 over Linux i2c-dev (see mpu6050.h); opts
//                                    accel=G,gyro=DPS,fifo|nofifo (FIFO bursts by default)
//   replay:PATH                      Parquet file or directory of chunks, in time order
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace edgeperf::sensors {

struct ImuSample {
  std::int64_t ts_ns = 0;  // UTC nanoseconds since the epoch
  std::int32_t sensor_id = 0;
  float accel_x = 0, accel_y = 0, accel_z = 0;  // m/s^2
  float gyro_x = 0, gyro_y = 0, gyro_z = 0;     // deg/s
  float temp_c = 0;                             // deg C
};

enum class MotionState { still, moving, shaking };
const char* motion_state_name(MotionState state);
MotionState parse_motion_state(const std::string& name);  // throws Error naming it

// Bus health of hardware sources; zero for the others.
struct SourceCounters {
  std::uint64_t i2c_retries = 0;   // transfers repeated after an I/O error
  std::uint64_t i2c_errors = 0;    // I/O errors returned by the bus
  std::uint64_t failed_reads = 0;  // reads with no sample after every retry failed
  // Hardware FIFO overflows, each followed by a FIFO reset.
  std::uint64_t fifo_overflows = 0;
  // Whole records thrown away by FIFO resets (overflow, or alignment lost on a failed read).
  std::uint64_t fifo_discarded_samples = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Called once before the first read with the rate the caller will sample at.
  virtual void start(double rate_hz) = 0;
  // One sample, or nullopt when none could be read this tick (device error after
  // retries) or the source is exhausted (see exhausted()).
  virtual std::optional<ImuSample> read() = 0;
  // True when read() will never return a sample again (end of a replay).
  virtual bool exhausted() const { return false; }
  // True when samples carry their own timestamps (replay); otherwise the caller
  // stamps each sample with the wall-clock time it was taken.
  virtual bool has_timestamps() const { return false; }
  virtual SourceCounters counters() const { return {}; }
  // Samples the source buffers between reads, like a hardware FIFO. Above 1 the
  // logger may wake once per burst and read that many samples in a row, stamping
  // each with the instant it was due on the rate's schedule.
  virtual std::size_t max_burst() const { return 1; }
  // Current motion state for sources that know it (the simulator); safe to call
  // from another thread while read() runs.
  virtual std::optional<MotionState> motion_state() const { return std::nullopt; }
  // One-line description, e.g. "sim seed 42".
  virtual std::string describe() const = 0;
};

// Parses a spec and opens the source; throws Error with a one-line message on an
// unknown kind, malformed option, or a device/file that cannot be opened.
std::unique_ptr<Source> open_source(const std::string& spec);

}  // namespace edgeperf::sensors
