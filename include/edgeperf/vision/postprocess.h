#pragma once
// Model outputs to results a person can use: top-k classes, boxes, a class mask. Boxes
// and masks come back in the frame's pixel coordinates (the inverse of preprocess's fit).
//
// Detection output forms recognised:
//   ssd      boxes [N, 4] or [1, N, 4], scores [N] or [1, N], labels/classes [N] or [1, N]
//            (torchvision's detectors, TF's detection_* outputs): boxes already decoded,
//            usually after the model's own NMS. Boxes in input pixels, or normalized to
//            0-1 when every coordinate is within [0, 1.5].
//   yolov5   one [1, N, 5 + C] output: cx, cy, w, h, objectness, C class scores
//   yolov8   one [1, 4 + C, N] output: cx, cy, w, h, C class scores (no objectness)
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/vision/preprocess.h"

namespace edgeperf::vision {

enum class Task { classify, detect, segment };
Task parse_task(const std::string& name);  // classify | detect | segment
const char* task_name(Task task);

struct ClassScore {
  int index = 0;
  float probability = 0;
};
// Softmax of `logits` (left as is when they already are probabilities), best k first.
std::vector<ClassScore> top_k(const float* logits, std::size_t count, std::size_t k);

// labels[index], or "class N" when the labels do not name it.
std::string class_name(int index, const std::vector<std::string>& labels);

struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float area() const;
};
float iou(const Box& a, const Box& b);

struct Detection {
  Box box;
  float score = 0;
  int label = 0;
};

enum class DetectFormat { ssd, yolov5, yolov8 };
DetectFormat parse_detect_format(const std::string& name);  // ssd | yolov5 | yolov8
const char* detect_format_name(DetectFormat format);

struct DetectOptions {
  std::optional<DetectFormat> format;  // nullopt: recognised from the output shapes
  float score_threshold = 0.25f;
  std::optional<float> nms_iou;  // nullopt: 0.45 for YOLO outputs, none for ssd (already NMS'd)
  std::size_t max_detections = 100;
  bool yxyx = false;  // ssd boxes as y1, x1, y2, x2 (TensorFlow's order)
};

// The detection form of a model's outputs (names and shapes); throws Error saying what
// was expected when the outputs are none of the forms above.
DetectFormat recognise_detect_format(const std::map<std::string, Shape>& outputs);

// Classify, detect or segment from a model's output shapes: one [1, K] (or [K]) output is
// a classifier, one [1, C, H, W] with H, W > 1 a segmenter, a detection form a detector.
Task infer_task(const std::map<std::string, Shape>& outputs);

// Greedy non-maximum suppression, class by class: keeps the highest score, drops every
// other box of its class overlapping it by more than `iou_threshold`; best first.
std::vector<Detection> nms(std::vector<Detection> detections, float iou_threshold,
                           std::size_t max_detections);

// Decodes, thresholds and suppresses; boxes in model-input pixels.
std::vector<Detection> decode_detections(const std::map<std::string, Tensor>& outputs,
                                         const PreprocessConfig& input,
                                         const DetectOptions& options);

// A box in model-input pixels mapped back to the frame (inverse crop, stretch or
// letterbox), clipped to the frame.
Box to_frame(const Box& box, const PreprocessConfig& input, int frame_width, int frame_height);

// Per-pixel argmax of [1, C, H, W] (or [C, H, W]) scores: H * W class indices.
struct ClassMask {
  int width = 0, height = 0, classes = 0;
  std::vector<std::uint8_t> labels;  // class index, saturated at 255
};
ClassMask argmax_mask(const Tensor& scores);

}  // namespace edgeperf::vision
