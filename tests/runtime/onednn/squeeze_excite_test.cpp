// squeeze_excite.h's vector versions (the ISA this CPU runs, or the one EDGEPERF_MAX_ISA
// caps it to) against the scalar oracles, and the oracles against hand-computed values:
// channel counts around the vector widths, one pixel to several blocks, uint8 and int8
// in and out, every activation, each with and without its table (looked up where the CPU
// has AVX-512 VBMI, and then equal to the oracle), and the gate's special values.
#include "squeeze_excite.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

namespace edgeperf::runtime::onednn {
namespace {

struct Case {
  std::int64_t pixels, channels;
  bool signed_in, signed_out;
  ByteActivation kind;
  bool with_table;
};

std::vector<Case> cases() {
  std::vector<Case> all;
  for (ByteActivation kind :
       {ByteActivation::identity, ByteActivation::hard_sigmoid_gate, ByteActivation::swish}) {
    for (std::int64_t channels : {1, 7, 16, 17, 32, 64, 120, 131}) {
      for (std::int64_t pixels : {1, 5, 300}) {
        for (bool with_table : {false, true}) {
          all.push_back({pixels, channels, false, false, kind, with_table});
          all.push_back({pixels, channels, true, pixels == 5, kind, with_table});
        }
      }
    }
  }
  return all;
}

std::string describe(const Case& c) {
  return ::testing::PrintToString(c.pixels) + " pixels of " + ::testing::PrintToString(c.channels) +
         " channels, " + (c.signed_in ? "s8" : "u8") + " to " + (c.signed_out ? "s8" : "u8") +
         ", activation " + ::testing::PrintToString(static_cast<int>(c.kind)) +
         (c.with_table ? " with its table" : "");
}

Activation activation_of(const Case& c, const Dequantization& dq) {
  Activation act{c.kind, 1.0f / 6.0f, 0.5f};
  if (c.with_table) act.table = activation_table(dq, act);
  return act;
}

// Looked up, a value is the oracle's own.
bool exact(const Case& c) { return c.with_table && looks_up_activations(); }

std::vector<std::int8_t> random_bytes(std::size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<std::int8_t> bytes(count);
  for (std::int8_t& b : bytes) b = static_cast<std::int8_t>(byte(rng));
  return bytes;
}

// Different by at most one level anywhere, and equal for the identity (no operation the
// compiler may fuse differently): the activations' multiply-adds may be fused in one
// version and not in the other, and swish's exponential is swish.h's.
void expect_bytes_match(const std::vector<std::int8_t>& actual,
                        const std::vector<std::int8_t>& expected, bool is_signed,
                        bool must_be_equal) {
  int worst = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const int a = is_signed ? actual[i] : static_cast<std::uint8_t>(actual[i]);
    const int e = is_signed ? expected[i] : static_cast<std::uint8_t>(expected[i]);
    worst = std::max(worst, std::abs(a - e));
  }
  EXPECT_LE(worst, must_be_equal ? 0 : 1);
}

TEST(SqueezeExcite, ActivationAndSumsMatchTheOracle) {
  std::printf("squeeze-excite ISA: %s\n", squeeze_excite_isa());
  std::mt19937 rng(3);
  for (const Case& c : cases()) {
    SCOPED_TRACE(describe(c));
    const auto count = static_cast<std::size_t>(c.pixels * c.channels);
    const std::vector<std::int8_t> q = random_bytes(count, rng);
    const Dequantization dq{0.07f, c.signed_in ? -3 : 121, c.signed_in};
    const Activation act = activation_of(c, dq);
    std::vector<float> t(count + 1, 9.0f), expected_t(count);
    std::vector<float> sums(c.channels + 1, 1.0f), expected_sums(c.channels, 1.0f);
    activate_bytes_scalar(q.data(), dq, act, {c.pixels, c.channels}, expected_t.data(),
                          expected_sums.data());
    activate_bytes(q.data(), dq, act, {c.pixels, c.channels}, t.data(), sums.data());
    EXPECT_EQ(t.back(), 9.0f) << "wrote past the end";
    EXPECT_EQ(sums.back(), 1.0f) << "summed past the end";
    for (std::size_t i = 0; i < count; ++i) {
      if (exact(c)) {
        ASSERT_EQ(t[i], expected_t[i]) << i;
      } else {
        ASSERT_NEAR(t[i], expected_t[i], 1e-6f * std::max(1.0f, std::abs(expected_t[i]))) << i;
      }
    }
    for (std::int64_t ch = 0; ch < c.channels; ++ch) {
      ASSERT_NEAR(sums[ch], expected_sums[ch], 1e-4f * (1.0f + std::abs(expected_sums[ch])))
          << "channel " << ch;
    }
    // Only the sums: the same sums.
    std::vector<float> only(c.channels, 1.0f);
    activate_bytes(q.data(), dq, act, {c.pixels, c.channels}, nullptr, only.data());
    for (std::int64_t ch = 0; ch < c.channels; ++ch) ASSERT_EQ(only[ch], sums[ch]);
  }
}

TEST(SqueezeExcite, GateMatchesTheOracle) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> gate_value(-0.5f, 1.5f);
  for (const Case& c : cases()) {
    SCOPED_TRACE(describe(c));
    const auto count = static_cast<std::size_t>(c.pixels * c.channels);
    const std::vector<std::int8_t> q = random_bytes(count, rng);
    const Dequantization dq{0.05f, c.signed_in ? 7 : 128, c.signed_in};
    const Activation act = activation_of(c, dq);
    std::vector<float> gate(c.channels);
    for (float& g : gate) g = gate_value(rng);
    const Quantization out{0.02f, c.signed_out ? -5 : 110, c.signed_out};
    std::vector<std::int8_t> actual(count + 1, 42), expected(count);
    gate_quantize_bytes_scalar(q.data(), dq, act, gate.data(), {c.pixels, c.channels}, out,
                               expected.data());
    gate_quantize_bytes(q.data(), dq, act, gate.data(), {c.pixels, c.channels}, out, actual.data());
    EXPECT_EQ(actual.back(), 42) << "wrote past the end";
    actual.pop_back();
    expect_bytes_match(actual, expected, c.signed_out,
                       c.kind == ByteActivation::identity || exact(c));
    // From f32 values: the same bytes as the oracle's, whatever the activation.
    std::vector<float> t(count);
    activate_bytes_scalar(q.data(), dq, act, {c.pixels, c.channels}, t.data(), nullptr);
    std::vector<std::int8_t> from_floats(count), expected_from_floats(count);
    gate_quantize_scalar(t.data(), gate.data(), {c.pixels, c.channels}, out,
                         expected_from_floats.data());
    gate_quantize(t.data(), gate.data(), {c.pixels, c.channels}, out, from_floats.data());
    expect_bytes_match(from_floats, expected_from_floats, c.signed_out, true);
  }
}

// The oracles against values computed by hand.
TEST(SqueezeExcite, OracleDefinition) {
  // q = 140, 100 with zero point 120 and scale 0.1: x = 2, -2.
  const std::vector<std::uint8_t> q = {140, 100};
  const Dequantization dq{0.1f, 120, false};
  std::vector<float> t(2), sums(1, 0.0f);
  activate_bytes_scalar(q.data(), dq, {ByteActivation::hard_sigmoid_gate, 1.0f / 6.0f, 0.5f},
                        {2, 1}, t.data(), sums.data());
  EXPECT_NEAR(t[0], 2.0f * (2.0f / 6.0f + 0.5f), 1e-6f);    // hardswish(2)
  EXPECT_NEAR(t[1], -2.0f * (-2.0f / 6.0f + 0.5f), 1e-6f);  // hardswish(-2)
  EXPECT_NEAR(sums[0], t[0] + t[1], 1e-6f);
  activate_bytes_scalar(q.data(), dq, {ByteActivation::swish}, {1, 2}, t.data(), nullptr);
  EXPECT_NEAR(t[0], 2.0f / (1.0f + std::exp(-2.0f)), 1e-6f);
  // x * gate / scale + zero: 2 * 0.75 / 0.5 = 3 -> 13; -2 * 0.25 / 0.5 = -1 -> 9.
  const std::vector<float> gate = {0.75f, 0.25f};
  std::vector<std::uint8_t> y(2);
  gate_quantize_bytes_scalar(q.data(), dq, {}, gate.data(), {1, 2}, {0.5f, 10, false}, y.data());
  EXPECT_EQ(y[0], 13);
  EXPECT_EQ(y[1], 9);
}

TEST(SqueezeExcite, RoundsHalfToEvenSaturatesAndMapsNanToTheZeroPoint) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // Levels 2.5, 3.5, -1.5, 1000, -1000, NaN, inf with scale 1 and zero point 100.
  const std::vector<float> x = {2.5f, 3.5f, -1.5f, 1000.0f, -1000.0f, nan, inf, 0.5f};
  const std::vector<float> ones(x.size(), 1.0f);
  const std::vector<std::uint8_t> expected = {102, 104, 98, 255, 0, 100, 255, 100};
  for (bool vector_version : {false, true}) {
    std::vector<std::uint8_t> y(x.size());
    // One pixel of eight channels: the gate of ones multiplies nothing away.
    const ChannelsLast shape{1, static_cast<std::int64_t>(x.size())};
    if (vector_version) {
      gate_quantize(x.data(), ones.data(), shape, {1.0f, 100, false}, y.data());
    } else {
      gate_quantize_scalar(x.data(), ones.data(), shape, {1.0f, 100, false}, y.data());
    }
    EXPECT_EQ(y, expected) << (vector_version ? "vector" : "oracle");
  }
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
