// Pooling (with ceil_mode, pads, count_include_pad) and Resize modes against hand-computed values.
#include <gtest/gtest.h>

#include <limits>

#include "edgeperf/core/random.h"
#include "op_tester.h"

namespace edgeperf::runtime::reference_test {
namespace {

Tensor iota(Shape shape) {
  Tensor t(DType::f32, shape);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i);
  return t;
}

TEST(ReferencePool, MaxPoolCeilMode) {
  // 1x1x4x4 iota, kernel 3, stride 2: floor gives 1x1, ceil gives 2x2 (last window partial).
  OpTester floor_mode("MaxPool");
  floor_mode.input(iota({1, 1, 4, 4}))
      .attr("kernel_shape", std::vector<std::int64_t>{3, 3})
      .attr("strides", std::vector<std::int64_t>{2, 2});
  expect_close(floor_mode.run()[0], f32({1, 1, 1, 1}, {10}));
  OpTester ceil_mode("MaxPool");
  ceil_mode.input(iota({1, 1, 4, 4}))
      .attr("kernel_shape", std::vector<std::int64_t>{3, 3})
      .attr("strides", std::vector<std::int64_t>{2, 2})
      .attr("ceil_mode", std::int64_t{1});
  expect_close(ceil_mode.run()[0], f32({1, 1, 2, 2}, {10, 11, 14, 15}));
  // A window starting in the right padding is dropped: in 5, k 2, s 2, pads 1,1 gives
  // ceil((5 + 2 - 2) / 2) + 1 = 4 windows, but the 4th starts at 3 * 2 - 1 = 5, past the input.
  OpTester edge("MaxPool");
  edge.input(iota({1, 1, 1, 5}))
      .attr("kernel_shape", std::vector<std::int64_t>{1, 2})
      .attr("strides", std::vector<std::int64_t>{1, 2})
      .attr("pads", std::vector<std::int64_t>{0, 1, 0, 1})
      .attr("ceil_mode", std::int64_t{1});
  expect_close(edge.run()[0], f32({1, 1, 1, 3}, {0, 2, 4}));
}

TEST(ReferencePool, MaxPoolPadsDilationsAndNan) {
  OpTester padded("MaxPool");
  padded.input(f32({1, 1, 2, 2}, {-1, -2, -3, -4}))
      .attr("kernel_shape", std::vector<std::int64_t>{2, 2})
      .attr("pads", std::vector<std::int64_t>{1, 1, 1, 1});
  // Padding never wins a max, even against negative values.
  expect_close(padded.run()[0], f32({1, 1, 3, 3}, {-1, -1, -2, -1, -1, -2, -3, -3, -4}));
  OpTester dilated("MaxPool");
  dilated.input(iota({1, 1, 1, 5}))
      .attr("kernel_shape", std::vector<std::int64_t>{1, 2})
      .attr("dilations", std::vector<std::int64_t>{1, 3});
  expect_close(dilated.run()[0], f32({1, 1, 1, 2}, {3, 4}));
  OpTester nan("MaxPool");
  nan.input(f32({1, 1, 1, 3}, {1, NAN, 2})).attr("kernel_shape", std::vector<std::int64_t>{1, 2});
  const auto y = nan.run()[0].to_doubles();
  EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[1]));
  OpTester same("MaxPool");
  same.input(iota({1, 1, 5, 5}))
      .attr("kernel_shape", std::vector<std::int64_t>{3, 3})
      .attr("strides", std::vector<std::int64_t>{2, 2})
      .attr("auto_pad", std::string("SAME_UPPER"));
  EXPECT_EQ(same.infer()[0].shape, (Shape{1, 1, 3, 3}));
  expect_error(
      [] {
        OpTester("MaxPool", 2)
            .input(iota({1, 1, 4, 4}))
            .attr("kernel_shape", std::vector<std::int64_t>{2, 2})
            .infer();
      },
      "Indices");
  expect_error(
      [] {
        OpTester("MaxPool")
            .input(iota({1, 1, 2, 2}))
            .attr("kernel_shape", std::vector<std::int64_t>{3, 3})
            .infer();
      },
      "larger than the padded input");
  expect_error([] { OpTester("MaxPool").input(iota({1, 1, 2, 2})).infer(); }, "kernel_shape");
}

TEST(ReferencePool, AveragePoolCountIncludePad) {
  const Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  OpTester exclude("AveragePool");
  exclude.input(x)
      .attr("kernel_shape", std::vector<std::int64_t>{2, 2})
      .attr("pads", std::vector<std::int64_t>{1, 1, 0, 0});
  expect_close(exclude.run()[0], f32({1, 1, 2, 2}, {1, 1.5f, 2, 2.5f}));
  OpTester include("AveragePool");
  include.input(x)
      .attr("kernel_shape", std::vector<std::int64_t>{2, 2})
      .attr("pads", std::vector<std::int64_t>{1, 1, 0, 0})
      .attr("count_include_pad", std::int64_t{1});
  expect_close(include.run()[0], f32({1, 1, 2, 2}, {0.25f, 0.75f, 1, 2.5f}));
  // ceil_mode: the partial last window averages over its in-input elements only.
  OpTester ceil("AveragePool");
  ceil.input(iota({1, 1, 1, 5}))
      .attr("kernel_shape", std::vector<std::int64_t>{1, 2})
      .attr("strides", std::vector<std::int64_t>{1, 2})
      .attr("ceil_mode", std::int64_t{1});
  expect_close(ceil.run()[0], f32({1, 1, 1, 3}, {0.5f, 2.5f, 4}));
}

TEST(ReferencePool, GlobalPools) {
  OpTester average("GlobalAveragePool");
  average.input(iota({1, 2, 2, 2}));
  expect_close(average.run()[0], f32({1, 2, 1, 1}, {1.5f, 5.5f}));
  OpTester max("GlobalMaxPool");
  max.input(iota({1, 2, 3}));
  expect_close(max.run()[0], f32({1, 2, 1}, {2, 5}));
}

Tensor resize(const Tensor& x, const std::string& mode, const std::string& coordinates,
              std::vector<float> scales, const std::string& nearest = "round_prefer_floor") {
  OpTester tester("Resize");
  tester.input(x)
      .absent()
      .constant(f32({static_cast<std::int64_t>(scales.size())}, scales))
      .attr("mode", mode)
      .attr("coordinate_transformation_mode", coordinates)
      .attr("nearest_mode", nearest);
  return tester.run()[0];
}

TEST(ReferenceResize, NearestModes) {
  const Tensor x = f32({1, 1, 1, 2}, {1, 2});
  // half_pixel, scale 2: x_orig = (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25
  expect_close(resize(x, "nearest", "half_pixel", {1, 1, 1, 2}), f32({1, 1, 1, 4}, {1, 1, 2, 2}));
  // asymmetric: 0, 0.5, 1, 1.5 -> prefer floor: 0, 0, 1, 1; prefer ceil: 0, 1, 1, 2->1
  expect_close(resize(x, "nearest", "asymmetric", {1, 1, 1, 2}), f32({1, 1, 1, 4}, {1, 1, 2, 2}));
  expect_close(resize(x, "nearest", "asymmetric", {1, 1, 1, 2}, "round_prefer_ceil"),
               f32({1, 1, 1, 4}, {1, 2, 2, 2}));
  expect_close(resize(x, "nearest", "asymmetric", {1, 1, 1, 2}, "ceil"),
               f32({1, 1, 1, 4}, {1, 2, 2, 2}));
  const Tensor three = f32({1, 1, 1, 3}, {1, 2, 3});
  // tf_half_pixel_for_nearest, scale 2: (i + 0.5) / 2 = 0.25, 0.75, 1.25, 1.75, 2.25, 2.75; floor
  expect_close(resize(three, "nearest", "tf_half_pixel_for_nearest", {1, 1, 1, 2}, "floor"),
               f32({1, 1, 1, 6}, {1, 1, 2, 2, 3, 3}));
  // Downsample 4 -> 2 with half_pixel: x_orig = 0.5, 2.5 -> prefer floor: 0, 2
  expect_close(resize(f32({1, 1, 1, 4}, {1, 2, 3, 4}), "nearest", "half_pixel", {1, 1, 1, 0.5f}),
               f32({1, 1, 1, 2}, {1, 3}));
  // Nearest works on integers too (any dtype).
  OpTester ints("Resize");
  ints.input(i64({1, 2}, {5, 6})).absent().constant(f32({2}, {1, 2}));
  EXPECT_EQ(ints.run()[0].to_int64s(), (std::vector<std::int64_t>{5, 5, 6, 6}));
}

TEST(ReferenceResize, LinearModes) {
  const Tensor x = f32({1, 1, 2, 2}, {1, 2, 3, 4});
  // half_pixel 2x: coordinates -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1).
  const std::vector<float> row0{1, 1.25f, 1.75f, 2};
  const Tensor y = resize(x, "linear", "half_pixel", {1, 1, 2, 2});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  const auto v = y.to_doubles();
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(v[j], row0[j], 1e-6);
  EXPECT_NEAR(v[5], 1.75, 1e-6);  // at (0.25, 0.25): 1 + 0.25 * 1 + 0.25 * 2
  EXPECT_NEAR(v[15], 4, 1e-6);
  // align_corners 2x2 -> 3x3: exact midpoints.
  OpTester corners("Resize");
  corners.input(x)
      .absent()
      .absent()
      .constant(i64({4}, {1, 1, 3, 3}))
      .attr("mode", std::string("linear"))
      .attr("coordinate_transformation_mode", std::string("align_corners"));
  expect_close(corners.run()[0], f32({1, 1, 3, 3}, {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}));
  // asymmetric 2x on a row: 0, 0.5, 1, 1.5 (clamped to 1).
  expect_close(resize(f32({1, 2}, {0, 10}), "linear", "asymmetric", {1, 2}),
               f32({1, 4}, {0, 5, 10, 10}));
  // pytorch_half_pixel with an output length of 1 samples coordinate 0.
  OpTester one("Resize");
  one.input(f32({1, 4}, {3, 5, 7, 9}))
      .absent()
      .absent()
      .constant(i64({2}, {1, 1}))
      .attr("mode", std::string("linear"))
      .attr("coordinate_transformation_mode", std::string("pytorch_half_pixel"));
  expect_close(one.run()[0], f32({1, 1}, {3}));
}

TEST(ReferenceResize, Errors) {
  const Tensor x = f32({1, 2}, {1, 2});
  expect_error(
      [&] {
        OpTester("Resize").input(x).absent().input(f32({2}, {1, 2})).infer();
      },
      "must be known before the run");
  expect_error([&] { OpTester("Resize").input(x).absent().absent().infer(); }, "exactly one of");
  expect_error(
      [&] {
        OpTester("Resize")
            .input(x)
            .absent()
            .constant(f32({2}, {1, 2}))
            .attr("mode", std::string("area"))
            .infer();
      },
      "mode 'area' is not supported");
  expect_error([&] { OpTester("Resize").input(x).absent().constant(f32({1}, {2})).infer(); },
               "'scales' must be 2");
}

// Bicubic along one axis, half_pixel, a = -0.5: upsampling the ramp 0..9 by 2 keeps it
// linear where all 4 taps fall inside (with a = -0.5 the cubic kernel reproduces linear
// functions; ORT parity of the default a = -0.75 is in e2e_opset_parity); at the edges the
// replicated edge value bends it.
TEST(ReferenceResize, CubicReproducesARampAwayFromTheEdges) {
  OpTester cubic("Resize");
  cubic.input(f32({1, 10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}))
      .absent()
      .constant(f32({2}, {1, 2}))
      .attr("mode", std::string("cubic"))
      .attr("cubic_coeff_a", -0.5f);
  const Tensor out = cubic.run()[0];
  ASSERT_EQ(out.shape(), (Shape{1, 20}));
  const auto values = out.to_doubles();
  for (std::size_t i = 4; i < 16; ++i) EXPECT_NEAR(values[i], (i + 0.5) / 2 - 0.5, 1e-5) << i;
  EXPECT_GT(values[0], (0 + 0.5) / 2 - 0.5);  // the edge replicates 0 instead of extending
}

}  // namespace
}  // namespace edgeperf::runtime::reference_test
