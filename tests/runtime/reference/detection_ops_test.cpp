// TopK, GatherND, NonZero, NonMaxSuppression, ReduceProd, RoiAlign: the ONNX spec's examples and
// the edge cases detectors hit (ties, empty selections, negative indices).
#include <gtest/gtest.h>

#include "op_tester.h"

namespace edgeperf::runtime::reference_test {
namespace {

TEST(ReferenceTopK, LargestAndSmallestAlongAnAxis) {
  const Tensor x = f32({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8});
  OpTester top("TopK", 2);
  top.input(x).constant(i64({1}, {3})).attr("axis", std::int64_t{1});
  const auto out = top.run();
  expect_close(out[0], f32({3, 3}, {3, 2, 1, 7, 6, 5, 11, 10, 9}));
  EXPECT_EQ(values_of<std::int64_t>(out[1]),
            (std::vector<std::int64_t>{3, 2, 1, 3, 2, 1, 0, 1, 2}));
  OpTester smallest("TopK", 2);
  smallest.input(x)
      .constant(i64({1}, {2}))
      .attr("axis", std::int64_t{0})
      .attr("largest", std::int64_t{0});
  const auto low = smallest.run();
  expect_close(low[0], f32({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(values_of<std::int64_t>(low[1]), (std::vector<std::int64_t>{0, 0, 0, 0, 1, 1, 1, 1}));
}

TEST(ReferenceTopK, TiesKeepTheLowerIndexFirst) {
  OpTester top("TopK", 2);
  top.input(f32({5}, {1, 3, 3, 0, 3})).constant(i64({1}, {3}));
  EXPECT_EQ(values_of<std::int64_t>(top.run()[1]), (std::vector<std::int64_t>{1, 2, 4}));
}

TEST(ReferenceTopK, KAsAttributeBeforeOpset10AndErrors) {
  OpTester old("TopK", 2);
  old.opset(9).input(i64({4}, {5, 9, 1, 7})).attr("k", std::int64_t{2});
  EXPECT_EQ(values_of<std::int64_t>(old.run()[0]), (std::vector<std::int64_t>{9, 7}));
  expect_error(
      [] {
        OpTester("TopK", 2).input(f32({3}, {1, 2, 3})).constant(i64({1}, {4})).infer();
      },
      "k = 4 is outside [0, 3]");
  EXPECT_THROW(OpTester("TopK", 2).input(f32({3}, {1, 2, 3})).input(i64({1}, {2})).infer(),
               DataDependentShape);
}

TEST(ReferenceGatherND, SpecExamples) {
  OpTester a("GatherND");
  a.input(i64({2, 2}, {0, 1, 2, 3})).input(i64({2, 2}, {0, 0, 1, 1}));
  EXPECT_EQ(values_of<std::int64_t>(a.run()[0]), (std::vector<std::int64_t>{0, 3}));
  OpTester b("GatherND");
  b.input(i64({2, 2}, {0, 1, 2, 3})).input(i64({2, 1}, {1, 0}));
  EXPECT_EQ(b.run()[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(values_of<std::int64_t>(b.run()[0]), (std::vector<std::int64_t>{2, 3, 0, 1}));
  OpTester batched("GatherND");  // batch_dims = 1
  batched.input(f32({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7}))
      .input(i64({2, 1}, {1, 0}))
      .attr("batch_dims", std::int64_t{1});
  expect_close(batched.run()[0], f32({2, 2}, {2, 3, 4, 5}));
  OpTester negative("GatherND");
  negative.input(i64({3}, {7, 8, 9})).input(i64({1, 1}, {-1}));
  EXPECT_EQ(values_of<std::int64_t>(negative.run()[0]), (std::vector<std::int64_t>{9}));
  expect_error(
      [] {
        OpTester("GatherND").input(i64({3}, {7, 8, 9})).input(i64({1, 1}, {3})).run();
      },
      "index 3 is out of range for data axis 0 of size 3");
}

TEST(ReferenceNonZero, IndicesPerDimension) {
  OpTester nonzero("NonZero");
  nonzero.constant(f32({2, 3}, {1, 0, 2, 0, 0, 3}));
  const auto descs = nonzero.infer();
  EXPECT_EQ(descs[0].shape, (Shape{2, 3}));
  ASSERT_TRUE(nonzero.output_values().at(0).has_value());
  EXPECT_EQ(values_of<std::int64_t>(*nonzero.output_values()[0]),
            (std::vector<std::int64_t>{0, 0, 1, 0, 2, 2}));
  OpTester none("NonZero");
  none.constant(f32({4}, {0, 0, 0, 0}));
  EXPECT_EQ(none.infer()[0].shape, (Shape{1, 0}));
  EXPECT_THROW(OpTester("NonZero").input(f32({2}, {1, 0})).infer(), DataDependentShape);
}

// Boxes of the ONNX spec's NonMaxSuppression examples: two clusters of overlapping boxes
// and one apart, [y1, x1, y2, x2].
Tensor spec_boxes() {
  return f32({1, 6, 4}, {0, 0,  1, 1,  0, 0.1f,  1, 1.1f,  0, -0.1f, 1, 0.9f,
                         0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100,   1, 101});
}
Tensor spec_scores() { return f32({1, 1, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f}); }

std::vector<std::int64_t> nms(OpTester& tester) {
  tester.infer();
  return values_of<std::int64_t>(*tester.output_values().at(0));
}

TEST(ReferenceNonMaxSuppression, SpecExamples) {
  OpTester suppress("NonMaxSuppression");
  suppress.constant(spec_boxes())
      .constant(spec_scores())
      .constant(i64({1}, {3}))
      .constant(f32({1}, {0.5f}))
      .constant(f32({1}, {0.0f}));
  EXPECT_EQ(nms(suppress), (std::vector<std::int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
  OpTester limited("NonMaxSuppression");
  limited.constant(spec_boxes())
      .constant(spec_scores())
      .constant(i64({1}, {2}))
      .constant(f32({1}, {0.5f}));
  EXPECT_EQ(nms(limited), (std::vector<std::int64_t>{0, 0, 3, 0, 0, 0}));
  OpTester threshold("NonMaxSuppression");
  threshold.constant(spec_boxes())
      .constant(spec_scores())
      .constant(i64({1}, {3}))
      .constant(f32({1}, {0.5f}))
      .constant(f32({1}, {0.4f}));
  EXPECT_EQ(nms(threshold), (std::vector<std::int64_t>{0, 0, 3, 0, 0, 0}));
  OpTester flipped("NonMaxSuppression");  // corners in the other order
  flipped
      .constant(f32({1, 6, 4}, {1, 1,  0, 0,  0, 0.1f,  1, 1.1f,  0, 0.9f, 1, -0.1f,
                                0, 10, 1, 11, 1, 10.1f, 0, 11.1f, 1, 101,  0, 100}))
      .constant(spec_scores())
      .constant(i64({1}, {3}))
      .constant(f32({1}, {0.5f}));
  EXPECT_EQ(nms(flipped), (std::vector<std::int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
}

TEST(ReferenceNonMaxSuppression, CenterPointBoxesAndNoSelection) {
  OpTester center("NonMaxSuppression");
  center
      .constant(f32({1, 6, 4}, {0.5f, 0.5f,  1, 1, 0.5f, 0.6f,  1, 1, 0.5f, 0.4f,   1, 1,
                                0.5f, 10.5f, 1, 1, 0.5f, 10.6f, 1, 1, 0.5f, 100.5f, 1, 1}))
      .constant(spec_scores())
      .constant(i64({1}, {3}))
      .constant(f32({1}, {0.5f}))
      .attr("center_point_box", std::int64_t{1});
  EXPECT_EQ(nms(center), (std::vector<std::int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
  OpTester none("NonMaxSuppression");  // max_output_boxes_per_class absent: no boxes
  none.constant(spec_boxes()).constant(spec_scores());
  EXPECT_EQ(none.infer()[0].shape, (Shape{0, 3}));
  expect_error(
      [] {
        OpTester("NonMaxSuppression")
            .constant(f32({1, 2, 3}, {0, 0, 0, 0, 0, 0}))
            .constant(f32({1, 1, 2}, {1, 1}))
            .infer();
      },
      "boxes must be [batch, boxes, 4]");
}

TEST(ReferenceReduceProd, AxesAndKeepdims) {
  OpTester prod("ReduceProd");
  prod.input(f32({2, 3}, {1, 2, 3, 4, 5, 6})).attr("axes", std::vector<std::int64_t>{1});
  expect_close(prod.run()[0], f32({2, 1}, {6, 120}));
  OpTester all("ReduceProd");
  all.input(i64({3}, {2, 3, 4})).attr("keepdims", std::int64_t{0});
  EXPECT_EQ(values_of<std::int64_t>(all.run()[0]), (std::vector<std::int64_t>{24}));
}

TEST(ReferenceRoiAlign, WholeMapAverageAndErrors) {
  // A 4x4 map in 2x2 bins, 2x2 samples each, output_half_pixel: samples at y, x in
  // {0.5, 1.5} (+2) interpolate between pixels; those past the last pixel read the edge.
  OpTester roi("RoiAlign");
  roi.opset(10)
      .input(f32({1, 1, 4, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}))
      .input(f32({1, 4}, {0, 0, 4, 4}))
      .input(i64({1}, {0}))
      .attr("output_height", std::int64_t{2})
      .attr("output_width", std::int64_t{2})
      .attr("sampling_ratio", std::int64_t{2});
  expect_close(roi.run()[0], f32({1, 1, 2, 2}, {5.0f, 6.75f, 12.0f, 13.75f}));
  expect_error(
      [] {
        OpTester("RoiAlign")
            .input(f32({1, 1, 2, 2}, {0, 0, 0, 0}))
            .input(f32({1, 3}, {0, 0, 1}))
            .input(i64({1}, {0}))
            .infer();
      },
      "rois must be [num_rois, 4]");
  expect_error(
      [] {
        OpTester("RoiAlign")
            .input(f32({1, 1, 2, 2}, {0, 0, 0, 0}))
            .input(f32({1, 4}, {0, 0, 1, 1}))
            .input(i64({1}, {3}))
            .run();
      },
      "roi 0 has batch index 3, outside [0, 1)");
}

}  // namespace
}  // namespace edgeperf::runtime::reference_test
