// The AVX-512 VNNI depthwise u8 kernel against its plain C++ oracle. Both do the same
// integer sums and the same single-rounding float requantization, so outputs match
// exactly.
#include "depthwise_u8.h"

#include <gtest/gtest.h>

#include <random>

namespace edgeperf::runtime::onednn {
namespace {

// Builder-style: set the shape and quantization, then test() runs both and compares.
class DepthwiseU8Tester {
 public:
  DepthwiseU8Tester& channels(std::int64_t value) { return shape_.channels = value, *this; }
  DepthwiseU8Tester& input_size(std::int64_t height, std::int64_t width) {
    shape_.in_height = height;
    shape_.in_width = width;
    return *this;
  }
  DepthwiseU8Tester& stride(std::int64_t value) { return shape_.stride = value, *this; }
  DepthwiseU8Tester& padding(std::int64_t top, std::int64_t left, std::int64_t bottom,
                             std::int64_t right) {
    shape_.pad_top = top;
    shape_.pad_left = left;
    pad_bottom_ = bottom;
    pad_right_ = right;
    return *this;
  }
  DepthwiseU8Tester& images(std::int64_t value) { return shape_.images = value, *this; }
  DepthwiseU8Tester& zero_point(std::uint8_t value) {
    return requant_.input_zero_point = value, *this;
  }
  DepthwiseU8Tester& clamp(std::uint8_t low, std::uint8_t high) {
    requant_.min = low;
    requant_.max = high;
    return *this;
  }
  DepthwiseU8Tester& threads(int value) { return threads_ = value, *this; }

  void test() {
    shape_.out_height = (shape_.in_height + shape_.pad_top + pad_bottom_ - 3) / shape_.stride + 1;
    shape_.out_width = (shape_.in_width + shape_.pad_left + pad_right_ - 3) / shape_.stride + 1;
    ASSERT_TRUE(DepthwiseConvU8::supports(shape_));
    std::mt19937 rng(static_cast<std::uint32_t>(shape_.channels * 131 + shape_.in_width));
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> weight(-128, 127);
    std::uniform_real_distribution<float> real(-40.0f, 40.0f);
    const auto channels = static_cast<std::size_t>(shape_.channels);
    std::vector<std::uint8_t> src(static_cast<std::size_t>(shape_.images * shape_.in_height *
                                                           shape_.in_width * shape_.channels));
    for (std::uint8_t& value : src) value = static_cast<std::uint8_t>(byte(rng));
    std::vector<std::int8_t> weights(channels * 9);
    for (std::int8_t& value : weights) value = static_cast<std::int8_t>(weight(rng));
    requant_.scale.clear();
    requant_.offset.clear();
    for (std::size_t c = 0; c < channels; ++c) {
      // About 2 * 255 * 128 * 9 / 4000 steps across the accumulator range: saturates at
      // both ends sometimes and rounds ties sometimes.
      requant_.scale.push_back(1.0f / static_cast<float>(1500 + 100 * (c % 7)));
      requant_.offset.push_back(128.0f + real(rng) + (c % 5 == 0 ? 0.5f : 0.0f));
    }
    const std::size_t out_size = static_cast<std::size_t>(shape_.images * shape_.out_height *
                                                          shape_.out_width * shape_.channels);
    std::vector<std::uint8_t> expected(out_size);
    std::vector<std::uint8_t> actual(out_size, 0xAB);
    depthwise_u8_scalar(shape_, weights, requant_, src.data(), expected.data());
    DepthwiseConvU8(shape_, weights, requant_).run(src.data(), actual.data(), threads_);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < out_size; ++i) {
      if (actual[i] != expected[i] && mismatches++ < 5) {
        ADD_FAILURE() << "element " << i << " (channel " << i % channels << "): got "
                      << int{actual[i]} << ", expected " << int{expected[i]};
      }
    }
    EXPECT_EQ(mismatches, 0u);
  }

 private:
  DepthwiseU8Shape shape_;
  DepthwiseU8Requant requant_;
  std::int64_t pad_bottom_ = 0;
  std::int64_t pad_right_ = 0;
  int threads_ = 1;
};

class DepthwiseU8 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!DepthwiseConvU8::available())
      GTEST_SKIP() << "no vector kernel here (x86 without AVX-512 VNNI)";
  }
};

TEST_F(DepthwiseU8, ChannelCountsAroundBlockEdges) {
  for (std::int64_t channels : {1, 15, 16, 17, 32, 63, 64, 65, 96, 144, 200}) {
    SCOPED_TRACE(channels);
    DepthwiseU8Tester().channels(channels).input_size(9, 11).padding(1, 1, 1, 1).test();
  }
}

TEST_F(DepthwiseU8, StrideTwoOddAndEvenSizes) {
  for (std::int64_t size : {1, 2, 7, 8, 14, 15}) {
    SCOPED_TRACE(size);
    DepthwiseU8Tester()
        .channels(96)
        .input_size(size, size + 1)
        .stride(2)
        .padding(1, 1, 1, 1)
        .test();
  }
}

TEST_F(DepthwiseU8, PaddingVariants) {
  DepthwiseU8Tester().channels(48).input_size(6, 7).padding(0, 0, 0, 0).test();
  DepthwiseU8Tester().channels(48).input_size(6, 7).padding(2, 2, 2, 2).test();
  DepthwiseU8Tester().channels(48).input_size(6, 7).padding(0, 1, 1, 0).test();
  DepthwiseU8Tester().channels(48).input_size(6, 7).stride(2).padding(0, 0, 1, 1).test();
  DepthwiseU8Tester().channels(48).input_size(1, 1).padding(1, 1, 1, 1).test();
}

TEST_F(DepthwiseU8, ZeroPointFillsThePadding) {
  for (int zero_point : {0, 3, 128, 255}) {
    SCOPED_TRACE(zero_point);
    DepthwiseU8Tester()
        .channels(40)
        .input_size(5, 5)
        .padding(1, 1, 1, 1)
        .zero_point(static_cast<std::uint8_t>(zero_point))
        .test();
  }
}

TEST_F(DepthwiseU8, ClampsTheOutput) {
  DepthwiseU8Tester().channels(64).input_size(8, 8).padding(1, 1, 1, 1).clamp(100, 160).test();
  DepthwiseU8Tester().channels(64).input_size(8, 8).padding(1, 1, 1, 1).clamp(128, 255).test();
}

TEST_F(DepthwiseU8, BatchAndThreads) {
  DepthwiseU8Tester().channels(144).input_size(12, 10).padding(1, 1, 1, 1).images(3).test();
  DepthwiseU8Tester()
      .channels(144)
      .input_size(12, 10)
      .stride(2)
      .padding(1, 1, 1, 1)
      .images(2)
      .threads(2)
      .test();
}

TEST(DepthwiseU8Shape, RejectsWhatTheKernelCannotRun) {
  DepthwiseU8Shape shape{1, 16, 8, 8, 8, 8, 1, 1, 1};
  EXPECT_EQ(DepthwiseConvU8::supports(shape), DepthwiseConvU8::available());
  shape.stride = 3;
  EXPECT_FALSE(DepthwiseConvU8::supports(shape));
  shape.stride = 1;
  shape.pad_top = 3;
  EXPECT_FALSE(DepthwiseConvU8::supports(shape));
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
