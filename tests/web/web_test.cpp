// Dashboard pieces without a socket: ring buffer, KPIs and motion thresholds, the
// asset path resolver (traversal), the stream client limit, malformed chunks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/error.h"
#include "edgeperf/sensors/logger.h"
#include "edgeperf/web/dashboard.h"

namespace edgeperf::web {
namespace {

namespace fs = std::filesystem;
using sensors::ImuSample;
using sensors::MotionState;

ImuSample sample_at(std::int64_t ts_ns, float ax = 0, float ay = 0, float az = kGravity) {
  ImuSample s;
  s.ts_ns = ts_ns;
  s.accel_x = ax;
  s.accel_y = ay;
  s.accel_z = az;
  s.temp_c = 25;
  return s;
}

TEST(SampleRing, ReturnsSamplesAfterASequenceInOrder) {
  SampleRing ring(4);
  std::uint64_t last = 0;
  EXPECT_TRUE(ring.since(0, &last).empty());
  EXPECT_FALSE(ring.newest().has_value());
  for (int i = 1; i <= 3; ++i) ring.push(sample_at(i));
  std::vector<ImuSample> got = ring.since(1, &last);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].ts_ns, 2);
  EXPECT_EQ(got[1].ts_ns, 3);
  EXPECT_EQ(last, 3u);
}

TEST(SampleRing, OverwritesOldestWhenFull) {
  SampleRing ring(4);
  for (int i = 1; i <= 10; ++i) ring.push(sample_at(i));
  std::uint64_t last = 0;
  std::vector<ImuSample> got = ring.since(0, &last);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got.front().ts_ns, 7);
  EXPECT_EQ(got.back().ts_ns, 10);
  EXPECT_EQ(last, 10u);
  EXPECT_EQ(ring.size(), 4u);
  EXPECT_EQ(ring.newest()->ts_ns, 10);
  EXPECT_TRUE(ring.since(10, &last).empty());
}

TEST(SampleRing, LastWindowIsRelativeToNewestTimestamp) {
  SampleRing ring(100);
  for (int i = 0; i < 50; ++i) ring.push(sample_at(i * 100));
  std::vector<ImuSample> window = ring.last_window(1000);
  ASSERT_EQ(window.size(), 11u);  // 3900 .. 4900
  EXPECT_EQ(window.front().ts_ns, 3900);
}

TEST(Kpis, GravityOnlyIsStillWithZeroRms) {
  std::vector<ImuSample> window(50, sample_at(0, 0, 0, kGravity));
  Kpis kpis = compute_kpis(window, MotionThresholds{});
  EXPECT_NEAR(kpis.rms_dynamic_accel, 0.0, 1e-5);
  EXPECT_EQ(kpis.state, MotionState::still);
  EXPECT_NEAR(kpis.pitch_deg, 0.0, 1e-6);
  EXPECT_NEAR(kpis.roll_deg, 0.0, 1e-6);
  EXPECT_EQ(kpis.samples, 50u);
}

TEST(Kpis, RmsOfDynamicPartAndPeakGyro) {
  // |a| alternates g+3 and g-3: the dynamic part has RMS 3.
  std::vector<ImuSample> window;
  for (int i = 0; i < 10; ++i) {
    ImuSample s = sample_at(i, 0, 0, static_cast<float>(kGravity + (i % 2 ? 3 : -3)));
    s.gyro_x = 3;
    s.gyro_y = 4;               // magnitude 5
    if (i == 4) s.gyro_z = 12;  // magnitude 13
    s.temp_c = 20.0f + i;
    window.push_back(s);
  }
  Kpis kpis = compute_kpis(window, MotionThresholds{0.3, 2.5, 10.0});
  EXPECT_NEAR(kpis.rms_dynamic_accel, 3.0, 1e-4);
  EXPECT_NEAR(kpis.peak_gyro, 13.0, 1e-4);
  EXPECT_NEAR(kpis.temperature_c, 29.0, 1e-6);
  EXPECT_EQ(kpis.state, MotionState::shaking);
}

TEST(Kpis, PitchAndRollFromGravityDirection) {
  // Gravity along +y: rolled 90 degrees.
  Kpis rolled = compute_kpis({sample_at(0, 0, kGravity, 0)}, MotionThresholds{});
  EXPECT_NEAR(rolled.roll_deg, 90.0, 1e-4);
  // Gravity along -x: pitched up 90 degrees.
  Kpis pitched = compute_kpis({sample_at(0, -kGravity, 0, 0)}, MotionThresholds{});
  EXPECT_NEAR(pitched.pitch_deg, 90.0, 1e-4);
}

TEST(Kpis, EmptyWindowIsZeroAndStill) {
  Kpis kpis = compute_kpis({}, MotionThresholds{});
  EXPECT_EQ(kpis.samples, 0u);
  EXPECT_EQ(kpis.state, MotionState::still);
}

TEST(MotionThresholds, ClassifiesAroundBothThresholds) {
  MotionThresholds t{0.5, 2.0, 10.0};
  EXPECT_EQ(classify_motion(0.0, 0.0, t), MotionState::still);
  EXPECT_EQ(classify_motion(0.49, 9.9, t), MotionState::still);
  EXPECT_EQ(classify_motion(0.49, 10.0, t), MotionState::moving);  // slow tilting
  EXPECT_EQ(classify_motion(0.5, 0.0, t), MotionState::moving);
  EXPECT_EQ(classify_motion(2.0, 0.0, t), MotionState::moving);
  EXPECT_EQ(classify_motion(2.01, 0.0, t), MotionState::shaking);
  EXPECT_EQ(classify_motion(2.01, 300.0, t), MotionState::shaking);
}

TEST(MotionThresholds, RejectsInvertedOrNegative) {
  EXPECT_THROW(validate(MotionThresholds{2.0, 1.0}), Error);
  EXPECT_THROW(validate(MotionThresholds{1.0, 1.0}), Error);
  EXPECT_THROW(validate(MotionThresholds{-1.0, 1.0}), Error);
  EXPECT_THROW(validate(MotionThresholds{0.1, 1.0, -1.0}), Error);
  EXPECT_NO_THROW(validate(MotionThresholds{0.3, 2.5}));
}

class AssetRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("ep_web_test_" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_ / "root" / "sub");
    std::ofstream(base_ / "root" / "index.html") << "hi";
    std::ofstream(base_ / "root" / "sub" / "a.js") << "x";
    std::ofstream(base_ / "secret.txt") << "secret";
    fs::create_symlink(base_ / "secret.txt", base_ / "root" / "link.txt");
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path root() const { return base_ / "root"; }
  fs::path base_;
};

TEST_F(AssetRoot, ResolvesFilesInsideTheRoot) {
  ASSERT_TRUE(resolve_asset(root(), "index.html").has_value());
  ASSERT_TRUE(resolve_asset(root(), "sub/a.js").has_value());
  EXPECT_EQ(resolve_asset(root(), "sub/a.js")->filename(), "a.js");
}

TEST_F(AssetRoot, RejectsTraversalAndOddPaths) {
  const std::vector<std::string> bad_paths = {"../secret.txt",
                                              "sub/../../secret.txt",
                                              "..",
                                              ".",
                                              "sub/./a.js",
                                              "/etc/passwd",
                                              "%2e%2e/secret.txt",
                                              "%2e%2e%2fsecret.txt",
                                              "..%2fsecret.txt",
                                              "%252e%252e%252f",
                                              "..\\secret.txt",
                                              "sub//a.js",
                                              "",
                                              "sub",
                                              "missing.html",
                                              "link.txt",
                                              std::string("index.html\0.png", 15)};
  for (const std::string& bad : bad_paths) {
    EXPECT_FALSE(resolve_asset(root(), bad).has_value()) << "accepted '" << bad << "'";
  }
}

TEST(ClientLimiter, RefusesBeyondLimitAndReleasesOnDestruction) {
  ClientLimiter limiter(2);
  {
    ClientLimiter::Slot a = limiter.try_acquire();
    ClientLimiter::Slot b = limiter.try_acquire();
    ClientLimiter::Slot c = limiter.try_acquire();
    EXPECT_TRUE(a);
    EXPECT_TRUE(b);
    EXPECT_FALSE(c);
    EXPECT_EQ(limiter.active(), 2u);
    ClientLimiter::Slot moved = std::move(a);
    EXPECT_EQ(limiter.active(), 2u);
    moved.release();
    EXPECT_EQ(limiter.active(), 1u);
    EXPECT_TRUE(limiter.try_acquire());  // acquired and released at once
    EXPECT_EQ(limiter.active(), 1u);
  }
  EXPECT_EQ(limiter.active(), 0u);
}

TEST(ImuAxis, OnlyLogColumns) {
  EXPECT_TRUE(is_imu_axis("accel_x"));
  EXPECT_TRUE(is_imu_axis("temp_c"));
  EXPECT_FALSE(is_imu_axis("ts_ns"));
  EXPECT_FALSE(is_imu_axis("../x"));
}

// An IMU chunk of `rows` rows, ts_ns = first_ts + i * step, every float column = value.
columnar::Table imu_chunk(std::size_t rows, std::int64_t first_ts, std::int64_t step, float value) {
  columnar::Table table;
  table.schema = sensors::imu_schema();
  for (const columnar::Field& field : table.schema) {
    if (field.type == columnar::PhysicalType::int64) {
      std::vector<std::int64_t> ts;
      for (std::size_t i = 0; i < rows; ++i)
        ts.push_back(first_ts + static_cast<std::int64_t>(i) * step);
      table.columns.emplace_back(ts);
    } else if (field.type == columnar::PhysicalType::int32) {
      table.columns.emplace_back(std::vector<std::int32_t>(rows, 0));
    } else {
      table.columns.emplace_back(std::vector<float>(rows, value));
    }
  }
  return table;
}

class ChunkDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ep_web_chunks_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "date=2026-01-01");
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path part(const std::string& name) const { return dir_ / "date=2026-01-01" / name; }
  fs::path dir_;
};

TEST_F(ChunkDir, SkipsMalformedChunksAndReadsTheRest) {
  const std::size_t rows = 5;
  columnar::write_parquet(part("part-1000000000-0.parquet"),
                          imu_chunk(rows, 1'000'000'000, 100'000'000, 1.5f));
  std::ofstream(part("part-9000000000-1.parquet")) << "not parquet";
  std::ofstream(part("part-9500000000-2.parquet.tmp-123")) << "being written";
  ChunkWatcher watcher(dir_);
  ChunkWatcher::Series series = watcher.read_recent("accel_x", 30);
  EXPECT_EQ(series.files_skipped, 1u);
  EXPECT_EQ(series.files_read, 1u);
  ASSERT_EQ(series.values.size(), rows);
  EXPECT_FLOAT_EQ(series.values[0], 1.5f);
  // Window relative to the newest row: 0.25 s keeps the last three rows.
  EXPECT_EQ(watcher.read_recent("accel_x", 0.25).values.size(), 3u);
  EXPECT_THROW(watcher.read_recent("ts_ns", 1), Error);
}

TEST_F(ChunkDir, OverlappingChunksComeBackInTimeOrder) {
  columnar::write_parquet(part("part-1000000000-0.parquet"),
                          imu_chunk(4, 1'000'000'000, 100'000'000, 1.0f));
  columnar::write_parquet(part("part-1050000000-0.parquet"),
                          imu_chunk(4, 1'050'000'000, 100'000'000, 2.0f));
  ChunkWatcher::Series series = ChunkWatcher(dir_).read_recent("gyro_z", 30);
  ASSERT_EQ(series.ts_ns.size(), 8u);
  EXPECT_TRUE(std::is_sorted(series.ts_ns.begin(), series.ts_ns.end()));
  EXPECT_FLOAT_EQ(series.values[0], 1.0f);
  EXPECT_FLOAT_EQ(series.values[1], 2.0f);
}

}  // namespace
}  // namespace edgeperf::web
