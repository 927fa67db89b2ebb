// Conv / ConvTranspose against naive double-precision loops written from the ONNX spec.
#include <gtest/gtest.h>

#include "edgeperf/core/random.h"
#include "op_tester.h"

namespace edgeperf::runtime::reference_test {
namespace {

struct ConvCase {
  Shape x;  // N, C, H, W
  Shape w;  // M, C/group, KH, KW
  std::int64_t group = 1;
  std::vector<std::int64_t> strides{1, 1}, dilations{1, 1}, pads{0, 0, 0, 0};
  std::string auto_pad = "NOTSET";
  bool bias = true;
};

// Output size and begin pads per the ONNX Conv spec, computed independently of the kernel.
void naive_geometry(const ConvCase& c, std::int64_t axis, std::int64_t* out, std::int64_t* pad) {
  const std::int64_t in = c.x[2 + axis];
  const std::int64_t k = (c.w[2 + axis] - 1) * c.dilations[axis] + 1;
  const std::int64_t s = c.strides[axis];
  if (c.auto_pad == "VALID") {
    *out = (in - k) / s + 1;
    *pad = 0;
  } else if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
    *out = (in + s - 1) / s;
    const std::int64_t total = std::max<std::int64_t>(0, (*out - 1) * s + k - in);
    *pad = c.auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
  } else {
    *out = (in + c.pads[axis] + c.pads[axis + 2] - k) / s + 1;
    *pad = c.pads[axis];
  }
}

Tensor naive_conv(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b) {
  std::int64_t oh, ow, ph, pw;
  naive_geometry(c, 0, &oh, &ph);
  naive_geometry(c, 1, &ow, &pw);
  const std::int64_t n = c.x[0], ch = c.x[1], h = c.x[2], wd = c.x[3];
  const std::int64_t m = c.w[0], cg = c.w[1], kh = c.w[2], kw = c.w[3];
  Tensor y(DType::f32, {n, m, oh, ow});
  const float* px = x.data<float>();
  const float* pw_ = w.data<float>();
  for (std::int64_t in = 0; in < n; ++in)
    for (std::int64_t om = 0; om < m; ++om) {
      const std::int64_t g = om / (m / c.group);
      for (std::int64_t y0 = 0; y0 < oh; ++y0)
        for (std::int64_t x0 = 0; x0 < ow; ++x0) {
          double sum = b ? b->data<float>()[om] : 0.0;
          for (std::int64_t ic = 0; ic < cg; ++ic)
            for (std::int64_t ky = 0; ky < kh; ++ky)
              for (std::int64_t kx = 0; kx < kw; ++kx) {
                const std::int64_t iy = y0 * c.strides[0] - ph + ky * c.dilations[0];
                const std::int64_t ix = x0 * c.strides[1] - pw + kx * c.dilations[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                sum += static_cast<double>(px[((in * ch + g * cg + ic) * h + iy) * wd + ix]) *
                       pw_[((om * cg + ic) * kh + ky) * kw + kx];
              }
          y.data<float>()[((in * m + om) * oh + y0) * ow + x0] = static_cast<float>(sum);
        }
    }
  return y;
}

void check_conv(const ConvCase& c, std::uint64_t seed, bool constant_weights = true) {
  const Tensor x = random_tensor(DType::f32, c.x, seed);
  const Tensor w = random_tensor(DType::f32, c.w, seed + 1);
  const Tensor b = random_tensor(DType::f32, {c.w[0]}, seed + 2);
  OpTester tester("Conv");
  tester.input(x);
  if (constant_weights) {
    tester.constant(w);
  } else {
    tester.input(w);
  }
  if (c.bias) tester.constant(b);
  tester.attr("group", c.group).attr("strides", c.strides).attr("dilations", c.dilations);
  if (c.auto_pad == "NOTSET") {
    tester.attr("pads", c.pads);
  } else {
    tester.attr("auto_pad", c.auto_pad);
  }
  const auto outputs = tester.run();
  expect_close(outputs[0], naive_conv(c, x, w, c.bias ? &b : nullptr), 1e-4);
}

TEST(ReferenceConv, SweepsGroupsStridesPadsDilations) {
  std::uint64_t seed = 1;
  for (std::int64_t group : {1, 2, 4}) {
    for (std::int64_t stride : {1, 2, 3}) {
      for (std::int64_t dilation : {1, 2}) {
        for (std::int64_t pad : {0, 1, 2}) {
          ConvCase c;
          c.x = {2, 4, 9, 11};
          c.w = {8, 4 / group, 3, 3};
          c.group = group;
          c.strides = {stride, stride};
          c.dilations = {dilation, dilation};
          c.pads = {pad, pad + 1 > 2 ? pad : pad + 1, pad, pad};
          c.bias = (seed % 2) == 0;
          SCOPED_TRACE(::testing::Message() << "group " << group << " stride " << stride
                                            << " dilation " << dilation << " pad " << pad);
          check_conv(c, seed++);
        }
      }
    }
  }
}

// Many output channels per group take the channels-inner path (packed weights).
TEST(ReferenceConv, WideChannelSweep) {
  std::uint64_t seed = 500;
  for (std::int64_t group : {1, 2}) {
    for (std::int64_t stride : {1, 2}) {
      for (std::int64_t dilation : {1, 2}) {
        for (std::int64_t pad : {0, 1}) {
          ConvCase c;
          c.x = {2, 6, 12, 11};
          c.w = {40 * group, 6 / group, 3, 3};
          c.group = group;
          c.strides = {stride, stride};
          c.dilations = {dilation, dilation};
          c.pads = {pad, 0, pad + 1, pad};
          c.bias = (seed % 2) == 0;
          SCOPED_TRACE(::testing::Message() << "group " << group << " stride " << stride
                                            << " dilation " << dilation << " pad " << pad);
          check_conv(c, seed, (seed % 3) != 0);
          ++seed;
        }
      }
    }
  }
  ConvCase wide;  // more than one tile of output channels and pixels
  wide.x = {1, 3, 5, 19};
  wide.w = {300, 3, 3, 3};
  wide.auto_pad = "SAME_LOWER";
  check_conv(wide, 600);
}

TEST(ReferenceConv, AutoPadModes) {
  std::uint64_t seed = 100;
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    for (std::int64_t stride : {1, 2}) {
      for (std::int64_t k : {1, 2, 3, 4}) {
        ConvCase c;
        c.x = {1, 3, 8, 7};
        c.w = {5, 3, k, k + 1 > 4 ? k : k + 1};
        c.strides = {stride, stride};
        c.auto_pad = mode;
        SCOPED_TRACE(::testing::Message() << mode << " stride " << stride << " k " << k);
        check_conv(c, seed++);
      }
    }
  }
}

TEST(ReferenceConv, DepthwiseAndPointwise) {
  ConvCase depthwise;
  depthwise.x = {1, 6, 10, 10};
  depthwise.w = {6, 1, 3, 3};
  depthwise.group = 6;
  depthwise.pads = {1, 1, 1, 1};
  check_conv(depthwise, 7);
  ConvCase multiplier = depthwise;
  multiplier.w = {12, 1, 3, 3};
  multiplier.strides = {2, 2};
  check_conv(multiplier, 8);
  ConvCase pointwise;
  pointwise.x = {2, 16, 5, 5};
  pointwise.w = {7, 16, 1, 1};
  check_conv(pointwise, 9);
}

TEST(ReferenceConv, OneDimensionalAndThreeDimensional) {
  // 1-D: y[m, o] = sum_c sum_k x[c, o + k] * w[m, c, k]
  OpTester conv1d("Conv");
  conv1d.input(f32({1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}))
      .constant(f32({1, 2, 2}, {1, 0, 0, 1}))
      .attr("pads", std::vector<std::int64_t>{0, 1});
  expect_close(conv1d.run()[0], f32({1, 1, 4}, {1 + 6, 2 + 7, 3 + 8, 4}));
  // 1-D with 16 output channels (channels-inner path): each output channel m scales by m.
  std::vector<float> weights(16 * 2 * 2, 0.0f);
  for (int m = 0; m < 16; ++m) weights[static_cast<std::size_t>(m * 4)] = static_cast<float>(m);
  OpTester wide1d("Conv");
  wide1d.input(f32({1, 2, 3}, {1, 2, 3, 4, 5, 6})).constant(f32({16, 2, 2}, weights));
  const Tensor y1 = wide1d.run()[0];
  ASSERT_EQ(y1.shape(), (Shape{1, 16, 2}));
  EXPECT_EQ(y1.data<float>()[15 * 2 + 1], 30.0f);
  // 3-D box filter over a 2x2x2 cube of ones, no padding: every output is 8.
  OpTester conv3d("Conv");
  conv3d.input(f32({1, 1, 3, 3, 3}, std::vector<float>(27, 1.0f)))
      .constant(f32({1, 1, 2, 2, 2}, std::vector<float>(8, 1.0f)));
  expect_close(conv3d.run()[0], f32({1, 1, 2, 2, 2}, std::vector<float>(8, 8.0f)));
  OpTester wide3d("Conv");
  wide3d.input(f32({1, 1, 3, 3, 3}, std::vector<float>(27, 1.0f)))
      .constant(f32({20, 1, 2, 2, 2}, std::vector<float>(160, 1.0f)))
      .attr("pads", std::vector<std::int64_t>{1, 0, 0, 0, 0, 0});
  const Tensor y3 = wide3d.run()[0];
  ASSERT_EQ(y3.shape(), (Shape{1, 20, 3, 2, 2}));
  EXPECT_EQ(y3.data<float>()[0], 4.0f);  // first depth window half in the padding
  EXPECT_EQ(y3.data<float>()[59], 8.0f);
}

TEST(ReferenceConv, NanAndInfFlowThrough) {
  OpTester tester("Conv");
  tester.input(f32({1, 1, 1, 3}, {NAN, 1.0f, INFINITY})).constant(f32({1, 1, 1, 1}, {2.0f}));
  const auto y = tester.run()[0].to_doubles();
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 2.0);
  EXPECT_TRUE(std::isinf(y[2]));
}

TEST(ReferenceConv, InferErrors) {
  const Tensor x = random_tensor(DType::f32, {1, 4, 5, 5}, 1);
  expect_error([&] { OpTester("Conv").input(x).infer(); }, "expects 2 to 3 inputs");
  expect_error(
      [&] {
        OpTester("Conv").input(x).constant(random_tensor(DType::f32, {4, 3, 3, 3}, 2)).infer();
      },
      "'node' (Conv)");
  expect_error(
      [&] {
        OpTester("Conv")
            .input(x)
            .constant(random_tensor(DType::f32, {6, 2, 3, 3}, 2))
            .attr("group", std::int64_t{3})
            .infer();
      },
      "group 3 does not divide");
  expect_error(
      [&] {
        OpTester("Conv").input(x).constant(random_tensor(DType::f32, {4, 4, 7, 7}, 2)).infer();
      },
      "larger than the padded input");
  expect_error(
      [&] {
        OpTester("Conv")
            .input(random_tensor(DType::i64, {1, 4, 5, 5}, 1))
            .constant(random_tensor(DType::f32, {4, 4, 3, 3}, 2))
            .infer();
      },
      "unsupported dtype");
  expect_error(
      [&] {
        OpTester("Conv")
            .input(x)
            .constant(random_tensor(DType::f32, {4, 4, 3, 3}, 2))
            .constant(random_tensor(DType::f32, {3}, 3))
            .infer();
      },
      "bias B");
  expect_error(
      [&] {
        OpTester("Conv")
            .input(x)
            .constant(random_tensor(DType::f32, {4, 4, 3, 3}, 2))
            .attr("strides", std::vector<std::int64_t>{0, 1})
            .infer();
      },
      "strides");
  expect_error(
      [&] {
        OpTester("Conv")
            .input(x)
            .constant(random_tensor(DType::f32, {4, 4, 3, 3}, 2))
            .attr("auto_pad", std::string("SAME"))
            .infer();
      },
      "unknown auto_pad");
  expect_error(
      [&] {
        OpTester("Conv")
            .input(random_tensor(DType::f32, {4, 5}, 1))
            .constant(random_tensor(DType::f32, {4, 5}, 2))
            .infer();
      },
      "rank 3 to 5");
}

// ---- ConvTranspose ----

Tensor naive_conv_transpose(const Tensor& x, const Tensor& w, std::int64_t group,
                            std::int64_t stride, std::int64_t pad, std::int64_t dilation,
                            std::int64_t output_padding) {
  const std::int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const std::int64_t mg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  const std::int64_t m = mg * group;
  const std::int64_t oh = stride * (h - 1) + output_padding + (kh - 1) * dilation + 1 - 2 * pad;
  const std::int64_t ow = stride * (wd - 1) + output_padding + (kw - 1) * dilation + 1 - 2 * pad;
  std::vector<double> acc(static_cast<std::size_t>(n * m * oh * ow), 0.0);
  const std::int64_t cg = c / group;
  for (std::int64_t in = 0; in < n; ++in)
    for (std::int64_t ic = 0; ic < c; ++ic)
      for (std::int64_t iy = 0; iy < h; ++iy)
        for (std::int64_t ix = 0; ix < wd; ++ix)
          for (std::int64_t om = 0; om < mg; ++om)
            for (std::int64_t ky = 0; ky < kh; ++ky)
              for (std::int64_t kx = 0; kx < kw; ++kx) {
                const std::int64_t oy = iy * stride - pad + ky * dilation;
                const std::int64_t ox = ix * stride - pad + kx * dilation;
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                const std::int64_t channel = (ic / cg) * mg + om;
                acc[static_cast<std::size_t>(((in * m + channel) * oh + oy) * ow + ox)] +=
                    static_cast<double>(x.data<float>()[((in * c + ic) * h + iy) * wd + ix]) *
                    w.data<float>()[((ic * mg + om) * kh + ky) * kw + kx];
              }
  Tensor y(DType::f32, {n, m, oh, ow});
  for (std::size_t i = 0; i < acc.size(); ++i) y.data<float>()[i] = static_cast<float>(acc[i]);
  return y;
}

TEST(ReferenceConvTranspose, SweepsAgainstNaive) {
  std::uint64_t seed = 300;
  for (std::int64_t group : {1, 2}) {
    for (std::int64_t stride : {1, 2, 3}) {
      for (std::int64_t pad : {0, 1}) {
        for (std::int64_t dilation : {1, 2}) {
          const std::int64_t output_padding = stride > 1 ? 1 : 0;
          const Tensor x = random_tensor(DType::f32, {2, 4, 5, 4}, seed++);
          const Tensor w = random_tensor(DType::f32, {4, 3, 3, 3}, seed++);
          OpTester tester("ConvTranspose");
          tester.input(x)
              .constant(w)
              .attr("group", group)
              .attr("strides", std::vector<std::int64_t>{stride, stride})
              .attr("pads", std::vector<std::int64_t>{pad, pad, pad, pad})
              .attr("dilations", std::vector<std::int64_t>{dilation, dilation})
              .attr("output_padding", std::vector<std::int64_t>{output_padding, output_padding});
          SCOPED_TRACE(::testing::Message() << "group " << group << " stride " << stride << " pad "
                                            << pad << " dilation " << dilation);
          expect_close(tester.run()[0],
                       naive_conv_transpose(x, w, group, stride, pad, dilation, output_padding),
                       1e-4);
        }
      }
    }
  }
}

TEST(ReferenceConvTranspose, OutputShapeAndBias) {
  // output_shape 10x10 from a 5x5 input with stride 2, kernel 3: total padding 1.
  OpTester tester("ConvTranspose");
  tester.input(random_tensor(DType::f32, {1, 2, 5, 5}, 1))
      .constant(random_tensor(DType::f32, {2, 3, 3, 3}, 2))
      .constant(f32({3}, {1, 2, 3}))
      .attr("strides", std::vector<std::int64_t>{2, 2})
      .attr("output_shape", std::vector<std::int64_t>{10, 10});
  EXPECT_EQ(tester.infer()[0].shape, (Shape{1, 3, 10, 10}));
  // Bias only: zero input gives the bias everywhere.
  OpTester bias("ConvTranspose");
  bias.input(Tensor(DType::f32, {1, 1, 2, 2}))
      .constant(random_tensor(DType::f32, {1, 2, 2, 2}, 3))
      .constant(f32({2}, {0.5f, -1.0f}));
  const auto y = bias.run()[0];
  EXPECT_EQ(y.shape(), (Shape{1, 2, 3, 3}));
  EXPECT_EQ(y.data<float>()[0], 0.5f);
  EXPECT_EQ(y.data<float>()[17], -1.0f);
}

}  // namespace
}  // namespace edgeperf::runtime::reference_test
