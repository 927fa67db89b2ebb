// Ring buffer, KPIs, motion thresholds, asset path resolution and the client limit.
#include <algorithm>
#include <cmath>

#include "edgeperf/core/error.h"
#include "edgeperf/web/dashboard.h"

namespace edgeperf::web {

using sensors::ImuSample;
using sensors::MotionState;

SampleRing::SampleRing(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {
  slots_.resize(capacity_);
}

void SampleRing::push(const ImuSample& sample) {
  std::lock_guard lock(mutex_);
  slots_[next_seq_ % capacity_] = sample;
  ++next_seq_;
}

std::vector<ImuSample> SampleRing::since(std::uint64_t after_seq, std::uint64_t* last_seq) const {
  std::lock_guard lock(mutex_);
  const std::uint64_t newest = next_seq_ - 1;
  const std::uint64_t oldest_held = next_seq_ > capacity_ ? next_seq_ - capacity_ : 1;
  std::vector<ImuSample> out;
  if (newest == 0) return out;
  *last_seq = newest;
  for (std::uint64_t seq = std::max(after_seq + 1, oldest_held); seq <= newest; ++seq) {
    out.push_back(slots_[seq % capacity_]);
  }
  return out;
}

std::vector<ImuSample> SampleRing::last_window(std::int64_t window_ns) const {
  std::lock_guard lock(mutex_);
  std::vector<ImuSample> out;
  const std::uint64_t held = std::min<std::uint64_t>(next_seq_ - 1, capacity_);
  if (held == 0) return out;
  const std::int64_t from = slots_[(next_seq_ - 1) % capacity_].ts_ns - window_ns;
  std::uint64_t count = 0;  // newest samples inside the window, walking backwards
  while (count < held && slots_[(next_seq_ - 1 - count) % capacity_].ts_ns >= from) ++count;
  out.reserve(count);
  for (std::uint64_t seq = next_seq_ - count; seq < next_seq_; ++seq) {
    out.push_back(slots_[seq % capacity_]);
  }
  return out;
}

std::optional<ImuSample> SampleRing::newest() const {
  std::lock_guard lock(mutex_);
  if (next_seq_ == 1) return std::nullopt;
  return slots_[(next_seq_ - 1) % capacity_];
}

std::uint64_t SampleRing::last_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_ - 1;
}

std::size_t SampleRing::size() const {
  std::lock_guard lock(mutex_);
  return std::min<std::size_t>(next_seq_ - 1, capacity_);
}

void validate(const MotionThresholds& thresholds) {
  EP_CHECK(thresholds.still_below >= 0, "--still-below must be >= 0, got {}",
           thresholds.still_below);
  EP_CHECK(thresholds.still_below < thresholds.shaking_above,
           "--still-below ({}) must be less than --shaking-above ({})", thresholds.still_below,
           thresholds.shaking_above);
  EP_CHECK(thresholds.still_gyro_below >= 0, "--still-gyro-below must be >= 0, got {}",
           thresholds.still_gyro_below);
}

MotionState classify_motion(double rms_dynamic_accel, double peak_gyro_dps,
                            const MotionThresholds& thresholds) {
  if (rms_dynamic_accel > thresholds.shaking_above) return MotionState::shaking;
  if (rms_dynamic_accel < thresholds.still_below && peak_gyro_dps < thresholds.still_gyro_below) {
    return MotionState::still;
  }
  return MotionState::moving;
}

Kpis compute_kpis(const std::vector<ImuSample>& window, const MotionThresholds& thresholds) {
  Kpis kpis;
  if (window.empty()) return kpis;
  double sum_squares = 0;
  for (const ImuSample& s : window) {
    const double magnitude =
        std::sqrt(double{s.accel_x} * s.accel_x + double{s.accel_y} * s.accel_y +
                  double{s.accel_z} * s.accel_z);
    const double dynamic = magnitude - kGravity;
    sum_squares += dynamic * dynamic;
    const double gyro = std::sqrt(double{s.gyro_x} * s.gyro_x + double{s.gyro_y} * s.gyro_y +
                                  double{s.gyro_z} * s.gyro_z);
    kpis.peak_gyro = std::max(kpis.peak_gyro, gyro);
  }
  const ImuSample& newest = window.back();
  kpis.samples = window.size();
  kpis.rms_dynamic_accel = std::sqrt(sum_squares / static_cast<double>(window.size()));
  kpis.temperature_c = newest.temp_c;
  constexpr double kDegPerRad = 180.0 / 3.14159265358979323846;
  kpis.roll_deg = std::atan2(newest.accel_y, newest.accel_z) * kDegPerRad;
  kpis.pitch_deg = std::atan2(-double{newest.accel_x},
                              std::hypot(double{newest.accel_y}, double{newest.accel_z})) *
                   kDegPerRad;
  kpis.state = classify_motion(kpis.rms_dynamic_accel, kpis.peak_gyro, thresholds);
  return kpis;
}

std::optional<std::filesystem::path> resolve_asset(const std::filesystem::path& root,
                                                   const std::string& relative) {
  if (relative.empty() || relative.size() > 1024) return std::nullopt;
  if (relative.find_first_of(std::string("\\%\0", 3)) != std::string::npos) return std::nullopt;
  std::filesystem::path joined = root;
  std::size_t begin = 0;
  while (begin <= relative.size()) {
    std::size_t end = relative.find('/', begin);
    if (end == std::string::npos) end = relative.size();
    const std::string segment = relative.substr(begin, end - begin);
    if (segment.empty() || segment == "." || segment == "..") return std::nullopt;
    joined /= segment;
    begin = end + 1;
  }
  std::error_code error;
  const std::filesystem::path canonical_root = std::filesystem::canonical(root, error);
  if (error) return std::nullopt;
  const std::filesystem::path canonical = std::filesystem::canonical(joined, error);
  if (error || !std::filesystem::is_regular_file(canonical, error)) return std::nullopt;
  // Symlinks must not lead out of the root.
  auto [root_end, unused] = std::mismatch(canonical_root.begin(), canonical_root.end(),
                                          canonical.begin(), canonical.end());
  if (root_end != canonical_root.end()) return std::nullopt;
  return canonical;
}

ClientLimiter::Slot& ClientLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

void ClientLimiter::Slot::release() {
  if (owner_ != nullptr) owner_->active_.fetch_sub(1);
  owner_ = nullptr;
}

ClientLimiter::Slot ClientLimiter::try_acquire() {
  std::size_t current = active_.load();
  while (current < max_clients_) {
    if (active_.compare_exchange_weak(current, current + 1)) return Slot(this);
  }
  return Slot();
}

bool is_imu_axis(const std::string& axis) {
  static constexpr const char* kAxes[] = {"accel_x", "accel_y", "accel_z", "gyro_x",
                                          "gyro_y",  "gyro_z",  "temp_c"};
  return std::any_of(std::begin(kAxes), std::end(kAxes),
                     [&axis](const char* name) { return axis == name; });
}

}  // namespace edgeperf::web
