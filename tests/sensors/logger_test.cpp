#include "edgeperf/sensors/logger.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>

#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/sensors/replay_source.h"
#include "edgeperf/sensors/sim_source.h"

namespace edgeperf::sensors {
namespace {

namespace fs = std::filesystem;

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(fs::temp_directory_path() /
              ("ep_sensors_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

LoggerOptions fast_options(const fs::path& out) {
  LoggerOptions options;
  options.rate_hz = 200;
  options.out_dir = out;
  options.chunk_rows = 50;
  options.duration_seconds = 1;
  return options;
}

TEST(LoggerOptions, RejectsOutOfRangeValues) {
  LoggerOptions options = fast_options("/tmp/unused");
  EXPECT_NO_THROW(validate(options));
  for (double rate : {0.0, -5.0, 10000.5, 1e9, std::nan("")}) {
    options.rate_hz = rate;
    EXPECT_THROW(validate(options), Error) << rate;
  }
  options.rate_hz = 10000;
  EXPECT_NO_THROW(validate(options));
  options.chunk_seconds = 5;
  EXPECT_THROW(validate(options), Error);  // both chunk options
  options.chunk_rows = 0;
  EXPECT_NO_THROW(validate(options));
  EXPECT_EQ(chunk_rows_for(options), 50000u);
  options.chunk_seconds = -1;
  EXPECT_THROW(validate(options), Error);
  options.chunk_seconds = 86400;  // 864M rows at 10 kHz
  EXPECT_THROW(validate(options), Error);
  options.chunk_seconds = 0;
  options.chunk_rows = 20'000'000;
  EXPECT_THROW(validate(options), Error);
  options.chunk_rows = 0;
  EXPECT_EQ(chunk_rows_for(options), 100000u);  // default: 10 s of samples
  options.duration_seconds = -1;
  EXPECT_THROW(validate(options), Error);
}

TEST(Logger, WritesChunksThatReplayInOrderWithTheSimulatedValues) {
  ScratchDir dir("roundtrip");
  SimSource sim(11, default_motion_script());
  std::atomic<bool> stop{false};
  LoggerOptions options = fast_options(dir.path());
  options.sensor_id = 7;
  const LoggerStats stats = run_logger(sim, options, stop);
  ASSERT_TRUE(stats.error.empty()) << stats.error;
  EXPECT_EQ(stats.samples, 200u);
  EXPECT_EQ(stats.rows_written, 200u);
  EXPECT_EQ(stats.dropped_samples, 0u);
  ASSERT_EQ(stats.chunks.size(), 4u);
  for (const ChunkRecord& chunk : stats.chunks) {
    EXPECT_EQ(chunk.rows, 50u);
    EXPECT_EQ(chunk.path.rfind("date=", 0), 0u) << chunk.path;
    EXPECT_TRUE(fs::is_regular_file(dir.path() / chunk.path)) << chunk.path;
  }

  ReplaySource replay(dir.path());
  EXPECT_EQ(replay.files().size(), 4u);
  EXPECT_EQ(replay.total_rows(), 200u);
  SimSource reference(11, default_motion_script());
  reference.start(200);
  std::int64_t previous_ts = 0;
  for (int row = 0; row < 200; ++row) {
    const auto got = replay.read();
    const auto want = reference.read();
    ASSERT_TRUE(got.has_value()) << row;
    EXPECT_GT(got->ts_ns, previous_ts) << row;
    previous_ts = got->ts_ns;
    EXPECT_EQ(got->sensor_id, 7);
    EXPECT_EQ(got->accel_x, want->accel_x) << row;
    EXPECT_EQ(got->gyro_y, want->gyro_y) << row;
    EXPECT_EQ(got->temp_c, want->temp_c) << row;
  }
  EXPECT_FALSE(replay.read().has_value());
  EXPECT_TRUE(replay.exhausted());
}

TEST(Logger, ReplaySourceIsLoggedWithItsOwnTimestamps) {
  ScratchDir first("replay_in"), second("replay_out");
  SimSource sim(5, default_motion_script());
  std::atomic<bool> stop{false};
  const LoggerStats original = run_logger(sim, fast_options(first.path()), stop);
  ASSERT_TRUE(original.error.empty()) << original.error;

  ReplaySource replay(first.path());
  LoggerOptions options = fast_options(second.path());
  options.rate_hz = 2000;
  options.duration_seconds = 0;  // until the replay ends
  const LoggerStats copy = run_logger(replay, options, stop);
  ASSERT_TRUE(copy.error.empty()) << copy.error;
  EXPECT_EQ(copy.rows_written, 200u);
  const auto a = read_imu_parquet(first.path() / original.chunks[0].path);
  const auto b = read_imu_parquet(second.path() / copy.chunks[0].path);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.front().ts_ns, b.front().ts_ns);
  EXPECT_EQ(a.back().accel_z, b.back().accel_z);
}

TEST(Logger, UnwritableOutputIsReportedNamingThePath) {
  ScratchDir dir("unwritable");
  const fs::path blocker = dir.path() / "a_file";
  std::ofstream(blocker) << "not a directory";
  SimSource sim(1, default_motion_script());
  std::atomic<bool> stop{false};
  const LoggerStats stats = run_logger(sim, fast_options(blocker / "logs"), stop);
  EXPECT_NE(stats.error.find("a_file"), std::string::npos) << stats.error;
  EXPECT_TRUE(stats.chunks.empty());
}

// Yields a sample on every other read and runs dry after `limit` reads.
class FlakySource final : public Source {
 public:
  explicit FlakySource(int limit) : limit_(limit) {}
  void start(double) override {}
  std::optional<ImuSample> read() override {
    ++reads_;
    if (reads_ > limit_ || reads_ % 2 == 0) return std::nullopt;
    ImuSample sample;
    sample.accel_z = static_cast<float>(reads_);
    return sample;
  }
  bool exhausted() const override { return reads_ >= limit_; }
  std::string describe() const override { return "flaky"; }

 private:
  int limit_;
  int reads_ = 0;
};

TEST(Logger, CountsTicksWithoutASampleAndStopsWhenTheSourceEnds) {
  ScratchDir dir("flaky");
  FlakySource source(21);
  std::atomic<bool> stop{false};
  LoggerOptions options = fast_options(dir.path());
  options.duration_seconds = 0;
  options.rate_hz = 1000;
  const LoggerStats stats = run_logger(source, options, stop);
  ASSERT_TRUE(stats.error.empty()) << stats.error;
  EXPECT_EQ(stats.samples, 11u);
  EXPECT_EQ(stats.source_misses, 10u);
  EXPECT_EQ(stats.rows_written, 11u);
}

TEST(Logger, StopRequestFlushesWhatWasTaken) {
  ScratchDir dir("stop");
  SimSource sim(1, default_motion_script());
  std::atomic<bool> stop{true};
  LoggerOptions options = fast_options(dir.path());
  options.duration_seconds = 0;
  const LoggerStats stats = run_logger(sim, options, stop);
  EXPECT_TRUE(stats.stopped_by_request);
  EXPECT_EQ(stats.samples, 0u);
  EXPECT_TRUE(stats.chunks.empty());
}

TEST(Logger, SidecarJsonCarriesTheCounters) {
  LoggerStats stats;
  stats.samples = 12;
  stats.dropped_samples = 1;
  stats.source.i2c_retries = 3;
  stats.chunks.push_back({"date=2026-01-01/part-1-000000.parquet", 12});
  stats.error = "x.parquet: write failed";
  LoggerOptions options = fast_options("/tmp/out");
  const std::string json = logger_stats_json(stats, options, "sim:1", "failed");
  for (const char* needle :
       {"\"samples\": 12", "\"dropped_samples\": 1", "\"retries\": 3", "\"status\": \"failed\"",
        "x.parquet: write failed", "part-1-000000"}) {
    EXPECT_NE(json.find(needle), std::string::npos) << needle << "\n" << json;
  }
  EXPECT_EQ(sidecar_path(options, 99), fs::path("/tmp/out/log-99.json"));
}

TEST(Logger, FifoSourceIsReadInBurstsStampedOnTheRateSchedule) {
  ScratchDir dir("burst");
  SimSource sim(3, default_motion_script());
  std::atomic<bool> stop{false};
  LoggerOptions options = fast_options(dir.path());
  options.rate_hz = 1000;
  options.wake_hz = 100;
  options.duration_seconds = 0.205;  // 205 samples: the last burst is cut short
  options.chunk_rows = 1000;
  const LoggerStats stats = run_logger(sim, options, stop);
  ASSERT_TRUE(stats.error.empty()) << stats.error;
  EXPECT_EQ(stats.burst, 10u);
  EXPECT_EQ(stats.samples, 205u);
  EXPECT_EQ(stats.wakeups, 21u);
  const auto rows = read_imu_parquet(dir.path() / stats.chunks.at(0).path);
  ASSERT_EQ(rows.size(), 205u);
  // Within a burst the stamps are exactly one period apart; across bursts they stay
  // on the schedule up to the wake-up jitter.
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::int64_t step = rows[i].ts_ns - rows[i - 1].ts_ns;
    if (i % 10 != 0) {
      EXPECT_EQ(step, 1'000'000) << i;
    } else {
      EXPECT_GT(step, 0) << i;
    }
  }
  const std::int64_t span = rows.back().ts_ns - rows.front().ts_ns;
  EXPECT_NEAR(static_cast<double>(span), 204e6, 20e6);
}

TEST(Logger, SourceWithoutFifoIsReadOncePerSample) {
  ScratchDir dir("noburst");
  FlakySource source(0);
  std::atomic<bool> stop{false};
  LoggerOptions options = fast_options(dir.path());
  options.duration_seconds = 0;
  options.rate_hz = 1000;
  const LoggerStats stats = run_logger(source, options, stop);
  EXPECT_EQ(stats.burst, 1u);
}

TEST(LoggerOptions, RejectsANonPositiveWakeRate) {
  LoggerOptions options = fast_options("/tmp/unused");
  options.wake_hz = 0;
  EXPECT_THROW(validate(options), Error);
  options.wake_hz = std::nan("");
  EXPECT_THROW(validate(options), Error);
}

}  // namespace
}  // namespace edgeperf::sensors
