#include "edgeperf/sensors/sim_source.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "edgeperf/core/error.h"

namespace edgeperf::sensors {
namespace {

constexpr double kGravity = 9.80665;

std::vector<ImuSample> take(SimSource& sim, std::size_t count) {
  std::vector<ImuSample> samples;
  for (std::size_t i = 0; i < count; ++i) samples.push_back(*sim.read());
  return samples;
}

struct MotionStats {
  double mean_accel_norm = 0;
  double accel_norm_rms_deviation = 0;  // RMS of |a| - g
  double gyro_rms = 0;                  // RMS over all three axes
  double max_abs_gyro_mean = 0;         // largest per-axis mean
};

MotionStats motion_stats(const std::vector<ImuSample>& samples) {
  MotionStats stats;
  double deviation_sq = 0, gyro_sq = 0;
  double gyro_sum[3] = {0, 0, 0};
  for (const ImuSample& s : samples) {
    const double norm = std::sqrt(double{s.accel_x} * s.accel_x + double{s.accel_y} * s.accel_y +
                                  double{s.accel_z} * s.accel_z);
    stats.mean_accel_norm += norm;
    deviation_sq += (norm - kGravity) * (norm - kGravity);
    gyro_sq +=
        double{s.gyro_x} * s.gyro_x + double{s.gyro_y} * s.gyro_y + double{s.gyro_z} * s.gyro_z;
    gyro_sum[0] += s.gyro_x;
    gyro_sum[1] += s.gyro_y;
    gyro_sum[2] += s.gyro_z;
  }
  const auto n = static_cast<double>(samples.size());
  stats.mean_accel_norm /= n;
  stats.accel_norm_rms_deviation = std::sqrt(deviation_sq / n);
  stats.gyro_rms = std::sqrt(gyro_sq / (3 * n));
  for (double sum : gyro_sum)
    stats.max_abs_gyro_mean = std::max(stats.max_abs_gyro_mean, std::abs(sum / n));
  return stats;
}

std::unique_ptr<SimSource> make_sim(std::uint64_t seed, const std::string& script,
                                    double rate = 200) {
  auto sim = std::make_unique<SimSource>(seed, parse_motion_script(script));
  sim->start(rate);
  return sim;
}

TEST(Prng, SameSeedSameSequenceAndUnitNormal) {
  Prng a(5), b(5), c(6);
  EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(a.next(), c.next());
  double sum = 0, sum_sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = a.normal();
    sum += x;
    sum_sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.02);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
}

TEST(SimSource, DeterministicForASeed) {
  auto a = make_sim(42, "still=1,shaking=1,moving=1");
  auto b = make_sim(42, "still=1,shaking=1,moving=1");
  auto other = make_sim(43, "still=1,shaking=1,moving=1");
  const auto first = take(*a, 1000), second = take(*b, 1000), third = take(*other, 1000);
  bool differs = false;
  for (std::size_t i = 0; i < first.size(); ++i) {
    ASSERT_EQ(first[i].ts_ns, second[i].ts_ns);
    ASSERT_EQ(first[i].accel_x, second[i].accel_x) << "row " << i;
    ASSERT_EQ(first[i].gyro_z, second[i].gyro_z) << "row " << i;
    ASSERT_EQ(first[i].temp_c, second[i].temp_c) << "row " << i;
    differs |= first[i].accel_x != third[i].accel_x;
  }
  EXPECT_TRUE(differs);
}

TEST(SimSource, StillMeasuresGravityAndNoRotation) {
  auto sim = make_sim(1, "still=10");
  const MotionStats stats = motion_stats(take(*sim, 2000));
  EXPECT_NEAR(stats.mean_accel_norm, kGravity, 0.2);
  EXPECT_LT(stats.accel_norm_rms_deviation, 0.25);
  EXPECT_LT(stats.max_abs_gyro_mean, 1.0);  // bias only
  EXPECT_LT(stats.gyro_rms, 1.0);
  EXPECT_EQ(sim->state(), MotionState::still);
}

TEST(SimSource, ShakingHasHighRms) {
  auto sim = make_sim(1, "shaking=10");
  const MotionStats stats = motion_stats(take(*sim, 2000));
  EXPECT_GT(stats.accel_norm_rms_deviation, 2.0);
  EXPECT_GT(stats.gyro_rms, 50.0);
  EXPECT_EQ(sim->motion_state(), MotionState::shaking);
}

TEST(SimSource, MovingIsBetweenStillAndShaking) {
  auto sim = make_sim(1, "moving=10");
  const MotionStats stats = motion_stats(take(*sim, 2000));
  EXPECT_GT(stats.gyro_rms, 3.0);
  EXPECT_LT(stats.gyro_rms, 50.0);
  EXPECT_LT(stats.accel_norm_rms_deviation, 2.0);
  EXPECT_NEAR(stats.mean_accel_norm, kGravity, 1.0);
}

TEST(SimSource, FollowsScriptAndRepeatsIt) {
  auto sim = make_sim(3, "still=1,shaking=0.5,moving=1", 100);
  const std::vector<std::pair<int, MotionState>> expected = {
      {0, MotionState::still},     {99, MotionState::still},   {100, MotionState::shaking},
      {149, MotionState::shaking}, {150, MotionState::moving}, {249, MotionState::moving},
      {250, MotionState::still},   {350, MotionState::shaking}};
  std::size_t next = 0;
  for (int i = 0; i <= 350; ++i) {
    sim->read();
    if (next < expected.size() && expected[next].first == i) {
      EXPECT_EQ(sim->state(), expected[next].second) << "sample " << i;
      EXPECT_EQ(sim->state_at(i / 100.0), expected[next].second) << "sample " << i;
      ++next;
    }
  }
  EXPECT_EQ(next, expected.size());
}

TEST(SimSource, TemperatureDriftsSlowlyAndPlausibly) {
  auto sim = make_sim(9, "still=1000", 10);
  const auto samples = take(*sim, 6000);  // ten simulated minutes
  EXPECT_GT(samples.front().temp_c, 15.0f);
  EXPECT_LT(samples.front().temp_c, 35.0f);
  EXPECT_GT(samples.back().temp_c, samples.front().temp_c + 1.0f);  // warmed up
  for (std::size_t i = 1; i < samples.size(); ++i) {
    ASSERT_LT(std::abs(samples[i].temp_c - samples[i - 1].temp_c), 0.2f) << "sample " << i;
  }
}

TEST(SimScript, ParsesAndRejects) {
  const auto script = parse_motion_script("still=2, shaking=3,moving=0.5");
  ASSERT_EQ(script.size(), 3u);
  EXPECT_EQ(script[1].state, MotionState::shaking);
  EXPECT_DOUBLE_EQ(script[2].seconds, 0.5);
  for (const char* bad : {"", "still", "still=0", "still=-1", "still=abc", "jumping=2", "still=2,",
                          "still=1e9", "still=nan"}) {
    EXPECT_THROW(parse_motion_script(bad), Error) << bad;
  }
  try {
    parse_motion_script("still=2,jumping=3");
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("jumping"), std::string::npos);
  }
}

}  // namespace
}  // namespace edgeperf::sensors
