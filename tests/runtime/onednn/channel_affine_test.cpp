// channel_affine (the ISA version this CPU runs, or the one EDGEPERF_MAX_ISA caps it to)
// against the scalar oracle: dense rows of every vector lane count, strided rows (a
// channels-last slice), pixel counts around the vector widths, ReLU, leaky ReLU and none.
#include "channel_affine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
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

}  // namespace
}  // namespace edgeperf::runtime::onednn
