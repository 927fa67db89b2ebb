// channel_affine (the ISA version this CPU runs, or the one EDGEPERF_MAX_ISA caps it to)
// against the scalar oracle: dense rows of every vector lane count, strided rows (a
// channels-last slice), pixel counts around the vector widths, ReLU, leaky ReLU and none.
#include "channel_affine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

namespace edgeperf::runtime::onednn {
namespace {

struct Case {
  std::int64_t lanes, x_stride, y_stride;
};

TEST(ChannelAffine, MatchesTheScalarOracle) {
  std::printf("channel affine ISA: %s\n", channel_affine_isa());
  std::mt19937 rng(9);
  std::normal_distribution<float> normal;
  for (const Case& shape : {Case{16, 16, 16}, Case{8, 8, 8}, Case{1, 1, 1}, Case{3, 3, 3},
                            Case{32, 32, 96}, Case{5, 7, 12}}) {
    std::vector<float> scale(static_cast<std::size_t>(shape.lanes)), shift(scale.size());
    for (float& s : scale) s = normal(rng);
    for (float& s : shift) s = normal(rng);
    for (std::int64_t pixels : {0, 1, 7, 15, 16, 17, 49, 3136}) {
      std::vector<float> x(static_cast<std::size_t>(pixels * shape.x_stride));
      for (float& v : x) v = normal(rng);
      for (const auto& [relu, slope] : {std::pair{false, 0.0f}, {true, 0.0f}, {true, 0.1f}}) {
        const ChannelAffine affine{scale.data(), shift.data(), relu, slope};
        // One float past the rows, and the gaps between strided rows, must stay untouched.
        std::vector<float> expected(static_cast<std::size_t>(pixels * shape.y_stride) + 1, 7.0f);
        std::vector<float> actual = expected;
        channel_affine_scalar(affine, {x.data(), shape.x_stride, expected.data(), shape.y_stride,
                                       pixels, shape.lanes});
        channel_affine(
            affine, {x.data(), shape.x_stride, actual.data(), shape.y_stride, pixels, shape.lanes});
        SCOPED_TRACE(::testing::Message() << "lanes " << shape.lanes << " strides "
                                          << shape.x_stride << "/" << shape.y_stride << " pixels "
                                          << pixels << " relu " << relu << " slope " << slope);
        for (std::size_t i = 0; i < actual.size(); ++i) {
          ASSERT_NEAR(actual[i], expected[i], 1e-5f * (1.0f + std::abs(expected[i]))) << i;
        }
        EXPECT_EQ(actual.back(), 7.0f);
      }
    }
  }
}

TEST(ChannelAffine, OracleIsTheFormula) {
  const float scale[] = {2.0f, -1.0f}, shift[] = {1.0f, 0.5f}, x[] = {1.0f, 1.0f, -3.0f, -3.0f};
  float y[4];
  channel_affine_scalar({scale, shift, true, 0.25f}, {x, 2, y, 2, 2, 2});
  EXPECT_FLOAT_EQ(y[0], 3.0f);     // 1 * 2 + 1
  EXPECT_FLOAT_EQ(y[1], -0.125f);  // (1 * -1 + 0.5) * 0.25
  EXPECT_FLOAT_EQ(y[2], -1.25f);   // (-3 * 2 + 1) * 0.25
  EXPECT_FLOAT_EQ(y[3], 3.5f);     // -3 * -1 + 0.5
}

TEST(ChannelAffine, ReluOfInfinitiesIsZeroOrInfinityNeverNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  const float scale[] = {1.0f}, shift[] = {0.0f};
  const float x[] = {-inf, inf, -2.0f, 3.0f};
  for (bool vector_version : {false, true}) {
    float y[4] = {7, 7, 7, 7};
    const ChannelAffine relu{scale, shift, true, 0.0f};
    const ChannelRows rows{x, 1, y, 1, 4, 1};
    vector_version ? channel_affine(relu, rows) : channel_affine_scalar(relu, rows);
    EXPECT_EQ(y[0], 0.0f) << vector_version;  // ONNX Relu: max(x, 0)
    EXPECT_FALSE(std::signbit(y[0])) << vector_version;
    EXPECT_EQ(y[1], inf) << vector_version;
    EXPECT_EQ(y[2], 0.0f) << vector_version;
    EXPECT_FALSE(std::signbit(y[2])) << vector_version;
    EXPECT_EQ(y[3], 3.0f) << vector_version;
    float leaky[4];
    const ChannelAffine leaky_relu{scale, shift, true, 0.5f};
    const ChannelRows leaky_rows{x, 1, leaky, 1, 4, 1};
    vector_version ? channel_affine(leaky_relu, leaky_rows)
                   : channel_affine_scalar(leaky_relu, leaky_rows);
    EXPECT_EQ(leaky[0], -inf) << vector_version;
    EXPECT_EQ(leaky[2], -1.0f) << vector_version;
  }
}

// Quantized output: from bytes, bit for bit what the oracle computes (the scales rounded
// by byte_affine_scale make every product exact); from floats, within one step.
template <typename In, typename Out>
void sweep_quantized(std::mt19937& rng, std::int32_t zero, bool exact) {
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> byte(0, 255);
  for (const Case& shape : {Case{16, 16, 16}, Case{32, 32, 96}, Case{1, 1, 1}, Case{3, 3, 3},
                            Case{20, 20, 52}, Case{64, 80, 128}}) {
    std::vector<float> scale(static_cast<std::size_t>(shape.lanes)), shift(scale.size());
    for (float& s : scale) s = byte_affine_scale(normal(rng) * (exact ? 0.7f : 40.0f));
    for (float& s : shift) s = normal(rng) * 60.0f;
    for (std::int64_t pixels : {0, 1, 15, 16, 17, 49, 300}) {
      std::vector<In> x(static_cast<std::size_t>(pixels * shape.x_stride));
      for (In& v : x) {
        v = std::is_same_v<In, float> ? static_cast<In>(normal(rng))
                                      : static_cast<In>(byte(rng) + std::numeric_limits<In>::min());
      }
      for (const auto& [relu, slope] : {std::pair{false, 0.0f}, {true, 0.0f}, {true, 0.1f}}) {
        const ByteAffine affine{{scale.data(), shift.data(), relu, slope}, zero};
        std::vector<Out> expected(static_cast<std::size_t>(pixels * shape.y_stride) + 1, Out{7});
        std::vector<Out> actual = expected;
        channel_affine_scalar(affine, AffineRows<In, Out>{x.data(), shape.x_stride, expected.data(),
                                                          shape.y_stride, pixels, shape.lanes});
        channel_affine(affine, AffineRows<In, Out>{x.data(), shape.x_stride, actual.data(),
                                                   shape.y_stride, pixels, shape.lanes});
        SCOPED_TRACE(::testing::Message() << "lanes " << shape.lanes << " pixels " << pixels
                                          << " relu " << relu << " slope " << slope);
        std::size_t differ = 0;
        for (std::size_t i = 0; i < actual.size(); ++i) {
          const int difference = std::abs(int{actual[i]} - int{expected[i]});
          ASSERT_LE(difference, exact ? 0 : 1) << i;
          differ += difference != 0;
        }
        EXPECT_LE(differ, actual.size() / 1000) << "more than one value in 1000 off by one";
        EXPECT_EQ(actual.back(), Out{7});
      }
    }
  }
}

TEST(ChannelAffineQuantized, MatchesTheScalarOracle) {
  std::mt19937 rng(21);
  sweep_quantized<std::uint8_t, std::uint8_t>(rng, 0, true);
  sweep_quantized<std::uint8_t, std::uint8_t>(rng, 131, true);
  sweep_quantized<std::int8_t, std::int8_t>(rng, -5, true);
  sweep_quantized<float, std::uint8_t>(rng, 128, false);
  sweep_quantized<float, std::int8_t>(rng, 3, false);
}

TEST(ChannelAffineQuantized, OracleIsQuantizeLinearOfTheFormula) {
  const float scale[] = {0.5f, 1.0f, 1.0f, 100.0f}, shift[] = {0.25f, -0.5f, 1.5f, 0.0f};
  const std::uint8_t x[] = {1, 3, 2, 200};
  std::uint8_t y[4];
  channel_affine_scalar(ByteAffine{{scale, shift, false, 0.0f}, 10},
                        AffineRows<std::uint8_t, std::uint8_t>{x, 4, y, 4, 1, 4});
  EXPECT_EQ(y[0], 11);   // 0.75 rounds to 1
  EXPECT_EQ(y[1], 12);   // 2.5 rounds half to even: 2
  EXPECT_EQ(y[2], 14);   // 3.5 rounds half to even: 4
  EXPECT_EQ(y[3], 255);  // saturates
  channel_affine_scalar(ByteAffine{{scale, shift, true, 0.0f}, 10},
                        AffineRows<std::uint8_t, std::uint8_t>{x, 4, y, 4, 1, 4});
  EXPECT_EQ(y[1], 12);
}

TEST(ChannelAffineQuantized, NanGivesTheZeroPointInfinitiesSaturate) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float scale[] = {1.0f}, shift[] = {0.0f};
  const float x[] = {nan, inf, -inf, -3.0f, 2.6f};
  for (bool relu : {false, true}) {
    for (bool vector_version : {false, true}) {
      std::int8_t y[5];
      const ByteAffine affine{{scale, shift, relu, 0.0f}, 1};
      const AffineRows<float, std::int8_t> rows{x, 1, y, 1, 5, 1};
      vector_version ? channel_affine(affine, rows) : channel_affine_scalar(affine, rows);
      SCOPED_TRACE(::testing::Message() << "relu " << relu << " vector " << vector_version);
      EXPECT_EQ(y[0], 1);  // NaN: the zero point, as the reference QuantizeLinear
      EXPECT_EQ(y[1], 127);
      EXPECT_EQ(y[2], relu ? 1 : -128);
      EXPECT_EQ(y[3], relu ? 1 : -2);
      EXPECT_EQ(y[4], 4);
    }
  }
}

TEST(ChannelAffineQuantized, ScalesKeepSixteenSignificantBits) {
  EXPECT_EQ(byte_affine_scale(0.75f), 0.75f);
  EXPECT_EQ(byte_affine_scale(1.0f + 0x1p-20f), 1.0f);
  EXPECT_EQ(byte_affine_scale(-3.0f * 0x1p-30f), -3.0f * 0x1p-30f);
  const float rounded = byte_affine_scale(0.1f);
  EXPECT_NEAR(rounded, 0.1f, 0.1f * 0x1p-16f);
  EXPECT_EQ(rounded, std::ldexp(std::nearbyint(std::ldexp(rounded, 19)), -19));
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
