// swish (the ISA version this CPU runs, or the one EDGEPERF_MAX_ISA caps it to) against
// the scalar oracle: lengths around the vector widths, values across the range where
// e^-x is computed and beyond its clamps, and the special values.
#include "swish.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

namespace edgeperf::runtime::onednn {
namespace {

constexpr float kRelative = 3e-7f;

// Out of place and in place (y = x): both must match the oracle.
void expect_close_to_oracle(const std::vector<float>& x) {
  const auto count = static_cast<std::int64_t>(x.size());
  std::vector<float> expected(x.size()), actual(x.size() + 1, 7.0f), in_place = x;
  swish_scalar(x.data(), expected.data(), count);
  swish(x.data(), actual.data(), count);
  swish(in_place.data(), in_place.data(), count);
  EXPECT_EQ(actual.back(), 7.0f) << "wrote past the end";
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(in_place[i], actual[i]) << "x = " << x[i] << " at " << i;
    // Within 3e-7 of |y|, or 1e-30 where y underflows (x below about -87).
    const float tolerance = std::max(kRelative * std::abs(expected[i]), 1e-30f);
    ASSERT_NEAR(actual[i], expected[i], tolerance) << "x = " << x[i] << " at " << i;
  }
}

TEST(Swish, MatchesTheScalarOracle) {
  std::printf("swish ISA: %s\n", swish_isa());
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> wide(-100.0f, 100.0f);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  for (std::size_t count : {0, 1, 7, 8, 15, 16, 17, 33, 1000, 4099}) {
    std::vector<float> x(count);
    for (std::size_t i = 0; i < count; ++i) x[i] = i % 3 == 0 ? wide(rng) : normal(rng);
    SCOPED_TRACE(::testing::Message() << count << " values");
    expect_close_to_oracle(x);
  }
}

TEST(Swish, DenseSweepOfTheComputedRange) {
  std::vector<float> x;
  for (float v = -90.0f; v <= 90.0f; v += 0.0137f) x.push_back(v);
  expect_close_to_oracle(x);
}

TEST(Swish, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float tiny = std::numeric_limits<float>::denorm_min();
  for (bool vector_version : {false, true}) {
    std::vector<float> y = {0.0f, -0.0f, inf, -inf, nan, tiny, -tiny, 1e30f, -1e30f};
    const auto count = static_cast<std::int64_t>(y.size());
    vector_version ? swish(y.data(), y.data(), count) : swish_scalar(y.data(), y.data(), count);
    SCOPED_TRACE(vector_version ? "vector" : "scalar");
    EXPECT_EQ(y[0], 0.0f);
    EXPECT_EQ(y[1], 0.0f);
    EXPECT_EQ(y[2], inf);
    EXPECT_TRUE(std::isnan(y[3]));  // -inf * sigmoid(-inf) = -inf * 0
    EXPECT_TRUE(std::isnan(y[4]));
    EXPECT_EQ(y[5], tiny / 2);  // sigmoid(0) = 1/2
    EXPECT_EQ(y[6], -tiny / 2);
    EXPECT_EQ(y[7], 1e30f);
    EXPECT_EQ(y[8], -0.0f);
  }
}

TEST(Swish, DequantizedMatchesTheScalarOracle) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255);
  for (const Dequantization& dq :
       {Dequantization{0.07f, 0, false}, Dequantization{0.05f, 128, false},
        Dequantization{0.3f, 3, false}, Dequantization{0.07f, 0, true},
        Dequantization{0.1f, -5, true}}) {
    for (std::int64_t count : {0, 1, 15, 16, 17, 100, 1031}) {
      std::vector<std::uint8_t> q(static_cast<std::size_t>(count));
      for (std::uint8_t& v : q) v = static_cast<std::uint8_t>(byte(rng));
      std::vector<float> expected(q.size()), actual(q.size() + 1, 7.0f);
      swish_dequantized_scalar(q.data(), dq, expected.data(), count);
      swish_dequantized(q.data(), dq, actual.data(), count);
      SCOPED_TRACE(::testing::Message() << "scale " << dq.scale << " zero point " << dq.zero_point
                                        << (dq.is_signed ? " s8 " : " u8 ") << count);
      EXPECT_EQ(actual.back(), 7.0f) << "wrote past the end";
      for (std::size_t i = 0; i < q.size(); ++i) {
        ASSERT_NEAR(actual[i], expected[i], std::max(kRelative * std::abs(expected[i]), 1e-30f))
            << "q = " << int(q[i]) << " at " << i;
      }
    }
  }
}

TEST(Swish, DequantizedOracleIsTheFormula) {
  const std::uint8_t levels[] = {130, 120, 0xFB};  // 0xFB is -5 as int8
  float y[3];
  swish_dequantized_scalar(levels, {0.5f, 120, false}, y, 2);
  EXPECT_FLOAT_EQ(y[0], 5.0f / (1.0f + std::exp(-5.0f)));  // (130 - 120) * 0.5
  EXPECT_FLOAT_EQ(y[1], 0.0f);
  swish_dequantized_scalar(levels + 2, {0.5f, 1, true}, y, 1);
  EXPECT_FLOAT_EQ(y[0], -3.0f / (1.0f + std::exp(3.0f)));  // (-5 - 1) * 0.5
}

TEST(Swish, OracleIsTheFormula) {
  const float x[] = {1.0f, -2.0f, 0.5f};
  float y[3];
  swish_scalar(x, y, 3);
  EXPECT_FLOAT_EQ(y[0], 1.0f / (1.0f + std::exp(-1.0f)));
  EXPECT_FLOAT_EQ(y[1], -2.0f / (1.0f + std::exp(2.0f)));
  EXPECT_FLOAT_EQ(y[2], 0.5f / (1.0f + std::exp(-0.5f)));
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
