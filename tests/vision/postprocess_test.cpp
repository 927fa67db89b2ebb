#include "edgeperf/vision/postprocess.h"

#include <gtest/gtest.h>

#include "edgeperf/core/error.h"

namespace edgeperf::vision {
namespace {

Tensor floats(Shape shape, std::vector<float> values) {
  Tensor tensor(DType::f32, std::move(shape));
  std::copy(values.begin(), values.end(), tensor.data<float>());
  return tensor;
}

TEST(Boxes, IntersectionOverUnion) {
  EXPECT_FLOAT_EQ(iou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0f);
  EXPECT_FLOAT_EQ(iou({0, 0, 10, 10}, {5, 0, 15, 10}), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(iou({0, 0, 10, 10}, {20, 20, 30, 30}), 0.0f);
  EXPECT_FLOAT_EQ(iou({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0f);  // empty boxes never overlap
}

TEST(Nms, KeepsTheBestOfEachOverlappingGroupPerClass) {
  const std::vector<Detection> in = {
      {{0, 0, 10, 10}, 0.6f, 1},   {{1, 0, 11, 10}, 0.9f, 1},  // overlap 0.82: one kept
      {{1, 0, 11, 10}, 0.5f, 2},                               // same place, other class
      {{50, 50, 60, 60}, 0.7f, 1}, {{5, 0, 15, 10}, 0.8f, 1},  // overlap 0.33 with the best
  };
  const std::vector<Detection> kept = nms(in, 0.5f, 10);
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_FLOAT_EQ(kept[1].score, 0.8f);
  EXPECT_FLOAT_EQ(kept[2].score, 0.7f);
  EXPECT_EQ(kept[3].label, 2);
  EXPECT_EQ(nms(in, 0.5f, 2).size(), 2u);   // the limit keeps the best
  EXPECT_EQ(nms(in, 0.3f, 10).size(), 3u);  // 0.33 now suppresses
}

TEST(DetectFormat, RecognisedFromShapes) {
  EXPECT_EQ(recognise_detect_format({{"boxes", {-1, 4}}, {"scores", {-1}}, {"labels", {-1}}}),
            DetectFormat::ssd);
  EXPECT_EQ(recognise_detect_format({{"detection_boxes", {1, 100, 4}},
                                     {"detection_scores", {1, 100}},
                                     {"detection_classes", {1, 100}},
                                     {"num_detections", {1}}}),
            DetectFormat::ssd);
  EXPECT_EQ(recognise_detect_format({{"boxes", {1, 3000, 4}}, {"scores", {1, 3000, 91}}}),
            DetectFormat::ssd);
  EXPECT_EQ(recognise_detect_format({{"output0", {1, 25200, 85}}}), DetectFormat::yolov5);
  EXPECT_EQ(recognise_detect_format({{"output0", {1, 84, 8400}}}), DetectFormat::yolov8);
  EXPECT_THROW(recognise_detect_format({{"y", {1, 1000}}}), Error);
  EXPECT_EQ(infer_task({{"y", {1, 1000}}}), Task::classify);
  EXPECT_EQ(infer_task({{"y", {-1, 1000}}}), Task::classify);
  EXPECT_EQ(infer_task({{"out", {1, 21, -1, -1}}}), Task::segment);
  EXPECT_EQ(infer_task({{"output0", {1, 84, 8400}}}), Task::detect);
  EXPECT_THROW(infer_task({{"a", {1, 7}}, {"b", {3}}}), Error);
}

TEST(Decode, SsdBoxesThresholdedNormalizedAndInTensorFlowOrder) {
  PreprocessConfig input;
  input.width = 200;
  input.height = 100;
  std::map<std::string, Tensor> outputs;
  outputs.emplace("detection_boxes", floats({1, 2, 4}, {0.1f, 0.2f, 0.5f, 0.6f, 0, 0, 1, 1}));
  outputs.emplace("detection_scores", floats({1, 2}, {0.9f, 0.1f}));
  outputs.emplace("detection_classes", floats({1, 2}, {3, 4}));
  DetectOptions options;
  options.yxyx = true;
  const std::vector<Detection> found = decode_detections(outputs, input, options);
  ASSERT_EQ(found.size(), 1u);  // 0.1 is under the 0.25 threshold
  EXPECT_EQ(found[0].label, 3);
  EXPECT_FLOAT_EQ(found[0].box.x1, 0.2f * 200);
  EXPECT_FLOAT_EQ(found[0].box.y1, 0.1f * 100);
  EXPECT_FLOAT_EQ(found[0].box.x2, 0.6f * 200);
  EXPECT_FLOAT_EQ(found[0].box.y2, 0.5f * 100);
}

TEST(Decode, YoloBothLayoutsAgree) {
  PreprocessConfig input;
  // Three candidates, two classes: cx, cy, w, h, [objectness,] class scores.
  const std::vector<std::vector<float>> rows = {
      {50, 50, 20, 20, 0.9f, 0.1f, 0.8f},
      {52, 50, 20, 20, 0.85f, 0.1f, 0.9f},  // overlaps the first, same class, scores more
      {10, 10, 4, 4, 0.2f, 0.9f, 0.1f},     // 0.2 * 0.9 = 0.18: under the threshold
  };
  std::vector<float> v5, v8(6 * 3);
  for (const auto& row : rows) v5.insert(v5.end(), row.begin(), row.end());
  for (std::size_t box = 0; box < 3; ++box) {
    for (std::size_t field = 0, out = 0; field < 7; ++field) {
      if (field == 4) continue;  // v8 has no objectness: fold it into the class scores
      const float value = field > 4 ? rows[box][field] * rows[box][4] : rows[box][field];
      v8[out++ * 3 + box] = value;
    }
  }
  std::map<std::string, Tensor> a, b;
  a.emplace("output0", floats({1, 3, 7}, v5));
  b.emplace("output0", floats({1, 6, 3}, v8));
  // With so few candidates the shapes are ambiguous: the format is named.
  DetectOptions v5_options, v8_options;
  v5_options.format = DetectFormat::yolov5;
  v8_options.format = DetectFormat::yolov8;
  const std::vector<Detection> from_v5 = decode_detections(a, input, v5_options);
  const std::vector<Detection> from_v8 = decode_detections(b, input, v8_options);
  ASSERT_EQ(from_v5.size(), 1u);
  ASSERT_EQ(from_v8.size(), 1u);
  EXPECT_EQ(from_v5[0].label, 1);
  EXPECT_NEAR(from_v5[0].score, 0.765f, 1e-6);
  EXPECT_FLOAT_EQ(from_v5[0].box.x1, 42);  // 52 - 20 / 2
  EXPECT_FLOAT_EQ(from_v8[0].box.x1, from_v5[0].box.x1);
  EXPECT_NEAR(from_v8[0].score, from_v5[0].score, 1e-6);
}

// A box in model pixels maps back onto the frame region preprocess took it from.
TEST(ToFrame, InvertsEachFit) {
  PreprocessConfig input;
  input.width = input.height = 100;
  const Box whole{0, 0, 100, 100};
  input.fit = Fit::stretch;
  Box b = to_frame(whole, input, 640, 480);
  EXPECT_FLOAT_EQ(b.x2, 640);
  EXPECT_FLOAT_EQ(b.y2, 480);
  input.fit = Fit::crop;  // the centred 480x480
  b = to_frame({0, 0, 50, 100}, input, 640, 480);
  EXPECT_FLOAT_EQ(b.x1, 80);
  EXPECT_FLOAT_EQ(b.x2, 320);
  EXPECT_FLOAT_EQ(b.y2, 480);
  input.fit = Fit::letterbox;  // 100x75 placed at y 12..87
  b = to_frame({0, 12, 100, 87}, input, 640, 480);
  EXPECT_NEAR(b.x1, 0, 1e-4);
  EXPECT_NEAR(b.y1, 0, 1e-4);
  EXPECT_NEAR(b.x2, 640, 1e-4);
  EXPECT_NEAR(b.y2, 480, 1e-4);
  b = to_frame({-10, -10, 200, 200}, input, 640, 480);  // clipped to the frame
  EXPECT_FLOAT_EQ(b.x1, 0);
  EXPECT_FLOAT_EQ(b.y2, 480);
}

TEST(ArgmaxMask, PerPixelBestClass) {
  const ClassMask mask = argmax_mask(floats({1, 3, 1, 4}, {0, 5, 0, 0,  //
                                                           1, 0, 0, 2,  //
                                                           2, 0, 0, 1}));
  EXPECT_EQ(mask.classes, 3);
  EXPECT_EQ(mask.width, 4);
  EXPECT_EQ(mask.height, 1);
  EXPECT_EQ(mask.labels, (std::vector<std::uint8_t>{2, 0, 0, 1}));  // ties: the lower class
  EXPECT_THROW(argmax_mask(floats({2, 5}, std::vector<float>(10))), Error);
}

TEST(Task, Names) {
  EXPECT_EQ(parse_task("detect"), Task::detect);
  EXPECT_THROW(parse_task("track"), Error);
  EXPECT_THROW(parse_detect_format("yolov9"), Error);
}

}  // namespace
}  // namespace edgeperf::vision
