// The depthwise u8 kernels (3x3: AVX-512 VNNI or NEON; 5x5 and 7x7: AVX-512 VNNI) against
// their plain C++ oracle. They do the same integer sums and the same single-rounding float
// requantization, so outputs match exactly.
#include "depthwise_u8.h"

#include <gtest/gtest.h>

#include <random>

#include "depthwise_u8_wide.h"

namespace edgeperf::runtime::onednn {
namespace {

// Builder-style: set the shape and quantization, then test() runs both and compares.
class DepthwiseU8Tester {
 public:
  DepthwiseU8Tester& channels(std::int64_t value) { return shape_.channels = value, *this; }
  DepthwiseU8Tester& kernel(std::int64_t value) { return shape_.kernel = value, *this; }
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
  // Runs the work as `value` parts, last part first, instead of run().
  DepthwiseU8Tester& parts(int value) { return parts_ = value, *this; }

  void test() {
    const std::int64_t k = shape_.kernel;
    shape_.out_height = (shape_.in_height + shape_.pad_top + pad_bottom_ - k) / shape_.stride + 1;
    shape_.out_width = (shape_.in_width + shape_.pad_left + pad_right_ - k) / shape_.stride + 1;
    ASSERT_TRUE(k == 3 ? DepthwiseConvU8::supports(shape_) : DepthwiseConvU8Wide::supports(shape_));
    std::mt19937 rng(static_cast<std::uint32_t>(shape_.channels * 131 + shape_.in_width));
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> weight(-128, 127);
    std::uniform_real_distribution<float> real(-40.0f, 40.0f);
    const auto channels = static_cast<std::size_t>(shape_.channels);
    std::vector<std::uint8_t> src(static_cast<std::size_t>(shape_.images * shape_.in_height *
                                                           shape_.in_width * shape_.channels));
    for (std::uint8_t& value : src) value = static_cast<std::uint8_t>(byte(rng));
    std::vector<std::int8_t> weights(channels * static_cast<std::size_t>(k * k));
    for (std::int8_t& value : weights) value = static_cast<std::int8_t>(weight(rng));
    requant_.scale.clear();
    requant_.offset.clear();
    for (std::size_t c = 0; c < channels; ++c) {
      // About 2 * 255 * 128 * 9 / 4000 steps across the accumulator range (3x3, more for
      // larger kernels): saturates at both ends sometimes and rounds ties sometimes.
      const float spread = static_cast<float>(k * k) / 9.0f;
      requant_.scale.push_back(1.0f / (spread * static_cast<float>(1500 + 100 * (c % 7))));
      requant_.offset.push_back(128.0f + real(rng) + (c % 5 == 0 ? 0.5f : 0.0f));
    }
    const std::size_t out_size = static_cast<std::size_t>(shape_.images * shape_.out_height *
                                                          shape_.out_width * shape_.channels);
    std::vector<std::uint8_t> expected(out_size);
    std::vector<std::uint8_t> actual(out_size, 0xAB);
    depthwise_u8_scalar(shape_, weights, requant_, src.data(), expected.data());
    if (k == 3) {
      run(DepthwiseConvU8(shape_, weights, requant_), src.data(), actual.data());
    } else {
      run(DepthwiseConvU8Wide(shape_, weights, requant_), src.data(), actual.data());
    }
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
  template <typename Kernel>
  void run(const Kernel& kernel, const std::uint8_t* src, std::uint8_t* dst) const {
    if (parts_ == 0) return kernel.run(src, dst, threads_);
    ASSERT_LE(parts_, kernel.max_parts());
    for (int part = parts_ - 1; part >= 0; --part) kernel.run_part(src, dst, part, parts_);
  }

  DepthwiseU8Shape shape_;
  DepthwiseU8Requant requant_;
  std::int64_t pad_bottom_ = 0;
  std::int64_t pad_right_ = 0;
  int threads_ = 1;
  int parts_ = 0;
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

// Parts of a 2-image stride-2 conv run last first: from one part up to one output row of
// one 64-channel block each (144 channels: 3 blocks).
void check_parts_cover_the_output(std::int64_t kernel, std::int64_t height, std::int64_t width) {
  const std::int64_t pad = kernel / 2;
  const auto rows_and_blocks = static_cast<int>(2 * ((height + 2 * pad - kernel) / 2 + 1) * 3);
  for (int parts : {1, 2, 5, rows_and_blocks}) {
    DepthwiseU8Tester()
        .kernel(kernel)
        .channels(144)
        .input_size(height, width)
        .stride(2)
        .padding(pad, pad, pad, pad)
        .images(2)
        .parts(parts)
        .test();
  }
}

TEST_F(DepthwiseU8, PartsInAnyOrderCoverTheOutput) { check_parts_cover_the_output(3, 12, 10); }

TEST(DepthwiseU8Shape, RejectsWhatTheKernelCannotRun) {
  DepthwiseU8Shape shape{1, 16, 8, 8, 8, 8, 1, 1, 1};
  EXPECT_EQ(DepthwiseConvU8::supports(shape), DepthwiseConvU8::available());
  shape.stride = 3;
  EXPECT_FALSE(DepthwiseConvU8::supports(shape));
  shape.stride = 1;
  shape.pad_top = 3;
  EXPECT_FALSE(DepthwiseConvU8::supports(shape));
}

class DepthwiseU8Wide : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!DepthwiseConvU8Wide::available()) GTEST_SKIP() << "no AVX-512 VNNI here";
  }
};

TEST_F(DepthwiseU8Wide, ChannelCountsAroundBlockEdges) {
  for (std::int64_t kernel : {5, 7}) {
    for (std::int64_t channels : {1, 15, 16, 17, 63, 64, 65, 120, 200}) {
      SCOPED_TRACE(::testing::Message() << kernel << "x" << kernel << ", " << channels);
      const std::int64_t pad = kernel / 2;
      DepthwiseU8Tester()
          .kernel(kernel)
          .channels(channels)
          .input_size(9, 11)
          .padding(pad, pad, pad, pad)
          .test();
    }
  }
}

// Rows wider than one tile of 32 output columns, with a partial last tile and a partial
// last group of 4, at both strides.
TEST_F(DepthwiseU8Wide, WidthsAcrossTilesAndStrides) {
  for (std::int64_t kernel : {5, 7}) {
    for (std::int64_t stride : {1, 2}) {
      for (std::int64_t width : {1, 3, 4, 5, 31, 32, 33, 37, 64, 70, 113}) {
        SCOPED_TRACE(::testing::Message()
                     << kernel << "x" << kernel << " stride " << stride << " width " << width);
        const std::int64_t pad = kernel / 2;
        DepthwiseU8Tester()
            .kernel(kernel)
            .channels(72)
            .input_size(kernel + 1, width)
            .stride(stride)
            .padding(pad, pad, pad, pad)
            .test();
      }
    }
  }
}

TEST_F(DepthwiseU8Wide, PaddingZeroPointAndClamp) {
  for (std::int64_t kernel : {5, 7}) {
    SCOPED_TRACE(kernel);
    DepthwiseU8Tester().kernel(kernel).channels(48).input_size(9, 10).padding(0, 0, 0, 0).test();
    DepthwiseU8Tester().kernel(kernel).channels(48).input_size(6, 7).padding(1, 3, 2, 0).test();
    DepthwiseU8Tester()
        .kernel(kernel)
        .channels(48)
        .input_size(6, 7)
        .stride(2)
        .padding(kernel - 1, kernel - 1, 1, 1)
        .test();
    DepthwiseU8Tester()
        .kernel(kernel)
        .channels(64)
        .input_size(1, 1)
        .padding(kernel / 2, kernel / 2, kernel / 2, kernel / 2)
        .test();
    for (int zero_point : {0, 3, 255}) {
      DepthwiseU8Tester()
          .kernel(kernel)
          .channels(40)
          .input_size(8, 8)
          .padding(2, 2, 2, 2)
          .zero_point(static_cast<std::uint8_t>(zero_point))
          .clamp(20, 230)
          .test();
    }
  }
}

TEST_F(DepthwiseU8Wide, BatchAndThreads) {
  DepthwiseU8Tester()
      .kernel(5)
      .channels(144)
      .input_size(12, 10)
      .padding(2, 2, 2, 2)
      .images(3)
      .test();
  DepthwiseU8Tester()
      .kernel(7)
      .channels(144)
      .input_size(14, 40)
      .stride(2)
      .padding(3, 3, 3, 3)
      .images(2)
      .threads(2)
      .test();
}

TEST_F(DepthwiseU8Wide, PartsInAnyOrderCoverTheOutput) { check_parts_cover_the_output(7, 14, 40); }

TEST(DepthwiseU8WideShape, RejectsWhatTheKernelCannotRun) {
  DepthwiseU8Shape shape{1, 16, 8, 8, 8, 8, 1, 2, 2, 5};
  EXPECT_EQ(DepthwiseConvU8Wide::supports(shape), DepthwiseConvU8Wide::available());
  EXPECT_FALSE(DepthwiseConvU8::supports(shape));  // the 3x3 kernel only
  shape.kernel = 3;
  EXPECT_FALSE(DepthwiseConvU8Wide::supports(shape));
  shape.kernel = 9;
  EXPECT_FALSE(DepthwiseConvU8Wide::supports(shape));
  shape.kernel = 5;
  shape.stride = 3;
  EXPECT_FALSE(DepthwiseConvU8Wide::supports(shape));
  shape.stride = 1;
  shape.pad_left = 5;
  EXPECT_FALSE(DepthwiseConvU8Wide::supports(shape));
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
