// Quantized reference kernels: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger and com.microsoft.MatMulNBits.
// Hand-computed cases pin rounding (half to even), saturation and per-axis parameters;
// sweeps compare the integer kernels with float emulation (DequantizeLinear -> Conv/MatMul ->
// QuantizeLinear, within 1 LSB) and with naive integer loops written from the spec.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "edgeperf/core/random.h"
#include "op_tester.h"

namespace edgeperf::runtime::reference_test {
namespace {

Tensor u8(Shape shape, std::vector<std::uint8_t> values) {
  return make_tensor<std::uint8_t>(std::move(shape), values);
}
Tensor i8(Shape shape, std::vector<std::int8_t> values) {
  return make_tensor<std::int8_t>(std::move(shape), values);
}
Tensor scalar_f32(float value) { return f32({}, {value}); }

// Integer values of any integer tensor.
std::vector<std::int64_t> ints(const Tensor& tensor) { return tensor.to_int64s(); }

// ---- QuantizeLinear ----

TEST(QuantizeLinear, RoundsHalfToEvenAndSaturatesUint8) {
  const Tensor x = f32({8}, {-1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 300.0f, -300.0f, 3.5f});
  const auto y = OpTester("QuantizeLinear").input(x).constant(scalar_f32(1.0f)).run();
  ASSERT_EQ(y[0].dtype(), DType::u8);
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{0, 0, 0, 2, 2, 255, 0, 4}));
}

TEST(QuantizeLinear, ZeroPointShiftsAfterRounding) {
  const Tensor x = f32({7}, {-1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 300.0f, -300.0f});
  const auto y =
      OpTester("QuantizeLinear").input(x).constant(scalar_f32(1.0f)).constant(u8({}, {128})).run();
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{126, 128, 128, 130, 130, 255, 0}));
}

TEST(QuantizeLinear, Int8SaturatesBothWays) {
  const Tensor x = f32({6}, {-1.5f, 0.5f, 2.5f, 300.0f, -300.0f, -128.5f});
  const auto y =
      OpTester("QuantizeLinear").input(x).constant(scalar_f32(1.0f)).constant(i8({}, {0})).run();
  ASSERT_EQ(y[0].dtype(), DType::i8);
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{-2, 0, 2, 127, -128, -128}));
}

TEST(QuantizeLinear, DividesByTheScale) {
  // 0.25 / 0.5 = 0.5 -> 0 and 0.75 / 0.5 = 1.5 -> 2 (ties to even).
  const auto y = OpTester("QuantizeLinear")
                     .input(f32({3}, {0.25f, 0.75f, -0.75f}))
                     .constant(scalar_f32(0.5f))
                     .constant(i8({}, {0}))
                     .run();
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{0, 2, -2}));
}

TEST(QuantizeLinear, PerAxisUsesOneScaleAndZeroPointPerChannel) {
  const Tensor x = f32({2, 3}, {4, 4, 4, -2, 6, 10});
  const auto y = OpTester("QuantizeLinear")
                     .input(x)
                     .constant(f32({3}, {1, 2, 4}))
                     .constant(u8({3}, {0, 10, 20}))
                     .attr("axis", std::int64_t{1})
                     .run();
  // 10 / 4 = 2.5 rounds to 2.
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{4, 12, 21, 0, 13, 22}));
}

TEST(QuantizeLinear, PerAxisOnAxisZeroAndNegativeAxis) {
  const Tensor x = f32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const auto axis0 = OpTester("QuantizeLinear")
                         .input(x)
                         .constant(f32({2}, {1, 2}))
                         .constant(i8({2}, {0, -1}))
                         .attr("axis", std::int64_t{0})
                         .run();
  // 5/2 = 2.5 -> 2, 7/2 = 3.5 -> 4; minus 1.
  EXPECT_EQ(ints(axis0[0]), (std::vector<std::int64_t>{1, 2, 3, 4, 1, 2, 3, 3}));
  const auto last = OpTester("QuantizeLinear")
                        .input(x)
                        .constant(f32({2}, {1, 4}))
                        .constant(u8({2}, {0, 0}))
                        .attr("axis", std::int64_t{-1})
                        .run();
  // 2/4 = 0.5 -> 0, 4/4 = 1, 6/4 = 1.5 -> 2, 8/4 = 2.
  EXPECT_EQ(ints(last[0]), (std::vector<std::int64_t>{1, 0, 3, 1, 5, 2, 7, 2}));
}

TEST(QuantizeLinear, Int32InputIsQuantizedLikeFloat) {
  const auto y = OpTester("QuantizeLinear")
                     .input(i32({3}, {5, -5, 1000}))
                     .constant(scalar_f32(2.0f))
                     .constant(i8({}, {0}))
                     .run();
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{2, -2, 127}));
}

// ---- DequantizeLinear ----

TEST(DequantizeLinear, PerTensorUint8) {
  const auto y = OpTester("DequantizeLinear")
                     .input(u8({3}, {0, 128, 255}))
                     .constant(scalar_f32(0.5f))
                     .constant(u8({}, {128}))
                     .run();
  expect_close(y[0], f32({3}, {-64.0f, 0.0f, 63.5f}));
}

TEST(DequantizeLinear, PerAxisInt8) {
  const auto y = OpTester("DequantizeLinear")
                     .input(i8({2, 2}, {-128, 127, 10, -10}))
                     .constant(f32({2}, {0.5f, 2.0f}))
                     .constant(i8({2}, {0, -10}))
                     .attr("axis", std::int64_t{0})
                     .run();
  expect_close(y[0], f32({2, 2}, {-64.0f, 63.5f, 40.0f, 0.0f}));
}

TEST(DequantizeLinear, Int32WithoutZeroPoint) {
  const auto y =
      OpTester("DequantizeLinear").input(i32({2}, {100, -100})).constant(scalar_f32(0.25f)).run();
  expect_close(y[0], f32({2}, {25.0f, -25.0f}));
}

TEST(QuantDequant, RoundTripIsExactOnTheGrid) {
  const Tensor q = random_tensor(DType::i8, {4, 5, 3}, 7, -128, 128);
  const Tensor scales = f32({5}, {0.1f, 0.25f, 1.0f, 3.0f, 0.0078125f});
  const Tensor zeros = i8({5}, {0, 3, -7, 12, -128});
  const auto x = OpTester("DequantizeLinear")
                     .input(q)
                     .constant(scales)
                     .constant(zeros)
                     .attr("axis", std::int64_t{1})
                     .run();
  const auto back = OpTester("QuantizeLinear")
                        .input(x[0])
                        .constant(scales)
                        .constant(zeros)
                        .attr("axis", std::int64_t{1})
                        .run();
  // Values dequantized from the grid quantize back to the same codes.
  EXPECT_EQ(ints(back[0]), ints(q));
}

// ---- DynamicQuantizeLinear ----

std::vector<Tensor> run_dynamic(const Tensor& x) {
  return OpTester("DynamicQuantizeLinear", 3).input(x).run();
}

TEST(DynamicQuantizeLinear, RangeIncludesZero) {
  // min 0 (forced), max 255: scale 1, zero point 0.
  const auto y = run_dynamic(f32({5}, {0.0f, 1.5f, 2.5f, 255.0f, 100.4f}));
  EXPECT_FLOAT_EQ(y[1].data<float>()[0], 1.0f);
  EXPECT_EQ(ints(y[2]), (std::vector<std::int64_t>{0}));
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{0, 2, 2, 255, 100}));
}

TEST(DynamicQuantizeLinear, NegativeMinimumMovesTheZeroPoint) {
  const auto y = run_dynamic(f32({3}, {-51.0f, 204.0f, 0.0f}));
  EXPECT_FLOAT_EQ(y[1].data<float>()[0], 1.0f);
  EXPECT_EQ(ints(y[2]), (std::vector<std::int64_t>{51}));
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{0, 255, 51}));
}

TEST(DynamicQuantizeLinear, PositiveDataKeepsZeroAtCodeZero) {
  const auto y = run_dynamic(f32({2}, {1.0f, 2.0f}));
  EXPECT_FLOAT_EQ(y[1].data<float>()[0], 2.0f / 255.0f);
  EXPECT_EQ(ints(y[2]), (std::vector<std::int64_t>{0}));
  // 1 / float(2 / 255) is just below 127.5: it rounds to 127.
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{127, 255}));
}

TEST(DynamicQuantizeLinear, AllZeroInputHasNoNaN) {
  const auto y = run_dynamic(f32({3}, {0.0f, 0.0f, 0.0f}));
  EXPECT_TRUE(std::isfinite(y[1].data<float>()[0]));
  EXPECT_GT(y[1].data<float>()[0], 0.0f);
  EXPECT_EQ(ints(y[2]), (std::vector<std::int64_t>{0}));
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{0, 0, 0}));
}

// ---- MatMulInteger / ConvInteger against naive integer loops ----

TEST(MatMulInteger, PerRowAndPerColumnZeroPoints) {
  const Tensor a = u8({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = i8({3, 2}, {1, -1, 0, 2, -3, 4});
  const auto y = OpTester("MatMulInteger")
                     .input(a)
                     .input(b)
                     .constant(u8({2}, {1, 4}))
                     .constant(i8({2}, {0, 1}))
                     .run();
  ASSERT_EQ(y[0].dtype(), DType::i32);
  // a - [1;4] = [[0,1,2],[0,1,2]]; b - [0,1] = [[1,-2],[0,1],[-3,3]].
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{-6, 7, -6, 7}));
}

TEST(MatMulInteger, BroadcastsBatchesWithScalarZeroPoints) {
  const Tensor a = random_tensor(DType::u8, {2, 1, 3, 4}, 11, 0, 256);
  const Tensor b = random_tensor(DType::u8, {3, 4, 5}, 12, 0, 256);
  const auto y = OpTester("MatMulInteger")
                     .input(a)
                     .input(b)
                     .constant(u8({}, {128}))
                     .constant(u8({}, {7}))
                     .run();
  ASSERT_EQ(y[0].shape(), (Shape{2, 3, 3, 5}));
  const auto av = ints(a), bv = ints(b), yv = ints(y[0]);
  for (std::int64_t p = 0; p < 2; ++p)
    for (std::int64_t q = 0; q < 3; ++q)
      for (std::int64_t i = 0; i < 3; ++i)
        for (std::int64_t j = 0; j < 5; ++j) {
          std::int64_t sum = 0;
          for (std::int64_t k = 0; k < 4; ++k) {
            sum += (av[(p * 3 + i) * 4 + k] - 128) * (bv[(q * 4 + k) * 5 + j] - 7);
          }
          EXPECT_EQ(yv[((p * 3 + q) * 3 + i) * 5 + j], sum);
        }
}

struct IntConvCase {
  Shape x, w;
  std::int64_t group = 1;
  std::vector<std::int64_t> strides{1, 1}, dilations{1, 1}, pads{0, 0, 0, 0};
};

// Naive 2-D integer convolution from the spec; padding holds the x zero point.
std::vector<std::int64_t> naive_int_conv(const IntConvCase& c, const std::vector<std::int64_t>& x,
                                         std::int64_t x_zero, const std::vector<std::int64_t>& w,
                                         const std::vector<std::int64_t>& w_zero, Shape* shape) {
  const std::int64_t n = c.x[0], ch = c.x[1], h = c.x[2], wd = c.x[3];
  const std::int64_t m = c.w[0], cg = c.w[1], kh = c.w[2], kw = c.w[3];
  const std::int64_t oh =
      (h + c.pads[0] + c.pads[2] - ((kh - 1) * c.dilations[0] + 1)) / c.strides[0] + 1;
  const std::int64_t ow =
      (wd + c.pads[1] + c.pads[3] - ((kw - 1) * c.dilations[1] + 1)) / c.strides[1] + 1;
  *shape = {n, m, oh, ow};
  std::vector<std::int64_t> y(static_cast<std::size_t>(n * m * oh * ow));
  for (std::int64_t in = 0; in < n; ++in)
    for (std::int64_t om = 0; om < m; ++om) {
      const std::int64_t g = om / (m / c.group);
      const std::int64_t wz = w_zero.size() == 1 ? w_zero[0] : w_zero[om];
      for (std::int64_t y0 = 0; y0 < oh; ++y0)
        for (std::int64_t x0 = 0; x0 < ow; ++x0) {
          std::int64_t sum = 0;
          for (std::int64_t ic = 0; ic < cg; ++ic)
            for (std::int64_t ky = 0; ky < kh; ++ky)
              for (std::int64_t kx = 0; kx < kw; ++kx) {
                const std::int64_t iy = y0 * c.strides[0] - c.pads[0] + ky * c.dilations[0];
                const std::int64_t ix = x0 * c.strides[1] - c.pads[1] + kx * c.dilations[1];
                const std::int64_t xv = iy < 0 || iy >= h || ix < 0 || ix >= wd
                                            ? x_zero
                                            : x[((in * ch + g * cg + ic) * h + iy) * wd + ix];
                sum += (xv - x_zero) * (w[((om * cg + ic) * kh + ky) * kw + kx] - wz);
              }
          y[((in * m + om) * oh + y0) * ow + x0] = sum;
        }
    }
  return y;
}

const std::vector<IntConvCase>& conv_cases() {
  static const std::vector<IntConvCase> cases{
      {{1, 3, 7, 7}, {4, 3, 3, 3}},
      {{2, 4, 9, 8}, {6, 2, 3, 3}, 2, {2, 2}, {1, 1}, {1, 1, 1, 1}},
      {{1, 8, 10, 10}, {8, 1, 3, 3}, 8, {1, 1}, {1, 1}, {1, 1, 1, 1}},  // depthwise
      {{1, 3, 11, 9}, {5, 3, 3, 2}, 1, {1, 2}, {2, 1}, {2, 0, 1, 1}},   // dilated, asymmetric
      {{1, 16, 5, 5}, {20, 16, 1, 1}},                                  // pointwise
      {{1, 4, 6, 6}, {2, 4, 5, 5}, 1, {3, 3}, {1, 1}, {2, 2, 2, 2}},    // big pads and stride
  };
  return cases;
}

void add_conv_attrs(OpTester& tester, const IntConvCase& c) {
  tester.attr("group", c.group)
      .attr("strides", c.strides)
      .attr("dilations", c.dilations)
      .attr("pads", c.pads);
}

TEST(ConvInteger, MatchesNaiveLoopsWithPerChannelWeightZeroPoints) {
  std::uint64_t seed = 100;
  for (const IntConvCase& c : conv_cases()) {
    const Tensor x = random_tensor(DType::u8, c.x, seed++, 0, 256);
    const Tensor w = random_tensor(DType::i8, c.w, seed++, -128, 128);
    const Tensor w_zero = random_tensor(DType::i8, {c.w[0]}, seed++, -5, 5);
    OpTester tester("ConvInteger");
    tester.input(x).constant(w).constant(u8({}, {131})).constant(w_zero);
    add_conv_attrs(tester, c);
    const auto y = tester.run();
    Shape shape;
    const auto expected = naive_int_conv(c, ints(x), 131, ints(w), ints(w_zero), &shape);
    ASSERT_EQ(y[0].shape(), shape) << shape_to_string(c.x);
    EXPECT_EQ(ints(y[0]), expected) << shape_to_string(c.x) << " " << shape_to_string(c.w);
  }
}

TEST(ConvInteger, OneDimensionalEqualsTwoDimensionalWithHeightOne) {
  const Tensor x = random_tensor(DType::u8, {2, 3, 10}, 300, 0, 256);
  const Tensor w = random_tensor(DType::i8, {4, 3, 3}, 301, -128, 128);
  const auto y1 = OpTester("ConvInteger")
                      .input(x)
                      .constant(w)
                      .constant(u8({}, {9}))
                      .attr("pads", std::vector<std::int64_t>{1, 2})
                      .attr("strides", std::vector<std::int64_t>{2})
                      .run();
  const auto y2 = OpTester("ConvInteger")
                      .input(x.reshaped({2, 3, 1, 10}))
                      .constant(w.reshaped({4, 3, 1, 3}))
                      .constant(u8({}, {9}))
                      .attr("pads", std::vector<std::int64_t>{0, 1, 0, 2})
                      .attr("strides", std::vector<std::int64_t>{1, 2})
                      .run();
  ASSERT_EQ(y1[0].shape(), (Shape{2, 4, 6}));
  EXPECT_EQ(ints(y1[0]), ints(y2[0]));
}

// ---- QLinearConv against DequantizeLinear -> Conv -> QuantizeLinear ----

struct QuantRangeForTest {
  std::int64_t lo, hi;
};

template <typename TX, typename TW, typename TY>
void check_qlinear_conv(const IntConvCase& c, std::uint64_t seed, bool per_channel) {
  const DType xt = dtype_of<TX>(), wt = dtype_of<TW>(), yt = dtype_of<TY>();
  const double x_lo = xt == DType::u8 ? 0 : -128;
  const Tensor x = random_tensor(xt, c.x, seed, x_lo, x_lo + 256);
  const Tensor w =
      random_tensor(wt, c.w, seed + 1, wt == DType::u8 ? 0 : -128, wt == DType::u8 ? 256 : 128);
  const std::int64_t m = c.w[0];
  const Tensor x_scale = scalar_f32(0.02f);
  const Tensor x_zero = make_tensor<TX>({}, {static_cast<TX>(xt == DType::u8 ? 120 : -3)});
  const Tensor w_scale =
      per_channel ? random_tensor(DType::f32, {m}, seed + 2, 0.001, 0.01) : scalar_f32(0.004f);
  const Tensor w_zero = per_channel ? Tensor(wt, {m}) : Tensor(wt, {});  // zeros
  const Tensor bias = random_tensor(DType::i32, {m}, seed + 3, -5000, 5000);
  // Output scale chosen so that outputs spread over the whole range (and saturate some).
  const std::int64_t k = c.w[1] * c.w[2] * c.w[3];
  // (x - x_zero) and w have a standard deviation near 74; +-2 sigma of the sum maps to +-128.
  const double sum_sigma = 74.0 * 74.0 * std::sqrt(static_cast<double>(k)) * 0.02 * 0.005;
  const Tensor y_scale = scalar_f32(static_cast<float>(2.0 * sum_sigma / 128.0));
  const Tensor y_zero = make_tensor<TY>({}, {static_cast<TY>(yt == DType::u8 ? 128 : 5)});

  OpTester q("QLinearConv");
  q.input(x)
      .constant(x_scale)
      .constant(x_zero)
      .constant(w)
      .constant(w_scale)
      .constant(w_zero)
      .constant(y_scale)
      .constant(y_zero)
      .constant(bias);
  add_conv_attrs(q, c);
  const auto actual = q.run();
  ASSERT_EQ(actual[0].dtype(), yt);

  const auto xf = OpTester("DequantizeLinear").input(x).constant(x_scale).constant(x_zero).run();
  const auto wf = OpTester("DequantizeLinear")
                      .input(w)
                      .constant(w_scale)
                      .constant(w_zero)
                      .attr("axis", std::int64_t{0})
                      .run();
  Tensor bias_scale(DType::f32, {m});
  for (std::int64_t i = 0; i < m; ++i) {
    bias_scale.data<float>()[i] = 0.02f * (per_channel ? w_scale.data<float>()[i] : 0.004f);
  }
  const auto bf = OpTester("DequantizeLinear")
                      .input(bias)
                      .constant(bias_scale)
                      .attr("axis", std::int64_t{0})
                      .run();
  OpTester conv("Conv");
  conv.input(xf[0]).constant(wf[0]).constant(bf[0]);
  add_conv_attrs(conv, c);
  const auto yf = conv.run();
  const auto expected =
      OpTester("QuantizeLinear").input(yf[0]).constant(y_scale).constant(y_zero).run();

  ASSERT_EQ(actual[0].shape(), expected[0].shape());
  const auto a = ints(actual[0]), e = ints(expected[0]);
  std::size_t exact = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_LE(std::abs(a[i] - e[i]), 1) << "at " << i << " for x " << shape_to_string(c.x);
    exact += a[i] == e[i];
  }
  EXPECT_GT(exact, a.size() * 9 / 10) << "most outputs should agree exactly";
  const QuantRangeForTest range{yt == DType::u8 ? 0 : -128, yt == DType::u8 ? 255 : 127};
  const auto unsaturated = std::count_if(
      e.begin(), e.end(), [&](std::int64_t v) { return v > range.lo && v < range.hi; });
  EXPECT_GT(unsaturated, static_cast<std::ptrdiff_t>(e.size() / 2)) << "outputs should spread";
}

TEST(QLinearConv, AgreesWithFloatEmulationWithinOneLsb) {
  std::uint64_t seed = 500;
  for (const IntConvCase& c : conv_cases()) {
    check_qlinear_conv<std::uint8_t, std::int8_t, std::uint8_t>(c, seed += 10, true);
    check_qlinear_conv<std::uint8_t, std::int8_t, std::int8_t>(c, seed += 10, false);
    check_qlinear_conv<std::int8_t, std::int8_t, std::int8_t>(c, seed += 10, true);
    check_qlinear_conv<std::uint8_t, std::uint8_t, std::uint8_t>(c, seed += 10, false);
  }
}

TEST(QLinearConv, HandComputedPerChannel) {
  // 1x1 conv, 2 input channels, 2 output channels with different weight scales.
  const Tensor x = u8({1, 2, 1, 2}, {10, 20, 30, 40});  // zero point 10
  const Tensor w = i8({2, 2, 1, 1}, {1, 2, -1, 3});
  OpTester q("QLinearConv");
  q.input(x)
      .constant(scalar_f32(1.0f))
      .constant(u8({}, {10}))
      .constant(w)
      .constant(f32({2}, {1.0f, 0.5f}))
      .constant(i8({2}, {0, 0}))
      .constant(scalar_f32(2.0f))
      .constant(u8({}, {100}))
      .constant(i32({2}, {1, -4}));
  const auto y = q.run();
  // x - 10: channel 0 [0, 10], channel 1 [20, 30].
  // out 0: (0*1 + 20*2 + 1) / 2 = 20.5 -> 20; (10*1 + 30*2 + 1) / 2 = 35.5 -> 36
  // out 1: (0*-1 + 20*3 - 4) * 0.25 = 14; (10*-1 + 30*3 - 4) * 0.25 = 19
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{120, 136, 114, 119}));
}

// ---- QLinearMatMul against float emulation ----

TEST(QLinearMatMul, AgreesWithFloatEmulationWithBroadcastAndPerColumnScales) {
  const Shape a_shape{2, 1, 3, 16}, b_shape{4, 16, 5};
  const Tensor a = random_tensor(DType::u8, a_shape, 41, 0, 256);
  const Tensor b = random_tensor(DType::i8, b_shape, 42, -128, 128);
  const Tensor a_scale = scalar_f32(0.03f), a_zero = u8({}, {128});
  const Tensor b_scale = random_tensor(DType::f32, {5}, 43, 0.002, 0.01);
  const Tensor b_zero = i8({5}, {0, 1, -2, 0, 3});
  const Tensor y_scale = scalar_f32(0.05f), y_zero = i8({}, {-4});
  const auto actual = OpTester("QLinearMatMul")
                          .input(a)
                          .constant(a_scale)
                          .constant(a_zero)
                          .constant(b)
                          .constant(b_scale)
                          .constant(b_zero)
                          .constant(y_scale)
                          .constant(y_zero)
                          .run();
  ASSERT_EQ(actual[0].shape(), (Shape{2, 4, 3, 5}));
  ASSERT_EQ(actual[0].dtype(), DType::i8);
  const auto af = OpTester("DequantizeLinear").input(a).constant(a_scale).constant(a_zero).run();
  const auto bf = OpTester("DequantizeLinear")
                      .input(b)
                      .constant(b_scale)
                      .constant(b_zero)
                      .attr("axis", std::int64_t{-1})
                      .run();
  const auto yf = OpTester("MatMul").input(af[0]).input(bf[0]).run();
  const auto expected =
      OpTester("QuantizeLinear").input(yf[0]).constant(y_scale).constant(y_zero).run();
  const auto x = ints(actual[0]), e = ints(expected[0]);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_LE(std::abs(x[i] - e[i]), 1) << "at " << i;
}

TEST(QLinearMatMul, PerRowScalesOfA) {
  // a [2, 2] with per-row zero points and scales; b identity.
  const auto y = OpTester("QLinearMatMul")
                     .input(u8({2, 2}, {12, 14, 20, 30}))
                     .constant(f32({2}, {1.0f, 0.5f}))
                     .constant(u8({2}, {10, 20}))
                     .constant(u8({2, 2}, {1, 0, 0, 1}))
                     .constant(scalar_f32(1.0f))
                     .constant(u8({}, {0}))
                     .constant(scalar_f32(1.0f))
                     .constant(u8({}, {50}))
                     .run();
  // row 0: [2, 4] * 1 + 50; row 1: [0, 10] * 0.5 + 50.
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{52, 54, 50, 55}));
}

// ---- com.microsoft MatMulNBits against dequantize -> MatMul ----

struct NBitsCase {
  std::int64_t rows, k, n, bits, block_size;
  bool zero_points, bias;
};

// Packs codes (values < 2^bits) low bits first into bytes.
std::vector<std::uint8_t> pack_codes(const std::vector<int>& codes, std::int64_t bits) {
  std::vector<std::uint8_t> bytes((codes.size() * static_cast<std::size_t>(bits) + 7) / 8, 0);
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const std::size_t bit = i * static_cast<std::size_t>(bits);
    bytes[bit / 8] = static_cast<std::uint8_t>(bytes[bit / 8] | (codes[i] << (bit % 8)));
  }
  return bytes;
}

void check_nbits(const NBitsCase& c, std::uint64_t seed) {
  const std::int64_t blocks = (c.k + c.block_size - 1) / c.block_size;
  const std::int64_t blob = c.block_size * c.bits / 8;
  const int levels = 1 << c.bits;
  const auto code_values =
      random_tensor(DType::i32, {c.n, blocks * c.block_size}, seed, 0, levels).to_int64s();
  const auto zero_values =
      random_tensor(DType::i32, {c.n, blocks}, seed + 1, 0, levels).to_int64s();
  const Tensor scales = random_tensor(DType::f32, {c.n * blocks}, seed + 2, 0.01, 0.1);
  const Tensor a = random_tensor(DType::f32, {c.rows, c.k}, seed + 3);
  const Tensor bias = random_tensor(DType::f32, {c.n}, seed + 4);
  // Codes beyond K in the last block are padding: give them junk to check they are ignored.
  std::vector<int> codes(code_values.begin(), code_values.end());
  Tensor b(DType::u8, {c.n, blocks, blob});
  const auto packed = pack_codes(codes, c.bits);
  std::copy(packed.begin(), packed.end(), b.data<std::uint8_t>());
  Tensor zero_tensor;
  if (c.zero_points) {
    std::vector<std::uint8_t> all;
    for (std::int64_t n = 0; n < c.n; ++n) {
      const std::vector<int> row(zero_values.begin() + n * blocks,
                                 zero_values.begin() + (n + 1) * blocks);
      const auto row_bytes = pack_codes(row, c.bits);
      all.insert(all.end(), row_bytes.begin(), row_bytes.end());
    }
    zero_tensor = make_tensor<std::uint8_t>({static_cast<std::int64_t>(all.size())}, all);
  }
  // Dequantized B^T as [K, N] for a plain MatMul.
  Tensor weights(DType::f32, {c.k, c.n});
  for (std::int64_t n = 0; n < c.n; ++n)
    for (std::int64_t k = 0; k < c.k; ++k) {
      const std::int64_t block = k / c.block_size;
      const double zero =
          c.zero_points ? static_cast<double>(zero_values[n * blocks + block]) : levels / 2;
      weights.data<float>()[k * c.n + n] = static_cast<float>(
          (static_cast<double>(code_values[n * blocks * c.block_size + k]) - zero) *
          scales.data<float>()[n * blocks + block]);
    }
  OpTester tester("MatMulNBits");
  tester.domain("com.microsoft").input(a).constant(b).constant(scales);
  if (c.zero_points) {
    tester.constant(zero_tensor);
  } else if (c.bias) {
    tester.absent();
  }
  if (c.bias) tester.absent().constant(bias);
  tester.attr("K", c.k).attr("N", c.n).attr("bits", c.bits).attr("block_size", c.block_size);
  const auto actual = tester.run();
  auto expected = OpTester("MatMul").input(a).constant(weights).run();
  if (c.bias) expected = OpTester("Add").input(expected[0]).constant(bias.reshaped({1, c.n})).run();
  expect_close(actual[0], expected[0], 1e-5);
}

TEST(MatMulNBits, MatchesDequantizeThenMatMul) {
  const std::vector<NBitsCase> cases{
      {3, 64, 8, 4, 32, false, false},  // symmetric default zero point 8
      {5, 64, 7, 4, 16, true, false},   // packed zero points, odd block count per row
      {2, 40, 6, 4, 16, true, true},    // K not a multiple of block_size, bias
      {4, 128, 5, 8, 64, true, true},   // 8 bits
      {1, 48, 9, 2, 16, true, false},   // 2 bits
  };
  std::uint64_t seed = 900;
  for (const NBitsCase& c : cases) check_nbits(c, seed += 10);
}

TEST(MatMulNBits, HandComputedFourBitPacking) {
  // K = 16 (one block), N = 1: codes 0..15 packed two per byte, low nibble first.
  std::vector<int> codes(16);
  for (int i = 0; i < 16; ++i) codes[static_cast<std::size_t>(i)] = i;
  const auto packed = pack_codes(codes, 4);
  ASSERT_EQ(packed[0], 0x10);  // element 0 in the low nibble, element 1 in the high one
  Tensor b(DType::u8, {1, 1, 8});
  std::copy(packed.begin(), packed.end(), b.data<std::uint8_t>());
  std::vector<float> ones(16, 1.0f);
  const auto y = OpTester("MatMulNBits")
                     .domain("com.microsoft")
                     .input(f32({1, 16}, ones))
                     .constant(b)
                     .constant(f32({1}, {0.5f}))
                     .attr("K", std::int64_t{16})
                     .attr("N", std::int64_t{1})
                     .attr("bits", std::int64_t{4})
                     .attr("block_size", std::int64_t{16})
                     .run();
  // sum(i - 8) for i in 0..15 = 120 - 128 = -8, times 0.5.
  expect_close(y[0], f32({1, 1}, {-4.0f}));
}

// ---- com.microsoft QLinearAdd / QLinearGlobalAveragePool ----

TEST(QLinearAdd, BroadcastsAndRoundsHalfToEven) {
  const auto y = OpTester("QLinearAdd")
                     .domain("com.microsoft")
                     .input(u8({4}, {10, 20, 11, 13}))
                     .constant(scalar_f32(0.5f))
                     .constant(u8({}, {10}))
                     .input(u8({2, 1}, {0, 4}))
                     .constant(scalar_f32(0.25f))
                     .constant(u8({}, {0}))
                     .constant(scalar_f32(1.0f))
                     .constant(u8({}, {100}))
                     .run();
  ASSERT_EQ(y[0].shape(), (Shape{2, 4}));
  // 0.5 * (A - 10) + 0.25 * B: row 0 [0, 5, 0.5, 1.5], row 1 [1, 6, 1.5, 2.5].
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{100, 105, 100, 102, 101, 106, 102, 102}));
}

TEST(QLinearAdd, ZeroPointsAreOptional) {
  const auto y = OpTester("QLinearAdd")
                     .domain("com.microsoft")
                     .input(i8({2}, {-4, 6}))
                     .constant(scalar_f32(1.0f))
                     .absent()
                     .input(i8({2}, {3, 100}))
                     .constant(scalar_f32(1.0f))
                     .absent()
                     .constant(scalar_f32(2.0f))
                     .run();
  ASSERT_EQ(y[0].dtype(), DType::i8);
  EXPECT_EQ(ints(y[0]), (std::vector<std::int64_t>{0, 53}));  // -0.5 -> 0, 53
}

TEST(QLinearGlobalAveragePool, ChannelsFirstAndLast) {
  const auto first = OpTester("QLinearGlobalAveragePool")
                         .domain("com.microsoft")
                         .input(u8({1, 2, 2, 2}, {1, 2, 3, 4, 10, 10, 10, 11}))
                         .constant(scalar_f32(1.0f))
                         .constant(u8({}, {0}))
                         .constant(scalar_f32(1.0f))
                         .constant(u8({}, {0}))
                         .run();
  ASSERT_EQ(first[0].shape(), (Shape{1, 2, 1, 1}));
  EXPECT_EQ(ints(first[0]), (std::vector<std::int64_t>{2, 10}));  // 2.5 -> 2, 10.25 -> 10
  const auto last = OpTester("QLinearGlobalAveragePool")
                        .domain("com.microsoft")
                        .input(i8({1, 2, 2, 2}, {1, 10, 2, 10, 3, 10, 4, 11}))
                        .constant(scalar_f32(0.5f))
                        .constant(i8({}, {1}))
                        .constant(scalar_f32(0.25f))
                        .constant(i8({}, {-3}))
                        .attr("channels_last", std::int64_t{1})
                        .run();
  ASSERT_EQ(last[0].shape(), (Shape{1, 1, 1, 2}));
  // mean(X - 1) * 0.5 / 0.25: channel 0 1.5 * 2 = 3, channel 1 9.25 * 2 = 18.5 -> 18.
  EXPECT_EQ(ints(last[0]), (std::vector<std::int64_t>{0, 15}));
}

// ---- Bad input: one-line errors naming the node ----

TEST(QuantBadInput, PerAxisScaleLengthMustMatchTheAxis) {
  expect_error(
      [] {
        OpTester("QuantizeLinear")
            .input(f32({2, 3}, {1, 2, 3, 4, 5, 6}))
            .constant(f32({2}, {1, 1}))
            .constant(u8({2}, {0, 0}))
            .attr("axis", std::int64_t{1})
            .infer();
      },
      "'node' (QuantizeLinear): per-axis 'y_scale' has shape [2] but the quantized axis has 3");
  expect_error(
      [] {
        OpTester q("QLinearConv");
        q.input(u8({1, 2, 3, 3}, std::vector<std::uint8_t>(18, 1)))
            .constant(scalar_f32(1))
            .constant(u8({}, {0}))
            .constant(i8({4, 2, 1, 1}, std::vector<std::int8_t>(8, 1)))
            .constant(f32({3}, {1, 1, 1}))
            .constant(i8({}, {0}))
            .constant(scalar_f32(1))
            .constant(u8({}, {0}));
        q.infer();
      },
      "per-axis 'w_scale' has shape [3] but the quantized axis has 4");
}

TEST(QuantBadInput, ZeroPointDtypeMustMatchItsTensor) {
  expect_error(
      [] {
        OpTester("DequantizeLinear")
            .input(u8({2}, {1, 2}))
            .constant(scalar_f32(1))
            .constant(i8({}, {0}))
            .infer();
      },
      "'node' (DequantizeLinear): zero point 'x_zero_point' is i8 but 'x' is u8");
  expect_error(
      [] {
        OpTester("MatMulInteger")
            .input(u8({1, 2}, {1, 2}))
            .input(u8({2, 1}, {1, 2}))
            .constant(i8({}, {0}))
            .infer();
      },
      "zero point 'a_zero_point' is i8 but 'A' is u8");
}

TEST(QuantBadInput, ZeroOrNonFiniteScaleIsRefused) {
  expect_error(
      [] { OpTester("QuantizeLinear").input(f32({1}, {1})).constant(scalar_f32(0.0f)).infer(); },
      "'node' (QuantizeLinear): 'y_scale'[0] is 0");
  expect_error(
      [] {  // a runtime scale is checked when the node runs
        OpTester("QuantizeLinear").input(f32({1}, {1})).input(scalar_f32(0.0f)).run();
      },
      "'y_scale'[0] is 0");
  expect_error(
      [] { OpTester("DequantizeLinear").input(u8({1}, {1})).constant(scalar_f32(NAN)).infer(); },
      "'x_scale'[0] is nan; a scale must be finite");
  expect_error(
      [] {
        OpTester("QLinearMatMul")
            .input(u8({1, 1}, {1}))
            .constant(scalar_f32(1))
            .constant(u8({}, {0}))
            .constant(u8({1, 1}, {1}))
            .constant(scalar_f32(1))
            .constant(u8({}, {0}))
            .constant(scalar_f32(0))
            .constant(u8({}, {0}))
            .infer();
      },
      "'node' (QLinearMatMul): 'y_scale'[0] is 0");
}

TEST(QuantBadInput, OtherMalformedInputs) {
  expect_error(
      [] {
        run_dynamic(f32({2}, {1.0f, INFINITY}));
      },
      "'node' (DynamicQuantizeLinear): input 'x' holds inf");
  expect_error(
      [] {
        OpTester("DequantizeLinear")
            .input(i32({1}, {1}))
            .constant(scalar_f32(1))
            .constant(i32({}, {3}))
            .infer();
      },
      "int32 input 'x' needs zero point 0");
  expect_error(
      [] {
        OpTester("MatMulNBits")
            .domain("com.microsoft")
            .input(f32({1, 32}, std::vector<float>(32, 1.0f)))
            .constant(Tensor(DType::u8, {2, 2, 8}))
            .constant(f32({2}, {1, 1}))
            .attr("K", std::int64_t{32})
            .attr("N", std::int64_t{2})
            .attr("block_size", std::int64_t{16})
            .infer();
      },
      "'node' (MatMulNBits): input 'scales' has shape [2], expected [4]");
  expect_error(
      [] {
        OpTester("MatMulNBits")
            .domain("com.microsoft")
            .input(f32({1, 32}, std::vector<float>(32, 1.0f)))
            .constant(Tensor(DType::u8, {2, 2, 8}))
            .constant(f32({4}, {1, 1, 1, 1}))
            .attr("K", std::int64_t{32})
            .attr("N", std::int64_t{2})
            .attr("block_size", std::int64_t{12})
            .infer();
      },
      "'block_size' is 12");
}

}  // namespace
}  // namespace edgeperf::runtime::reference_test
