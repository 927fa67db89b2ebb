#include <gtest/gtest.h>

#include <vector>

#include "edgeperf/bench/stats.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

TEST(Stats, KnownVector) {
  const std::vector<double> sample = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const Summary s = summarize(sample);
  EXPECT_EQ(s.n, 10u);
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  EXPECT_NEAR(s.stddev, 3.0276503540974917, 1e-12);
  EXPECT_DOUBLE_EQ(s.p50, 5.5);
  EXPECT_NEAR(s.p90, 9.1, 1e-12);   // numpy.percentile(range(1, 11), 90)
  EXPECT_NEAR(s.p95, 9.55, 1e-12);
  EXPECT_NEAR(s.p99, 9.91, 1e-12);
  // t(0.975, 9) = 2.2621571628
  EXPECT_NEAR(s.ci95_high - s.mean, 2.2621571628 * 3.0276503540974917 / std::sqrt(10.0), 1e-8);
  EXPECT_NEAR(s.cv, 3.0276503540974917 / 5.5, 1e-12);
  EXPECT_EQ(s.outliers, 0u);
}

TEST(Stats, SingleValue) {
  const std::vector<double> sample = {4.0};
  const Summary s = summarize(sample);
  EXPECT_EQ(s.stddev, 0);
  EXPECT_EQ(s.p99, 4.0);
  EXPECT_EQ(s.ci95_low, 4.0);
  EXPECT_EQ(s.ci95_high, 4.0);
}

TEST(Stats, TwoValues) {
  const std::vector<double> sample = {1.0, 3.0};
  const Summary s = summarize(sample);
  EXPECT_DOUBLE_EQ(s.p50, 2.0);
  EXPECT_DOUBLE_EQ(s.p90, 2.8);
  // t(0.975, 1) = 12.7062047362, stddev = sqrt(2)
  EXPECT_NEAR(s.ci95_high - 2.0, 12.7062047362 * std::sqrt(2.0) / std::sqrt(2.0), 1e-7);
}

TEST(Stats, EqualValuesHaveNoSpreadAndNoOutliers) {
  const std::vector<double> sample(50, 2.5);
  const Summary s = summarize(sample);
  EXPECT_EQ(s.stddev, 0);
  EXPECT_EQ(s.cv, 0);
  EXPECT_EQ(s.outliers, 0u);
  EXPECT_EQ(s.ci95_low, 2.5);
}

TEST(Stats, OutlierIsCounted) {
  std::vector<double> sample = {10, 10.1, 9.9, 10.2, 9.8, 10, 10.1, 9.9, 50};
  EXPECT_EQ(summarize(sample).outliers, 1u);
}

TEST(Stats, BadSamplesAreRejected) {
  EXPECT_THROW(summarize(std::vector<double>{}), Error);
  EXPECT_THROW(summarize(std::vector<double>{1.0, NAN}), Error);
}

TEST(Stats, StudentTQuantiles) {
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.7062047362, 1e-7);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.3026527297, 1e-8);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.0422724563, 1e-8);
  EXPECT_NEAR(student_t_quantile(0.975, 1e6), 1.9599663, 1e-5);
  EXPECT_NEAR(student_t_quantile(0.025, 9), -2.2621571628, 1e-8);
}

TEST(Stats, MannWhitneySeparatedSamples) {
  const std::vector<double> a = {1, 2, 3, 4, 5}, b = {6, 7, 8, 9, 10};
  const MannWhitney result = mann_whitney_u(a, b);
  EXPECT_EQ(result.u, 0);
  EXPECT_NEAR(result.p_value, 0.011925, 1e-3);  // scipy asymptotic, continuity corrected
}

TEST(Stats, MannWhitneyIdenticalSamples) {
  const std::vector<double> a = {1, 2, 3, 4}, b = {1, 2, 3, 4};
  EXPECT_NEAR(mann_whitney_u(a, b).p_value, 1.0, 1e-9);
  const std::vector<double> same(8, 3.0);
  EXPECT_EQ(mann_whitney_u(same, same).p_value, 1.0);
}

}  // namespace
}  // namespace edgeperf::bench
