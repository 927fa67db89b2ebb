// apply_byte_table (the ISA version this CPU runs) against the scalar oracle: every
// length around the vector width, unaligned starts, every byte value.
#include "byte_table.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <vector>

namespace edgeperf::runtime::onednn {
namespace {

TEST(ByteTable, MatchesTheScalarOracle) {
  std::printf("byte table ISA: %s\n", byte_table_isa());
  std::mt19937 rng(5);
  ByteTable table{};
  for (std::uint8_t& entry : table) entry = static_cast<std::uint8_t>(rng());
  std::vector<std::uint8_t> src(4096 + 64);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<std::uint8_t>(i * 7 + rng());
  for (std::size_t offset : {0u, 1u, 13u}) {
    for (std::size_t count : {0u, 1u, 63u, 64u, 65u, 127u, 128u, 129u, 255u, 256u, 1000u, 4096u}) {
      std::vector<std::uint8_t> expected(count + 2, 0xAB), actual(count + 2, 0xAB);
      apply_byte_table_scalar(table, src.data() + offset, expected.data() + 1, count);
      apply_byte_table(table, src.data() + offset, actual.data() + 1, count);
      EXPECT_EQ(actual, expected) << "offset " << offset << " count " << count;
    }
  }
}

TEST(ByteTable, EveryByteValueLooksUpItsEntry) {
  ByteTable table{};
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = static_cast<std::uint8_t>(255 - i);
  std::vector<std::uint8_t> src(256), dst(256);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<std::uint8_t>(i);
  apply_byte_table(table, src.data(), dst.data(), src.size());
  for (std::size_t i = 0; i < dst.size(); ++i) EXPECT_EQ(dst[i], 255 - i) << i;
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
