#include "edgeperf/sensors/sim_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"

namespace edgeperf::sensors {
namespace {

constexpr double kGravity = 9.80665;
constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kDegToRad = std::numbers::pi / 180.0;
constexpr double kAccelNoise = 0.03;  // m/s^2, one sigma per sample
constexpr double kGyroNoise = 0.05;   // deg/s
constexpr double kTempNoise = 0.01;   // deg C
constexpr double kMaxTiltDeg = 75.0;

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

double between(Prng& prng, double low, double high) { return low + (high - low) * prng.uniform(); }

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

namespace {

constexpr auto kMotionStates = enum_names<MotionState>("motion state",
                                                       {{MotionState::still, "still"},
                                                        {MotionState::moving, "moving"},
                                                        {MotionState::shaking, "shaking"}},
                                                       "unknown");

}  // namespace

// The table's names are string literals, so data() is null-terminated.
const char* motion_state_name(MotionState state) { return kMotionStates.name(state).data(); }

MotionState parse_motion_state(const std::string& name) { return kMotionStates.parse(name); }

std::vector<MotionSegment> parse_motion_script(const std::string& text) {
  std::vector<MotionSegment> script;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t end = std::min(text.find(',', begin), text.size());
    const std::string item = trim(text.substr(begin, end - begin));
    const std::size_t equals = item.find('=');
    EP_CHECK(equals != std::string::npos, "sim script segment '{}' is not state=seconds", item);
    MotionSegment segment;
    segment.state = parse_motion_state(trim(item.substr(0, equals)));
    const std::string seconds = trim(item.substr(equals + 1));
    std::size_t used = 0;
    try {
      segment.seconds = std::stod(seconds, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    EP_CHECK(used == seconds.size() && used > 0 && std::isfinite(segment.seconds) &&
                 segment.seconds > 0 && segment.seconds <= 1e6,
             "sim script segment '{}': seconds must be a number in (0, 1e6]", item);
    script.push_back(segment);
    begin = end + 1;
  }
  return script;
}

std::vector<MotionSegment> default_motion_script() {
  return {{MotionState::still, 3},
          {MotionState::moving, 4},
          {MotionState::shaking, 2},
          {MotionState::still, 2},
          {MotionState::moving, 3}};
}

Prng::Prng(std::uint64_t seed) {
  for (auto& word : state_) word = splitmix64(seed);
}

std::uint64_t Prng::next() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

double Prng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Prng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1 = uniform();
  while (u1 <= 0.0) u1 = uniform();
  const double u2 = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  spare_ = radius * std::sin(kTwoPi * u2);
  has_spare_ = true;
  return radius * std::cos(kTwoPi * u2);
}

SimSource::SimSource(std::uint64_t seed, std::vector<MotionSegment> script)
    : seed_(seed), prng_(seed) {
  EP_CHECK(!script.empty(), "sim script is empty");
  for (const MotionSegment& segment : script) {
    segments_.push_back({segment.state, cycle_seconds_, segment.seconds});
    cycle_seconds_ += segment.seconds;
  }
  roll_deg_ = between(prng_, -10, 10);
  pitch_deg_ = between(prng_, -10, 10);
  accel_bias_ = {between(prng_, -0.08, 0.08), between(prng_, -0.08, 0.08),
                 between(prng_, -0.08, 0.08)};
  gyro_bias_ = {between(prng_, -0.6, 0.6), between(prng_, -0.6, 0.6), between(prng_, -0.6, 0.6)};
  state_.store(segments_.front().state);
}

void SimSource::start(double rate_hz) {
  EP_CHECK(rate_hz > 0 && std::isfinite(rate_hz), "sim: rate must be positive, got {}", rate_hz);
  rate_hz_ = rate_hz;
}

MotionState SimSource::state_at(double t) const {
  const double in_cycle = std::fmod(std::max(t, 0.0), cycle_seconds_);
  for (const Segment& segment : segments_) {
    if (in_cycle < segment.start + segment.seconds) return segment.state;
  }
  return segments_.back().state;
}

void SimSource::enter_segment(MotionState state) {
  state_.store(state, std::memory_order_relaxed);
  for (std::size_t axis = 0; axis < 6; ++axis) {
    phase_[axis] = between(prng_, 0, kTwoPi);
    if (state == MotionState::shaking) {
      frequency_hz_[axis] = between(prng_, 8, 15);
      // First three: rotation amplitude (deg); last three: acceleration (m/s^2).
      amplitude_[axis] = axis < 3 ? between(prng_, 1.5, 3.0) : between(prng_, 4, 8);
    } else {
      frequency_hz_[axis] = between(prng_, 0.2, 0.8);
      amplitude_[axis] = axis < 3 ? between(prng_, 8, 20) : between(prng_, 0.3, 1.0);
    }
  }
  // Tilt back toward level so long runs stay within a plausible range.
  if (state == MotionState::moving) {
    amplitude_[0] = std::copysign(amplitude_[0], -roll_deg_);
    amplitude_[1] = std::copysign(amplitude_[1], -pitch_deg_);
    phase_[0] = phase_[1] = 0.0;
  }
}

SimSource::Vec3 SimSource::angular_rate(double t) const {
  const MotionState state = this->state();
  if (state == MotionState::still) return {};
  std::array<double, 3> rate{};
  for (std::size_t axis = 0; axis < 3; ++axis) {
    const double omega = kTwoPi * frequency_hz_[axis];
    // Derivative of amplitude * sin(omega t + phase), in deg/s.
    rate[axis] = amplitude_[axis] * omega * std::cos(omega * t + phase_[axis]);
  }
  return {rate[0], rate[1], rate[2]};
}

SimSource::Vec3 SimSource::linear_acceleration(double t) const {
  if (state() == MotionState::still) return {};
  std::array<double, 3> accel{};
  for (std::size_t axis = 0; axis < 3; ++axis) {
    const double omega = kTwoPi * frequency_hz_[axis + 3];
    accel[axis] = amplitude_[axis + 3] * std::sin(omega * t + phase_[axis + 3]);
  }
  return {accel[0], accel[1], accel[2]};
}

std::optional<ImuSample> SimSource::read() {
  const double dt = 1.0 / rate_hz_;
  const double t = static_cast<double>(index_) * dt;
  const double in_cycle = std::fmod(t, cycle_seconds_);
  std::size_t segment_index = segments_.size() - 1;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (in_cycle < segments_[i].start + segments_[i].seconds) {
      segment_index = i;
      break;
    }
  }
  const auto cycle = static_cast<std::size_t>(std::floor(t / cycle_seconds_));
  const std::size_t serial = cycle * segments_.size() + segment_index;
  if (serial != segment_serial_) {
    segment_serial_ = serial;
    segment_start_ = static_cast<double>(cycle) * cycle_seconds_ + segments_[segment_index].start;
    enter_segment(segments_[segment_index].state);
  }
  const double t_in_segment = t - segment_start_;

  const Vec3 rate = angular_rate(t_in_segment);
  roll_deg_ = std::clamp(roll_deg_ + rate.x * dt, -kMaxTiltDeg, kMaxTiltDeg);
  pitch_deg_ = std::clamp(pitch_deg_ + rate.y * dt, -kMaxTiltDeg, kMaxTiltDeg);
  const double roll = roll_deg_ * kDegToRad;
  const double pitch = pitch_deg_ * kDegToRad;
  const Vec3 linear = linear_acceleration(t_in_segment);

  // Warms up over minutes, then drifts slowly; the gyro bias follows it.
  const double temp_c = 24.0 + static_cast<double>(seed_ % 5) * 0.3 +
                        6.0 * (1.0 - std::exp(-t / 300.0)) + 0.3 * std::sin(kTwoPi * t / 900.0);
  const double warm = temp_c - 24.0;

  ImuSample sample;
  sample.ts_ns = static_cast<std::int64_t>(std::llround(t * 1e9));
  sample.accel_x = static_cast<float>(-kGravity * std::sin(pitch) + linear.x + accel_bias_.x +
                                      0.001 * warm + kAccelNoise * prng_.normal());
  sample.accel_y = static_cast<float>(kGravity * std::sin(roll) * std::cos(pitch) + linear.y +
                                      accel_bias_.y + 0.001 * warm + kAccelNoise * prng_.normal());
  sample.accel_z = static_cast<float>(kGravity * std::cos(roll) * std::cos(pitch) + linear.z +
                                      accel_bias_.z + 0.001 * warm + kAccelNoise * prng_.normal());
  sample.gyro_x =
      static_cast<float>(rate.x + gyro_bias_.x + 0.02 * warm + kGyroNoise * prng_.normal());
  sample.gyro_y =
      static_cast<float>(rate.y + gyro_bias_.y + 0.02 * warm + kGyroNoise * prng_.normal());
  sample.gyro_z =
      static_cast<float>(rate.z + gyro_bias_.z + 0.02 * warm + kGyroNoise * prng_.normal());
  sample.temp_c = static_cast<float>(temp_c + kTempNoise * prng_.normal());
  ++index_;
  return sample;
}

std::string SimSource::describe() const {
  std::string script;
  for (const Segment& segment : segments_) {
    script += fmt::format("{}{}={}", script.empty() ? "" : ",", motion_state_name(segment.state),
                          segment.seconds);
  }
  return fmt::format("sim seed {} script {}", seed_, script);
}

}  // namespace edgeperf::sensors
