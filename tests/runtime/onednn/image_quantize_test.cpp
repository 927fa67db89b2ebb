// The AVX-512 (x86) and NEON (arm64) planar-RGB-to-NHWC quantizers against their plain
// C++ oracle: same
// multiply, same ties-to-even rounding, so bytes match exactly.
#include "image_quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace edgeperf::runtime::onednn {
namespace {

void expect_matches_oracle(const ImageQuantize& job, const std::vector<float>& src, int threads) {
  const std::size_t size = static_cast<std::size_t>(job.images * 3 * job.pixels);
  ASSERT_EQ(src.size(), size);
  std::vector<std::uint8_t> expected(size);
  std::vector<std::uint8_t> actual(size, 0xAB);
  quantize_rgb_to_nhwc_u8_scalar(job, src.data(), expected.data());
  quantize_rgb_to_nhwc_u8(job, src.data(), actual.data(), threads);
  for (std::size_t i = 0; i < size; ++i) {
    ASSERT_EQ(int{actual[i]}, int{expected[i]})
        << "byte " << i << " (input " << src[(i % 3) * static_cast<std::size_t>(job.pixels) + i / 3]
        << ")";
  }
}

std::vector<float> random_image(const ImageQuantize& job, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> real(-3.0f, 3.0f);
  std::vector<float> values(static_cast<std::size_t>(job.images * 3 * job.pixels));
  for (float& value : values) value = real(rng);
  return values;
}

class ImageQuantizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!image_quantize_available())
      GTEST_SKIP() << "no vector kernel here (x86 without AVX-512 VBMI)";
  }
};

TEST_F(ImageQuantizeTest, PixelCountsAroundTheVectorWidth) {
  for (std::int64_t pixels : {1, 7, 8, 9, 15, 16, 17, 33, 224 * 224}) {
    SCOPED_TRACE(pixels);
    const ImageQuantize job{1, pixels, 255.0f / 6.0f, 128};
    expect_matches_oracle(job, random_image(job, static_cast<std::uint32_t>(pixels)), 1);
  }
}

TEST_F(ImageQuantizeTest, SaturatesAndRoundsTiesToEven) {
  const ImageQuantize job{1, 8, 1.0f, 10};
  // 0.5 -> 0 + 10, 1.5 -> 2 + 10, 2.5 -> 2 + 10, -0.5 -> 10; far out of range both ways.
  std::vector<float> src = {0.5f, 1.5f, 2.5f, -0.5f, -1e9f, 1e9f, 245.0f, 245.5f};
  std::vector<float> planes(src.size() * 3);
  for (std::size_t c = 0; c < 3; ++c) std::copy(src.begin(), src.end(), planes.begin() + c * 8);
  expect_matches_oracle(job, planes, 1);
  std::vector<std::uint8_t> out(planes.size());
  quantize_rgb_to_nhwc_u8(job, planes.data(), out.data(), 1);
  EXPECT_EQ(out[0], 10);
  EXPECT_EQ(out[3], 12);
  EXPECT_EQ(out[6], 12);
  EXPECT_EQ(out[9], 10);
  EXPECT_EQ(out[12], 0);
  EXPECT_EQ(out[15], 255);
  EXPECT_EQ(out[18], 255);
}

TEST_F(ImageQuantizeTest, NanBecomesZero) {
  const ImageQuantize job{1, 4, 2.0f, 100};
  std::vector<float> planes(12, 1.0f);
  planes[5] = std::nanf("");
  planes[9] = -std::nanf("");
  expect_matches_oracle(job, planes, 1);
}

TEST_F(ImageQuantizeTest, BatchAndThreads) {
  const ImageQuantize job{3, 1000, 40.0f, 0};
  expect_matches_oracle(job, random_image(job, 5), 2);
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
