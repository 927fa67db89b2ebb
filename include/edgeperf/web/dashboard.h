#pragma once
// Live IMU dashboard served over HTTP by the edgeperf binary (`edgeperf dashboard`).
//
// Pro view: an acquisition thread fills a RAM ring buffer (10 s of samples); pages
// get updates by Server-Sent Events. Student view: newest Parquet chunks of a
// directory that `edgeperf log` fills. Reports view: edgeperf.bench/1 JSON files.
// The pieces below are separate so unit tests can check them without a socket.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/sensors/source.h"

namespace edgeperf::web {

inline constexpr double kGravity = 9.80665;  // m/s^2

// Fixed-capacity ring of samples; every sample gets a sequence number (1, 2, ...)
// so readers can ask for "everything after the one I saw last". Thread-safe.
class SampleRing {
 public:
  explicit SampleRing(std::size_t capacity);
  void push(const sensors::ImuSample& sample);
  // Samples with sequence > after_seq still held, oldest first; *last_seq gets the
  // sequence of the newest sample held (unchanged when the ring is empty).
  std::vector<sensors::ImuSample> since(std::uint64_t after_seq, std::uint64_t* last_seq) const;
  // Samples whose ts_ns >= newest ts_ns - window_ns.
  std::vector<sensors::ImuSample> last_window(std::int64_t window_ns) const;
  std::optional<sensors::ImuSample> newest() const;
  std::uint64_t last_seq() const;
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<sensors::ImuSample> slots_;
  std::uint64_t next_seq_ = 1;  // sequence the next push gets
};

// Motion state from the RMS of the dynamic acceleration (m/s^2, |a| minus gravity)
// and the peak angular rate over the last second: SHAKING when the RMS is above
// shaking_above; STILL when the RMS is below still_below and the peak gyro below
// still_gyro_below (slow tilting barely changes |a| but does rotate); else MOVING.
struct MotionThresholds {
  double still_below = 0.15;
  double shaking_above = 2.0;
  double still_gyro_below = 10.0;  // deg/s
};
// Throws Error when a threshold is negative or still_below >= shaking_above.
void validate(const MotionThresholds& thresholds);
sensors::MotionState classify_motion(double rms_dynamic_accel, double peak_gyro_dps,
                                     const MotionThresholds& thresholds);

struct Kpis {
  std::size_t samples = 0;             // samples in the window
  double rms_dynamic_accel = 0;        // m/s^2: sqrt(mean((|a| - g)^2))
  double peak_gyro = 0;                // deg/s: largest |gyro| vector magnitude
  double temperature_c = 0;            // newest sample
  double pitch_deg = 0, roll_deg = 0;  // newest sample, from the accelerometer
  sensors::MotionState state = sensors::MotionState::still;
};
// KPIs over `window` (oldest first); zeros and STILL for an empty window.
Kpis compute_kpis(const std::vector<sensors::ImuSample>& window,
                  const MotionThresholds& thresholds);

// Maps a decoded URL path below an asset root to a file inside it. Returns nullopt
// (the server answers 404) for "..", ".", empty segments, backslashes, NUL, '%'
// left after decoding, or a resolved path that leaves the root (symlinks included).
std::optional<std::filesystem::path> resolve_asset(const std::filesystem::path& root,
                                                   const std::string& relative);

// Bounded count of concurrent stream clients. try_acquire returns a slot that
// releases itself when destroyed, or an empty slot when the limit is reached.
class ClientLimiter {
 public:
  class Slot {
   public:
    Slot() = default;
    explicit Slot(ClientLimiter* owner) : owner_(owner) {}
    Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }
    explicit operator bool() const { return owner_ != nullptr; }
    void release();

   private:
    ClientLimiter* owner_ = nullptr;
  };

  explicit ClientLimiter(std::size_t max_clients) : max_clients_(max_clients) {}
  Slot try_acquire();
  std::size_t active() const { return active_.load(); }
  std::size_t max_clients() const { return max_clients_; }

 private:
  std::size_t max_clients_;
  std::atomic<std::size_t> active_{0};
};

// The newest samples of a directory of IMU Parquet chunks (what `edgeperf log`
// writes). Malformed files are skipped with one stderr warning per file.
class ChunkWatcher {
 public:
  explicit ChunkWatcher(std::filesystem::path dir) : dir_(std::move(dir)) {}
  struct Series {
    std::vector<std::int64_t> ts_ns;
    std::vector<double> values;
    std::size_t files_read = 0;
    std::size_t files_skipped = 0;
  };
  // Rows of `axis` whose ts_ns is within `seconds` of the newest row on disk.
  Series read_recent(const std::string& axis, double seconds);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::mutex mutex_;
  std::vector<std::string> warned_;  // files already reported as malformed
};

// Columns a client may ask the student view for.
bool is_imu_axis(const std::string& axis);

struct DashboardOptions {
  std::string source = "sim";  // open_source spec, or parquet:DIR
  std::string bind = "127.0.0.1";
  int port = 8050;
  double rate_hz = 100;
  std::filesystem::path reports_dir;  // empty: no reports
  MotionThresholds thresholds;
  std::filesystem::path assets_dir;  // holds web/ and node_modules/; empty: located automatically
  std::size_t max_clients = 200;
  double min_event_interval_ms = 20;  // SSE pacing: at most 50 events/s per client
};

// Finds the directory holding web/pro.html and node_modules/uplot, walking up from
// the running binary, then the source tree it was built from. Throws Error if none.
std::filesystem::path locate_assets(const std::filesystem::path& hint);

// Serves until `stop` becomes true; throws Error when the port cannot be bound or
// the source cannot be opened.
void run_dashboard(const DashboardOptions& options, const std::atomic<bool>& stop);

}  // namespace edgeperf::web
