// Shape and data-movement ops: Reshape Flatten Squeeze Unsqueeze Transpose Concat Split
// Slice Gather Shape Constant ConstantOfShape Range Expand Pad Identity Dropout.
#include <gtest/gtest.h>

#include <limits>

#include "edgeperf/core/random.h"
#include "op_tester.h"

namespace edgeperf::runtime::reference_test {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

Tensor iota(Shape shape) {
  Tensor t(DType::f32, shape);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i);
  return t;
}

TEST(ReferenceReshape, ZeroMinusOneAndAllowZero) {
  OpTester reshape("Reshape");
  reshape.input(iota({2, 3, 4})).constant(i64({3}, {0, -1, 2}));
  const Tensor y = reshape.run()[0];
  EXPECT_EQ(y.shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(y.data<float>()[23], 23.0f);
  OpTester allowzero("Reshape");
  allowzero.input(Tensor(DType::f32, {0, 3}))
      .constant(i64({2}, {3, 0}))
      .attr("allowzero", std::int64_t{1});
  EXPECT_EQ(allowzero.infer()[0].shape, (Shape{3, 0}));
}

TEST(ReferenceReshape, InferErrors) {
  expect_error(
      [] {
        OpTester("Reshape").input(iota({2, 3})).input(i64({1}, {6})).infer();
      },
      "node 'node' (Reshape): input 'shape' must be known before the run");
  expect_error(
      [] {
        OpTester("Reshape").input(iota({2, 3})).constant(i64({2}, {4, -1})).infer();
      },
      "-1 cannot be inferred");
  expect_error(
      [] {
        OpTester("Reshape").input(iota({2, 3})).constant(i64({2}, {-1, -1})).infer();
      },
      "more than one -1");
  expect_error(
      [] {
        OpTester("Reshape").input(iota({2, 3})).constant(i64({2}, {5, 1})).infer();
      },
      "cannot reshape");
  expect_error(
      [] {
        OpTester("Reshape").input(iota({2, 3})).constant(i64({2}, {-2, 3})).infer();
      },
      "invalid dim");
  expect_error(
      [] {
        OpTester("Reshape").input(iota({2, 3})).constant(f32({1}, {6})).infer();
      },
      "integer tensor");
  expect_error([] { OpTester("Reshape").input(iota({2, 3})).infer(); }, "expects 2 to 2 inputs");
}

TEST(ReferenceShapeOps, FlattenSqueezeUnsqueeze) {
  EXPECT_EQ(OpTester("Flatten").input(iota({2, 3, 4})).infer()[0].shape, (Shape{2, 12}));
  EXPECT_EQ(
      OpTester("Flatten").input(iota({2, 3, 4})).attr("axis", std::int64_t{0}).infer()[0].shape,
      (Shape{1, 24}));
  EXPECT_EQ(
      OpTester("Flatten").input(iota({2, 3, 4})).attr("axis", std::int64_t{-1}).infer()[0].shape,
      (Shape{6, 4}));
  EXPECT_EQ(OpTester("Squeeze").input(iota({1, 3, 1})).infer()[0].shape, (Shape{3}));
  EXPECT_EQ(OpTester("Squeeze").input(iota({1, 3, 1})).constant(i64({1}, {-1})).infer()[0].shape,
            (Shape{1, 3}));
  EXPECT_EQ(OpTester("Squeeze")
                .input(iota({1, 3, 1}))
                .attr("axes", std::vector<std::int64_t>{0})
                .infer()[0]
                .shape,
            (Shape{3, 1}));
  expect_error(
      [] {
        OpTester("Squeeze").input(iota({1, 3})).constant(i64({1}, {1})).infer();
      },
      "cannot squeeze");
  EXPECT_EQ(OpTester("Unsqueeze").input(iota({3})).constant(i64({2}, {0, -1})).infer()[0].shape,
            (Shape{1, 3, 1}));
  EXPECT_EQ(OpTester("Unsqueeze")
                .input(i64({}, {5}))
                .attr("axes", std::vector<std::int64_t>{0})
                .run()[0]
                .shape(),
            (Shape{1}));
  expect_error([] { OpTester("Unsqueeze").input(iota({3})).input(i64({1}, {0})).infer(); },
               "must be known before the run");
}

TEST(ReferenceTranspose, PermutesAnyDtype) {
  OpTester transpose("Transpose");
  transpose.input(iota({2, 3})).attr("perm", std::vector<std::int64_t>{1, 0});
  expect_close(transpose.run()[0], f32({3, 2}, {0, 3, 1, 4, 2, 5}));
  OpTester reverse("Transpose");
  reverse.input(i64({2, 1, 2}, {1, 2, 3, 4}));
  const Tensor y = reverse.run()[0];
  EXPECT_EQ(y.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(values_of<std::int64_t>(y), (std::vector<std::int64_t>{1, 3, 2, 4}));
  expect_error(
      [] {
        OpTester("Transpose")
            .input(iota({2, 3}))
            .attr("perm", std::vector<std::int64_t>{0, 0})
            .infer();
      },
      "not a permutation");
}

TEST(ReferenceConcatSplit, RoundTrip) {
  OpTester concat("Concat");
  concat.input(iota({2, 1})).input(f32({2, 2}, {10, 11, 12, 13})).attr("axis", std::int64_t{-1});
  expect_close(concat.run()[0], f32({2, 3}, {0, 10, 11, 1, 12, 13}));
  OpTester shapes("Concat");  // torch-style shape arithmetic on i64
  shapes.input(i64({1}, {-1})).input(i64({2}, {3, 4})).attr("axis", std::int64_t{0});
  EXPECT_EQ(values_of<std::int64_t>(shapes.run()[0]), (std::vector<std::int64_t>{-1, 3, 4}));
  expect_error(
      [] {
        OpTester("Concat")
            .input(iota({2, 1}))
            .input(iota({3, 1}))
            .attr("axis", std::int64_t{1})
            .infer();
      },
      "does not match");
  OpTester split("Split", 2);
  split.input(iota({2, 5})).constant(i64({2}, {2, 3})).attr("axis", std::int64_t{1});
  const auto parts = split.run();
  expect_close(parts[0], f32({2, 2}, {0, 1, 5, 6}));
  expect_close(parts[1], f32({2, 3}, {2, 3, 4, 7, 8, 9}));
  OpTester attr_split("Split", 2);  // opset 11 attribute
  attr_split.input(iota({5})).attr("split", std::vector<std::int64_t>{4, 1});
  EXPECT_EQ(attr_split.run()[1].to_doubles(), (std::vector<double>{4}));
  OpTester equal("Split", 3);
  equal.input(iota({6}));
  EXPECT_EQ(equal.run()[2].to_doubles(), (std::vector<double>{4, 5}));
  OpTester uneven("Split", 3);  // opset 18 num_outputs
  uneven.input(iota({7})).attr("num_outputs", std::int64_t{3});
  EXPECT_EQ(uneven.run()[2].to_doubles(), (std::vector<double>{6}));
  expect_error([] { OpTester("Split", 4).input(iota({6})).infer(); }, "equal parts");
  expect_error(
      [] {
        OpTester("Split", 2).input(iota({6})).constant(i64({2}, {1, 2})).infer();
      },
      "add up");
}

std::vector<double> slice(const Tensor& data, std::vector<std::int64_t> starts,
                          std::vector<std::int64_t> ends, std::vector<std::int64_t> axes,
                          std::vector<std::int64_t> steps, Shape* shape = nullptr) {
  OpTester tester("Slice");
  const auto n = static_cast<std::int64_t>(starts.size());
  tester.input(data).constant(i64({n}, starts)).constant(i64({n}, ends));
  if (!axes.empty())
    tester.constant(i64({n}, axes));
  else
    tester.absent();
  if (!steps.empty()) tester.constant(i64({n}, steps));
  const Tensor y = tester.run()[0];
  if (shape) *shape = y.shape();
  return y.to_doubles();
}

TEST(ReferenceSlice, EdgeCases) {
  const Tensor x = iota({10});
  EXPECT_EQ(slice(x, {2}, {5}, {}, {}), (std::vector<double>{2, 3, 4}));
  EXPECT_EQ(slice(x, {-3}, {kMax}, {}, {}), (std::vector<double>{7, 8, 9}));
  EXPECT_EQ(slice(x, {-100}, {2}, {0}, {}), (std::vector<double>{0, 1}));
  EXPECT_EQ(slice(x, {kMax}, {kMin}, {}, {-1}).size(), 10u);
  EXPECT_EQ(slice(x, {-1}, {kMin}, {}, {-3}), (std::vector<double>{9, 6, 3, 0}));
  EXPECT_EQ(slice(x, {8}, {2}, {}, {-2}), (std::vector<double>{8, 6, 4}));
  EXPECT_EQ(slice(x, {1}, {100}, {}, {4}), (std::vector<double>{1, 5, 9}));
  Shape shape;
  EXPECT_TRUE(slice(x, {5}, {2}, {}, {}, &shape).empty());
  EXPECT_EQ(shape, (Shape{0}));
  const Tensor m = iota({3, 4});
  EXPECT_EQ(slice(m, {-1, 1}, {0, 2}, {-1, 0}, {-1, 1}), (std::vector<double>{7, 6, 5}));
  OpTester opset1("Slice");  // attributes
  opset1.input(m)
      .attr("starts", std::vector<std::int64_t>{1})
      .attr("ends", std::vector<std::int64_t>{2})
      .attr("axes", std::vector<std::int64_t>{0});
  EXPECT_EQ(opset1.run()[0].to_doubles(), (std::vector<double>{4, 5, 6, 7}));
  expect_error([&] { slice(x, {0}, {1}, {}, {0}); }, "step 0");
  expect_error([&] { slice(x, {0}, {1}, {}, {kMin}); }, "is invalid");
  expect_error([&] { slice(x, {0}, {1}, {}, {kMax}); }, "is invalid");
  expect_error(
      [&] { OpTester("Slice").input(x).input(i64({1}, {0})).constant(i64({1}, {1})).infer(); },
      "must be known before the run");
}

TEST(ReferenceGather, AxesNegativeIndicesAndRangeErrors) {
  OpTester rows("Gather");
  rows.input(iota({3, 2})).input(i64({2, 2}, {0, -1, 2, 1}));
  const Tensor y = rows.run()[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{0, 1, 4, 5, 4, 5, 2, 3}));
  OpTester columns("Gather");
  columns.input(iota({2, 3})).input(i32({}, {-1})).attr("axis", std::int64_t{1});
  EXPECT_EQ(columns.run()[0].to_doubles(), (std::vector<double>{2, 5}));
  OpTester shape_dim("Gather");  // torch: Shape -> Gather(0-d index) -> i64 scalar
  shape_dim.input(i64({4}, {1, 3, 224, 224})).constant(i64({}, {1}));
  const Tensor dim = shape_dim.run()[0];
  EXPECT_TRUE(dim.shape().empty());
  EXPECT_EQ(dim.data<std::int64_t>()[0], 3);
  OpTester out_of_range("Gather");
  out_of_range.input(iota({3})).input(i64({2}, {0, 3}));
  EXPECT_EQ(out_of_range.infer()[0].shape, (Shape{2}));
  expect_error([&] { out_of_range.run(); }, "index 3 is out of range");
  OpTester too_negative("Gather");
  too_negative.input(iota({3})).input(i64({1}, {-4}));
  expect_error([&] { too_negative.run(); }, "out of range");
  expect_error([] { OpTester("Gather").input(iota({3})).input(f32({1}, {0})).infer(); }, "indices");
  expect_error(
      [] {
        OpTester("Gather")
            .input(iota({3}))
            .input(i64({1}, {0}))
            .attr("axis", std::int64_t{1})
            .infer();
      },
      "axis 1 is out of range");
  expect_error([] { OpTester("Gather").input(iota({3})).infer(); }, "'node' (Gather)");
}

TEST(ReferenceShape, StartEndAndFoldedValue) {
  OpTester shape("Shape");
  shape.input(Tensor(DType::f32, {1, 3, 8, 9}));
  EXPECT_EQ(shape.infer()[0].shape, (Shape{4}));
  ASSERT_TRUE(shape.output_values()[0].has_value());
  EXPECT_EQ(shape.output_values()[0]->to_int64s(), (std::vector<std::int64_t>{1, 3, 8, 9}));
  EXPECT_EQ(shape.run()[0].to_int64s(), (std::vector<std::int64_t>{1, 3, 8, 9}));
  OpTester sliced("Shape");
  sliced.input(Tensor(DType::f32, {1, 3, 8, 9}))
      .attr("start", std::int64_t{-3})
      .attr("end", std::int64_t{-1});
  EXPECT_EQ(sliced.run()[0].to_int64s(), (std::vector<std::int64_t>{3, 8}));
}

TEST(ReferenceConstant, AttributesAndConstantOfShapeAndRange) {
  OpTester tensor("Constant");
  tensor.attr("value", f32({2}, {1, 2}));
  EXPECT_EQ(tensor.run()[0].to_doubles(), (std::vector<double>{1, 2}));
  tensor.infer();
  ASSERT_TRUE(tensor.output_values()[0].has_value());
  EXPECT_EQ(OpTester("Constant").attr("value_int", std::int64_t{7}).run()[0].to_int64s(),
            (std::vector<std::int64_t>{7}));
  EXPECT_EQ(
      OpTester("Constant").attr("value_ints", std::vector<std::int64_t>{1, 2}).run()[0].shape(),
      (Shape{2}));
  EXPECT_EQ(OpTester("Constant").attr("value_float", 1.5f).run()[0].to_doubles(),
            (std::vector<double>{1.5}));
  EXPECT_EQ(OpTester("Constant").attr("value_floats", std::vector<float>{1.5f}).run()[0].dtype(),
            DType::f32);
  expect_error([] { OpTester("Constant").infer(); }, "needs one of");
  OpTester fill("ConstantOfShape");
  fill.constant(i64({2}, {2, 3})).attr("value", i64({1}, {4}));
  const Tensor filled = fill.run()[0];
  EXPECT_EQ(filled.shape(), (Shape{2, 3}));
  EXPECT_EQ(filled.to_int64s(), std::vector<std::int64_t>(6, 4));
  EXPECT_EQ(OpTester("ConstantOfShape").constant(i64({1}, {2})).run()[0].to_doubles(),
            (std::vector<double>{0, 0}));
  expect_error([] { OpTester("ConstantOfShape").input(i64({1}, {2})).infer(); },
               "must be known before the run");
  OpTester range("Range");
  range.constant(i64({}, {10})).constant(i64({}, {1})).constant(i64({}, {-3}));
  EXPECT_EQ(range.run()[0].to_int64s(), (std::vector<std::int64_t>{10, 7, 4}));
  OpTester frange("Range");
  frange.constant(f32({}, {0})).constant(f32({}, {1})).constant(f32({}, {0.25f}));
  EXPECT_EQ(frange.run()[0].numel(), 4);
}

TEST(ReferenceExpand, BroadcastsToShape) {
  OpTester expand("Expand");
  expand.input(f32({2, 1}, {1, 2})).constant(i64({3}, {2, 1, 3}));
  const Tensor y = expand.run()[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}));
  expect_error(
      [] {
        OpTester("Expand").input(f32({2}, {1, 2})).constant(i64({1}, {3})).infer();
      },
      "not broadcastable");
}

TEST(ReferencePad, ConstantReflectEdgeAndAxes) {
  const Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto pad = [&](const char* mode, std::vector<std::int64_t> pads) {
    OpTester tester("Pad");
    tester.input(x).constant(i64({4}, pads)).constant(f32({}, {9})).attr("mode", std::string(mode));
    return tester.run()[0];
  };
  const Tensor constant = pad("constant", {0, 1, 1, 0});
  EXPECT_EQ(constant.shape(), (Shape{3, 4}));
  EXPECT_EQ(constant.to_doubles(), (std::vector<double>{9, 1, 2, 3, 9, 4, 5, 6, 9, 9, 9, 9}));
  EXPECT_EQ(pad("reflect", {0, 2, 0, 2}).to_doubles(),
            (std::vector<double>{3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4}));
  EXPECT_EQ(pad("edge", {1, 1, 0, 0}).to_doubles(),
            (std::vector<double>{1, 1, 2, 3, 1, 1, 2, 3, 4, 4, 5, 6}));
  EXPECT_EQ(pad("constant", {0, -1, 0, -1}).to_doubles(), (std::vector<double>{2, 5}));
  OpTester axes("Pad");  // opset 18 axes input, no constant_value
  axes.input(x).constant(i64({2}, {1, 0})).absent().constant(i64({1}, {-1}));
  EXPECT_EQ(axes.run()[0].to_doubles(), (std::vector<double>{0, 1, 2, 3, 0, 4, 5, 6}));
  OpTester opset2("Pad");
  opset2.input(x).attr("pads", std::vector<std::int64_t>{1, 0, 0, 0}).attr("value", 7.0f);
  EXPECT_EQ(opset2.run()[0].to_doubles()[0], 7.0);
  expect_error(
      [&] {
        OpTester("Pad").input(x).input(i64({4}, {0, 0, 0, 0})).infer();
      },
      "must be known before the run");
  expect_error(
      [&] {
        OpTester("Pad").input(x).constant(i64({2}, {0, 0})).infer();
      },
      "pads has 2 values");
}

TEST(ReferenceIdentity, IdentityAndDropoutMask) {
  EXPECT_EQ(OpTester("Identity").input(i64({2}, {4, 5})).run()[0].to_int64s(),
            (std::vector<std::int64_t>{4, 5}));
  OpTester dropout("Dropout", 2);
  dropout.input(f32({2}, {1, 2})).constant(f32({}, {0.5f}));
  const auto outputs = dropout.run();
  EXPECT_EQ(outputs[0].to_doubles(), (std::vector<double>{1, 2}));
  EXPECT_EQ(values_of<bool>(outputs[1]), (std::vector<bool>{true, true}));
}

TEST(ReferenceTile, RepeatsEveryAxis) {
  OpTester tile("Tile");
  tile.input(f32({2, 2}, {1, 2, 3, 4})).constant(i64({2}, {2, 3}));
  const Tensor y = tile.run()[0];
  EXPECT_EQ(y.shape(), (Shape{4, 6}));
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
                                                 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}));
  OpTester three("Tile");
  three.input(i64({1, 2, 1}, {5, 6})).constant(i64({3}, {2, 1, 2}));
  EXPECT_EQ(three.run()[0].to_int64s(), (std::vector<std::int64_t>{5, 5, 6, 6, 5, 5, 6, 6}));
  expect_error(
      [] {
        OpTester("Tile").input(f32({2}, {1, 2})).constant(i64({2}, {1, 1})).infer();
      },
      "repeats has 2 values");
}

// Hostile parameter values are rejected with an Error, never overflow (UBSan checks this).
TEST(ReferenceHostileParameters, HugeValuesAreErrors) {
  expect_error(
      [] {
        OpTester("Reshape").input(iota({2})).constant(i64({3}, {kMax, kMax, -1})).infer();
      },
      "invalid dim");
  expect_error(
      [] {
        OpTester("Reshape")
            .input(iota({2}))
            .constant(i64({3}, {1 << 30, 1 << 30, 1 << 30}))
            .infer();
      },
      "too many elements");
  expect_error(
      [] {
        OpTester("Pad").input(iota({2})).constant(i64({2}, {kMax, kMax})).infer();
      },
      "out of range");
  expect_error(
      [] {
        OpTester("Pad").input(iota({2})).constant(i64({2}, {kMin, 0})).infer();
      },
      "out of range");
  expect_error([] { OpTester("Tile").input(iota({2})).constant(i64({1}, {kMax})).infer(); },
               "repeat");
  expect_error(
      [] {
        OpTester("Split", 2).input(iota({2})).constant(i64({2}, {kMax, kMin + 2})).infer();
      },
      "split size");
  expect_error([] { OpTester("ConstantOfShape").constant(i64({2}, {kMax, 2})).infer(); }, "");
  expect_error(
      [] {
        OpTester("Expand").input(iota({2})).constant(i64({2}, {kMax, 2})).infer();
      },
      "");
  expect_error(
      [] {
        OpTester("MaxPool")
            .input(iota({1, 1, 2}))
            .attr("kernel_shape", std::vector<std::int64_t>{kMax})
            .infer();
      },
      "kernel size");
  expect_error(
      [] {
        OpTester("AveragePool")
            .input(iota({1, 1, 2}))
            .attr("kernel_shape", std::vector<std::int64_t>{1})
            .attr("pads", std::vector<std::int64_t>{kMax, kMax})
            .infer();
      },
      "invalid value");
  expect_error(
      [] {
        OpTester("ConvTranspose")
            .input(iota({1, 1, 2}))
            .constant(iota({1, 1, 1}))
            .attr("output_shape", std::vector<std::int64_t>{kMax})
            .infer();
      },
      "output_shape");
  expect_error(
      [] {
        OpTester("ConvTranspose")
            .input(iota({1, 1, 2}))
            .constant(iota({1, 1, 1}))
            .attr("pads", std::vector<std::int64_t>{kMin, 0})
            .infer();
      },
      "invalid");
  expect_error(
      [] {
        OpTester("Resize").input(iota({1, 2})).absent().constant(f32({2}, {1, 1e30f})).infer();
      },
      "too large");
  expect_error(
      [] {
        OpTester("Range")
            .constant(i64({}, {kMin}))
            .constant(i64({}, {kMax}))
            .constant(i64({}, {1}))
            .infer();
      },
      "too many");
}

TEST(ReferenceRegistry, LooksUpOps) {
  EXPECT_NE(find_reference_kernel("Conv"), nullptr);
  EXPECT_EQ(find_reference_kernel("NoSuchOp"), nullptr);
  EXPECT_GE(reference_kernels().size(), 50u);
}

}  // namespace
}  // namespace edgeperf::runtime::reference_test

namespace edgeperf::runtime::reference_test {
namespace {

// ScatterND, with the ONNX spec's examples and the reductions.
TEST(ReferenceScatterND, ReplacesElementsAndSlices) {
  OpTester elements("ScatterND");
  elements.input(f32({8}, {1, 2, 3, 4, 5, 6, 7, 8}))
      .input(i64({4, 1}, {4, 3, 1, 7}))
      .input(f32({4}, {9, 10, 11, 12}));
  expect_close(elements.run()[0], f32({8}, {1, 11, 3, 10, 9, 6, 7, 12}));
  OpTester slices("ScatterND");
  slices.input(f32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}))
      .input(i64({1, 1}, {-1}))  // negative: counts from the end
      .input(f32({1, 2, 2}, {0, 0, 0, 0}));
  expect_close(slices.run()[0], f32({2, 2, 2}, {1, 2, 3, 4, 0, 0, 0, 0}));
}

TEST(ReferenceScatterND, ReductionsCombineDuplicateIndices) {
  const auto run_with = [](const std::string& reduction) {
    OpTester op("ScatterND");
    op.attr("reduction", reduction);
    op.input(f32({4}, {1, 2, 3, 4})).input(i64({3, 1}, {0, 0, 2})).input(f32({3}, {5, 6, -1}));
    return op.run()[0];
  };
  expect_close(run_with("add"), f32({4}, {12, 2, 2, 4}));
  expect_close(run_with("mul"), f32({4}, {30, 2, -3, 4}));
  expect_close(run_with("max"), f32({4}, {6, 2, 3, 4}));
  expect_close(run_with("min"), f32({4}, {1, 2, -1, 4}));
}

TEST(ReferenceScatterND, BadIndicesAndShapesAreNamedErrors) {
  OpTester out_of_range("ScatterND");
  out_of_range.input(f32({3}, {1, 2, 3})).input(i64({1, 1}, {3})).input(f32({1}, {0}));
  expect_error([&] { out_of_range.run(); }, "index 3 is out of range for axis 0 of size 3");
  OpTester bad_updates("ScatterND");
  bad_updates.input(f32({3}, {1, 2, 3})).input(i64({2, 1}, {0, 1})).input(f32({3}, {0, 0, 0}));
  expect_error([&] { bad_updates.infer(); }, "updates have shape");
}

}  // namespace
}  // namespace edgeperf::runtime::reference_test
