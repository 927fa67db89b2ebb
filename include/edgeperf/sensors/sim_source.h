#pragma once
// Deterministic IMU simulator. The same seed and script give the same samples
// on every run: it uses its own PRNG (xoshiro256**) and Box-Muller normals, and
// its clock is the sample index divided by the rate, never the wall clock.
//
// Spec: sim[:seed[:script]]   seed defaults to 42.
//   script = comma-separated state=seconds segments, repeated forever, e.g.
//   sim:42:still=2,shaking=3,moving=5. The default script is
//   still=3,moving=4,shaking=2,still=2,moving=3.
//
// Model: gravity (9.80665 m/s^2) along an axis that tilts with the simulated
// orientation; per-axis accelerometer and gyro bias drawn from the seed;
// Gaussian white noise; temperature that warms up and drifts slowly, with the
// gyro bias following it. still: fixed orientation, no rotation. moving: slow
// tilting (under 1 Hz) and gentle linear acceleration. shaking: 8-15 Hz
// vibration with large linear acceleration and fast rotation.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "edgeperf/sensors/source.h"

namespace edgeperf::sensors {

struct MotionSegment {
  MotionState state = MotionState::still;
  double seconds = 1.0;
};

// Parses "still=2,shaking=3"; throws Error naming the bad segment.
std::vector<MotionSegment> parse_motion_script(const std::string& text);
std::vector<MotionSegment> default_motion_script();

// xoshiro256** seeded through splitmix64; uniform and normal draws.
class Prng {
 public:
  explicit Prng(std::uint64_t seed);
  std::uint64_t next();
  double uniform();  // [0, 1)
  double normal();   // mean 0, standard deviation 1
 private:
  std::array<std::uint64_t, 4> state_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

class SimSource final : public Source {
 public:
  SimSource(std::uint64_t seed, std::vector<MotionSegment> script);

  void start(double rate_hz) override;
  std::optional<ImuSample> read() override;
  // The simulated chip holds samples in a FIFO (the MPU-6050's holds 73 full ones).
  std::size_t max_burst() const override { return kFifoSamples; }
  static constexpr std::size_t kFifoSamples = 64;
  std::optional<MotionState> motion_state() const override { return state(); }
  std::string describe() const override;

  MotionState state() const { return state_.load(std::memory_order_relaxed); }
  // State the script prescribes at simulated time t (seconds).
  MotionState state_at(double t) const;
  double simulated_seconds() const { return static_cast<double>(index_) / rate_hz_; }

 private:
  struct Vec3 {
    double x = 0, y = 0, z = 0;
  };
  struct Segment {
    MotionState state;
    double start = 0;  // seconds since the script began (within one cycle)
    double seconds = 0;
  };
  void enter_segment(MotionState state);
  Vec3 angular_rate(double t_in_segment) const;         // deg/s
  Vec3 linear_acceleration(double t_in_segment) const;  // m/s^2, sensor frame

  std::uint64_t seed_;
  Prng prng_;
  std::vector<Segment> segments_;
  double cycle_seconds_ = 0;
  double rate_hz_ = 100.0;
  std::uint64_t index_ = 0;
  std::atomic<MotionState> state_{MotionState::still};
  double segment_start_ = 0;  // simulated time the current segment began
  std::size_t segment_serial_ = SIZE_MAX;
  double roll_deg_ = 0, pitch_deg_ = 0;
  Vec3 accel_bias_, gyro_bias_;
  // Per-segment randomness: vibration frequencies, phases, amplitudes.
  std::array<double, 6> frequency_hz_{}, phase_{}, amplitude_{};
};

}  // namespace edgeperf::sensors
