#include <gtest/gtest.h>

#include "edgeperf/core/npy.h"

namespace edgeperf {
namespace {

std::span<const std::byte> as_bytes(const std::string& text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

TEST(Npy, RoundTripsEveryDtypeAndRank) {
  const Tensor floats = make_tensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor parsed = parse_npy(as_bytes(serialize_npy(floats)), "t");
  EXPECT_EQ(parsed.shape(), (Shape{2, 3}));
  EXPECT_EQ(parsed.values<float>()[5], 6.0f);

  const Tensor scalar = make_tensor<std::int64_t>({}, {42});
  EXPECT_EQ(parse_npy(as_bytes(serialize_npy(scalar)), "s").values<std::int64_t>()[0], 42);

  const Tensor vector = make_tensor<std::uint8_t>({3}, {7, 8, 9});
  const Tensor parsed_vector = parse_npy(as_bytes(serialize_npy(vector)), "v");
  EXPECT_EQ(parsed_vector.shape(), (Shape{3}));
  EXPECT_EQ(parsed_vector.dtype(), DType::u8);
}

TEST(Npy, HeaderIsPaddedTo64Bytes) {
  const std::string bytes = serialize_npy(make_tensor<float>({1}, {1.0f}));
  const std::size_t header_length = static_cast<unsigned char>(bytes[8]);
  EXPECT_EQ((10 + header_length) % 64, 0u);
  EXPECT_EQ(bytes[10 + header_length - 1], '\n');
}

TEST(Npy, RejectsTruncatedPayload) {
  std::string bytes = serialize_npy(make_tensor<float>({4}, {1, 2, 3, 4}));
  bytes.resize(bytes.size() - 3);
  EXPECT_THROW(
      {
        try {
          parse_npy(as_bytes(bytes), "x.npy");
        } catch (const Error& error) {
          EXPECT_NE(std::string(error.what()).find("x.npy"), std::string::npos);
          throw;
        }
      },
      Error);
}

TEST(Npy, RejectsHeaderThatLiesAboutShape) {
  std::string bytes = serialize_npy(make_tensor<float>({4}, {1, 2, 3, 4}));
  const auto at = bytes.find("(4,)");
  bytes.replace(at, 4, "(9,)");
  EXPECT_THROW(parse_npy(as_bytes(bytes), "x.npy"), Error);
}

TEST(Npy, RejectsGarbageAndHugeShapes) {
  EXPECT_THROW(parse_npy(as_bytes(std::string("hello world, not npy")), "g"), Error);
  EXPECT_THROW(parse_npy(as_bytes(std::string("\x93NUMPY\x01\x00\xff\xff", 10)), "g"), Error);
  std::string bytes = serialize_npy(make_tensor<float>({4}, {1, 2, 3, 4}));
  bytes.replace(bytes.find("(4,)"), 4, "(1099511627776, 1099511627776)");
  EXPECT_THROW(parse_npy(as_bytes(bytes), "huge"), Error);
}

TEST(Npy, RejectsBigEndianAndUnknownDtypes) {
  std::string bytes = serialize_npy(make_tensor<float>({1}, {1.0f}));
  bytes.replace(bytes.find("<f4"), 3, ">f4");
  EXPECT_THROW(parse_npy(as_bytes(bytes), "be"), Error);
  bytes.replace(bytes.find(">f4"), 3, "<c8");
  EXPECT_THROW(parse_npy(as_bytes(bytes), "complex"), Error);
}

}  // namespace
}  // namespace edgeperf
