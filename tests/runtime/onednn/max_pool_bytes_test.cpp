// MaxPoolBytes (the ISA version this CPU runs, or the one EDGEPERF_MAX_ISA leaves) against
// the scalar oracle: channel counts around the vector widths, kernels, strides, padding
// on either side, windows cut by the image's edge (ceil mode), u8 and s8, several
// images and threads, and a requantizing table.
#include "max_pool_bytes.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

namespace edgeperf::runtime::onednn {
namespace {

// Output size of one axis, floor or ceil mode, ONNX's rule that a last window must start
// inside the image or its left padding.
std::int64_t out_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                      bool ceil_mode) {
  const std::int64_t span = in + 2 * pad - kernel;
  std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

MaxPoolBytesShape make_shape(std::int64_t images, std::int64_t channels, std::int64_t height,
                             std::int64_t width, std::int64_t kernel, std::int64_t stride,
                             std::int64_t pad, bool ceil_mode) {
  return {images,
          channels,
          height,
          width,
          out_size(height, kernel, stride, pad, ceil_mode),
          out_size(width, kernel, stride, pad, ceil_mode),
          kernel,
          kernel,
          stride,
          stride,
          pad,
          pad};
}

std::vector<std::uint8_t> random_bytes(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> bytes(count);
  for (std::uint8_t& byte : bytes) byte = static_cast<std::uint8_t>(rng());
  return bytes;
}

std::size_t out_bytes(const MaxPoolBytesShape& s) {
  return static_cast<std::size_t>(s.images * s.out_height * s.out_width * s.channels);
}

TEST(MaxPoolBytes, MatchesTheScalarOracle) {
  const MaxPoolBytesShape probe = make_shape(1, 8, 4, 4, 3, 1, 1, false);
  std::printf("max pool ISA: %s\n", MaxPoolBytes(probe, false).isa());
  int cases = 0;
  for (std::int64_t channels : {1, 3, 24, 31, 32, 33, 63, 64, 65, 130}) {
    for (std::int64_t kernel : {2, 3, 5}) {
      for (std::int64_t stride : {1, 2, 3}) {
        for (std::int64_t pad = 0; pad < kernel && pad <= 2; ++pad) {
          for (bool ceil_mode : {false, true}) {
            for (bool is_signed : {false, true}) {
              const std::int64_t images = channels % 2 == 1 ? 2 : 1;
              const MaxPoolBytesShape shape =
                  make_shape(images, channels, 7 + kernel, 9, kernel, stride, pad, ceil_mode);
              ASSERT_TRUE(max_pool_bytes_supported(shape));
              const auto src = random_bytes(
                  static_cast<std::size_t>(images * shape.in_height * shape.in_width * channels),
                  static_cast<std::uint32_t>(cases));
              std::vector<std::uint8_t> expected(out_bytes(shape)), actual(out_bytes(shape), 0xAB);
              max_pool_bytes_scalar(shape, is_signed, src.data(), expected.data());
              MaxPoolBytes(shape, is_signed).run(src.data(), actual.data(), 1 + cases % 3);
              ASSERT_EQ(actual, expected)
                  << channels << " channels, kernel " << kernel << ", stride " << stride << ", pad "
                  << pad << (ceil_mode ? ", ceil" : "") << (is_signed ? ", s8" : "");
              ++cases;
            }
          }
        }
      }
    }
  }
}

// Signed bytes compare as signed: 0x80 (-128) loses to 0x7F (127) and to 0x00.
TEST(MaxPoolBytes, ComparesSignedBytesAsSigned) {
  const MaxPoolBytesShape shape{1, 1, 1, 3, 1, 1, 1, 3, 1, 1, 0, 0};
  ASSERT_TRUE(max_pool_bytes_supported(shape));
  const std::vector<std::uint8_t> src = {0x80, 0x00, 0x7F};
  std::uint8_t u8 = 0, s8 = 0;
  MaxPoolBytes(shape, false).run(src.data(), &u8, 1);
  MaxPoolBytes(shape, true).run(src.data(), &s8, 1);
  EXPECT_EQ(u8, 0x80);
  EXPECT_EQ(s8, 0x7F);
}

TEST(MaxPoolBytes, AppliesTheRequantizingTableToEveryPooledByte) {
  const MaxPoolBytesShape shape = make_shape(2, 70, 9, 8, 3, 2, 1, true);
  ByteTable table{};
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = static_cast<std::uint8_t>(i / 2 + 3);
  const auto src = random_bytes(static_cast<std::size_t>(2 * 9 * 8 * 70), 9);
  std::vector<std::uint8_t> expected(out_bytes(shape)), actual(out_bytes(shape));
  max_pool_bytes_scalar(shape, false, src.data(), expected.data());
  for (std::uint8_t& byte : expected) byte = table[byte];
  MaxPoolBytes(shape, false, table).run(src.data(), actual.data(), 2);
  EXPECT_EQ(actual, expected);
}

TEST(MaxPoolBytes, RefusesWindowsOutsideTheImageAndEmptySizes) {
  MaxPoolBytesShape shape = make_shape(1, 8, 6, 6, 3, 2, 1, false);
  EXPECT_TRUE(max_pool_bytes_supported(shape));
  MaxPoolBytesShape past_the_end = shape;
  past_the_end.out_width += 2;  // the last window starts after the image
  EXPECT_FALSE(max_pool_bytes_supported(past_the_end));
  MaxPoolBytesShape all_padding = shape;
  all_padding.pad_top = 3;  // the first window lies in the padding
  EXPECT_FALSE(max_pool_bytes_supported(all_padding));
  MaxPoolBytesShape no_channels = shape;
  no_channels.channels = 0;
  EXPECT_FALSE(max_pool_bytes_supported(no_channels));
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
