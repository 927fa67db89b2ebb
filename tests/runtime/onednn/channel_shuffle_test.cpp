// The channel shuffle kernel (channel_shuffle.h): the oracle against the definition, and
// the vector version (at every ISA level this binary runs under) against the oracle.
#include "channel_shuffle.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>

#include "edgeperf/core/error.h"

namespace edgeperf::runtime::onednn {
namespace {

std::size_t type_size(ShuffleType type) { return type == ShuffleType::f32 ? 4 : 1; }

struct Buffers {
  std::vector<std::vector<unsigned char>> parts, expected, actual;
  std::vector<const void*> part_pointers;
  std::vector<void*> expected_pointers, actual_pointers;
};

// Random parts (bytes over their whole range, floats in [-2, 2] with a NaN and
// infinities), zeroed outputs.
Buffers make_buffers(const ChannelShuffleSpec& spec, std::int64_t pixels, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Buffers b;
  for (const ShuffleTensor& part : spec.parts) {
    std::vector<unsigned char> bytes(static_cast<std::size_t>(pixels * part.channels) *
                                     type_size(part.type));
    if (part.type == ShuffleType::f32) {
      std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
      std::vector<float> values(bytes.size() / 4);
      for (float& v : values) v = uniform(rng);
      const float special[] = {std::numeric_limits<float>::quiet_NaN(),
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               -0.0f,
                               1e30f,
                               -1e30f};
      for (std::size_t i = 0; i < std::size(special) && i < values.size(); ++i) {
        values[i * 7 % values.size()] = special[i];
      }
      std::memcpy(bytes.data(), values.data(), bytes.size());
    } else {
      std::uniform_int_distribution<int> uniform(0, 255);
      for (unsigned char& v : bytes) v = static_cast<unsigned char>(uniform(rng));
    }
    b.parts.push_back(std::move(bytes));
  }
  for (const ShuffleOutput& output : spec.outputs) {
    const std::size_t size =
        static_cast<std::size_t>(pixels * output.channels) * type_size(output.type);
    b.expected.emplace_back(size, 0);
    b.actual.emplace_back(size, 0);
  }
  for (auto& part : b.parts) b.part_pointers.push_back(part.data());
  for (auto& out : b.expected) b.expected_pointers.push_back(out.data());
  for (auto& out : b.actual) b.actual_pointers.push_back(out.data());
  return b;
}

TEST(ChannelShuffle, OracleFollowsTheDefinition) {
  // Two f32 parts of 4 channels, 2 groups: shuffled = 0 4 1 5 2 6 3 7.
  ChannelShuffleSpec spec;
  spec.parts = {{ShuffleType::f32, 1.0f, 0, 4}, {ShuffleType::f32, 1.0f, 0, 4}};
  spec.groups = 2;
  ShuffleOutput all;
  static_cast<ShuffleTensor&>(all) = {ShuffleType::f32, 1.0f, 0, 8};
  ShuffleOutput tail;  // channels 3..5 of the shuffled tensor, quantized at 0.5, zero 10
  static_cast<ShuffleTensor&>(tail) = {ShuffleType::u8, 0.5f, 10, 3};
  tail.first = 3;
  spec.outputs = {all, tail};
  const ChannelShuffle shuffle(spec);
  const float a[] = {0, 1, 2, 3}, b[] = {4, 5, 6, 7};
  float y[8] = {};
  std::uint8_t q[3] = {};
  const void* parts[] = {a, b};
  void* outputs[] = {y, q};
  shuffle.run_scalar(parts, outputs, 0, 1);
  const float expected[] = {0, 4, 1, 5, 2, 6, 3, 7};
  for (int k = 0; k < 8; ++k) EXPECT_EQ(y[k], expected[k]) << k;
  // 5 / 0.5 + 10, 2 / 0.5 + 10, 6 / 0.5 + 10
  EXPECT_EQ(q[0], 20);
  EXPECT_EQ(q[1], 14);
  EXPECT_EQ(q[2], 22);
}

TEST(ChannelShuffle, OracleQuantizesAsQuantizeLinear) {
  ChannelShuffleSpec spec;
  spec.parts = {{ShuffleType::f32, 1.0f, 0, 6}};
  spec.groups = 1;
  ShuffleOutput out;
  static_cast<ShuffleTensor&>(out) = {ShuffleType::s8, 2.0f, -3, 6};
  spec.outputs = {out};
  const ChannelShuffle shuffle(spec);
  // Ties to even (5 / 2 = 2.5 -> 2, 7 / 2 = 3.5 -> 4, -3 / 2 = -1.5 -> -2), saturation
  // both ways, NaN -> the zero point.
  const float x[] = {5.0f, 7.0f, 1000.0f, -1000.0f, std::numeric_limits<float>::quiet_NaN(), -3.0f};
  std::int8_t y[6] = {};
  const void* parts[] = {x};
  void* outputs[] = {y};
  shuffle.run_scalar(parts, outputs, 0, 1);
  const int expected[] = {-1, 1, 127, -128, -3, -5};
  for (int k = 0; k < 6; ++k) EXPECT_EQ(y[k], expected[k]) << k;
}

TEST(ChannelShuffle, RejectsChannelsThatDoNotSplitIntoTheGroups) {
  ChannelShuffleSpec spec;
  spec.parts = {{ShuffleType::f32, 1.0f, 0, 5}};
  spec.groups = 2;
  EXPECT_THROW(ChannelShuffle{spec}, Error);
  spec.groups = 5;
  ShuffleOutput out;
  static_cast<ShuffleTensor&>(out) = {ShuffleType::f32, 1.0f, 0, 3};
  out.first = 3;
  spec.outputs = {out};
  EXPECT_THROW(ChannelShuffle{spec}, Error);
}

struct SweepCase {
  std::vector<ShuffleTensor> parts;
  std::int64_t groups;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;  // first, channels
  std::vector<ShuffleType> types;                             // per output
};

ShuffleTensor part(ShuffleType type, std::int64_t channels) {
  if (type == ShuffleType::u8) return {type, 0.031f, 131, channels};
  if (type == ShuffleType::s8) return {type, 0.027f, -5, channels};
  return {type, 1.0f, 0, channels};
}

class ChannelShuffleSweep : public ::testing::TestWithParam<SweepCase> {};

TEST_P(ChannelShuffleSweep, VectorVersionEqualsTheOracle) {
  const SweepCase& c = GetParam();
  ChannelShuffleSpec spec;
  spec.parts = c.parts;
  spec.groups = c.groups;
  for (std::size_t o = 0; o < c.ranges.size(); ++o) {
    ShuffleOutput out;
    const bool u8 = c.types[o] == ShuffleType::u8;
    static_cast<ShuffleTensor&>(out) = {c.types[o], u8 ? 0.02f : 0.017f, u8 ? 100 : 3,
                                        c.ranges[o].second};
    out.first = c.ranges[o].first;
    spec.outputs.push_back(out);
  }
  const ChannelShuffle shuffle(spec);
  for (std::int64_t pixels : {1, 7, 64, 133}) {
    Buffers b = make_buffers(spec, pixels, static_cast<std::uint32_t>(pixels));
    shuffle.run_scalar(b.part_pointers.data(), b.expected_pointers.data(), 0, pixels);
    // In two ranges, as the op's threads run it.
    const std::int64_t middle = pixels / 3;
    shuffle.run(b.part_pointers.data(), b.actual_pointers.data(), 0, middle);
    shuffle.run(b.part_pointers.data(), b.actual_pointers.data(), middle, pixels);
    for (std::size_t o = 0; o < b.expected.size(); ++o) {
      // Bitwise: the same floats (NaN included) and the same bytes.
      EXPECT_EQ(b.actual[o], b.expected[o])
          << "output " << o << ", " << pixels << " pixels on " << channel_shuffle_isa();
    }
  }
}

constexpr ShuffleType kF32 = ShuffleType::f32, kU8 = ShuffleType::u8, kS8 = ShuffleType::s8;

INSTANTIATE_TEST_SUITE_P(
    Cases, ChannelShuffleSweep,
    ::testing::Values(
        // ShuffleNetV2: a float passthrough and a byte branch, halves out (f32, u8).
        SweepCase{{part(kF32, 58), part(kU8, 58)}, 2, {{0, 58}, {58, 58}}, {kF32, kU8}},
        // The first unit of a stage: two byte branches; the whole tensor to bytes.
        SweepCase{{part(kU8, 24), part(kU8, 24)}, 2, {{0, 48}}, {kU8}},
        SweepCase{{part(kS8, 16), part(kF32, 16)}, 2, {{0, 16}, {16, 16}}, {kF32, kS8}},
        // An odd split: the channel map.
        SweepCase{{part(kU8, 20), part(kF32, 20)}, 2, {{0, 19}, {19, 21}}, {kF32, kU8}},
        // Parts of unequal size.
        SweepCase{{part(kU8, 10), part(kS8, 30)}, 2, {{0, 20}, {20, 20}}, {kS8, kF32}},
        // Two groups, but a run crossing from one part into the next: the channel map.
        SweepCase{{part(kU8, 10), part(kS8, 30)}, 2, {{0, 40}}, {kU8}},
        SweepCase{{part(kF32, 10), part(kU8, 30)}, 2, {{2, 36}}, {kF32}},
        // Three and four groups (ShuffleNetV1-like), three parts.
        SweepCase{{part(kF32, 12), part(kU8, 12), part(kS8, 12)}, 3, {{0, 36}}, {kF32}},
        SweepCase{{part(kU8, 32), part(kU8, 32)}, 4, {{0, 32}, {32, 32}}, {kU8, kS8}}));

}  // namespace
}  // namespace edgeperf::runtime::onednn
