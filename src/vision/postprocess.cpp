#include "edgeperf/vision/postprocess.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "edgeperf/core/error.h"

namespace edgeperf::vision {
namespace {

constexpr float kYoloIou = 0.45f;

bool contains(const std::string& name, const char* word) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find(word) != std::string::npos;
}

// Leading batch axes (1, or -1 when dynamic) dropped: [1, N, 85] -> [N, 85].
Shape squeezed(const Shape& shape) {
  Shape out(shape.begin(), shape.end());
  while (out.size() > 1 && (out.front() == 1 || out.front() < 0)) out.erase(out.begin());
  return out;
}

struct SsdOutputs {
  std::string boxes, scores, labels;  // labels empty: scores are [N, C]
};

// Shapes may hold -1 for a dimension not known before running.
bool same(std::int64_t a, std::int64_t b) { return a == b || a < 0 || b < 0; }

// [N, 4] or [1, N, 4]: N, or nullopt.
std::optional<std::int64_t> box_count(const Shape& s) {
  if (s.size() == 2 && s[1] == 4) return s[0];
  if (s.size() == 3 && s[0] == 1 && s[2] == 4) return s[1];
  return std::nullopt;
}
bool one_per_box(const Shape& s, std::int64_t count) {
  return (s.size() == 1 && same(s[0], count)) || (s.size() == 2 && s[0] == 1 && same(s[1], count));
}
bool classes_per_box(const Shape& s, std::int64_t count) {
  return (s.size() == 2 && s[0] != 1 && same(s[0], count) && s[1] > 1) ||
         (s.size() == 3 && s[0] == 1 && same(s[1], count) && s[2] > 1);
}

// The ssd form's outputs by shape (names break ties); nullopt when absent.
std::optional<SsdOutputs> find_ssd(const std::map<std::string, Shape>& outputs) {
  SsdOutputs found;
  std::int64_t count = -1;
  for (const auto& [name, shape] : outputs) {
    const std::optional<std::int64_t> n = box_count(shape);
    if (n && (found.boxes.empty() || contains(name, "box"))) {
      found.boxes = name;
      count = *n;
    }
  }
  if (found.boxes.empty()) return std::nullopt;
  std::string per_class;
  for (const auto& [name, shape] : outputs) {
    if (name == found.boxes) continue;
    if (one_per_box(shape, count)) {
      if (contains(name, "label") || contains(name, "class")) {
        found.labels = name;
      } else if (found.scores.empty() || contains(name, "score")) {
        found.scores = name;
      }
    } else if (classes_per_box(shape, count)) {
      per_class = name;
    }
  }
  if (!found.scores.empty() && !found.labels.empty()) return found;
  if (per_class.empty()) return std::nullopt;
  return SsdOutputs{found.boxes, per_class, ""};
}

std::string describe(const std::map<std::string, Shape>& outputs) {
  std::string text;
  for (const auto& [name, shape] : outputs) {
    text += (text.empty() ? "" : ", ") + name + shape_to_string(shape);
  }
  return text;
}

Box from_center(double cx, double cy, double w, double h) {
  return {static_cast<float>(cx - w / 2), static_cast<float>(cy - h / 2),
          static_cast<float>(cx + w / 2), static_cast<float>(cy + h / 2)};
}

std::vector<Detection> decode_ssd(const std::map<std::string, Tensor>& outputs,
                                  const PreprocessConfig& input, const DetectOptions& options) {
  std::map<std::string, Shape> shapes;
  for (const auto& [name, tensor] : outputs) shapes[name] = tensor.shape();
  const std::optional<SsdOutputs> names = find_ssd(shapes);
  EP_CHECK(names.has_value(), "detect: outputs {} are not boxes [N,4] with scores and labels",
           describe(shapes));
  const std::vector<double> boxes = outputs.at(names->boxes).to_doubles();
  const std::vector<double> scores = outputs.at(names->scores).to_doubles();
  const std::size_t count = boxes.size() / 4;
  const std::size_t classes = scores.size() / std::max<std::size_t>(count, 1);
  std::vector<double> labels;
  if (!names->labels.empty()) labels = outputs.at(names->labels).to_doubles();
  const bool normalized =
      std::all_of(boxes.begin(), boxes.end(), [](double v) { return v >= -0.5 && v <= 1.5; }) &&
      count > 0;
  const double sx = normalized ? input.width : 1.0, sy = normalized ? input.height : 1.0;
  std::vector<Detection> detections;
  for (std::size_t i = 0; i < count; ++i) {
    float score = 0;
    int label = 0;
    if (labels.empty()) {
      const double* row = scores.data() + i * classes;
      const auto best = std::max_element(row, row + classes) - row;
      score = static_cast<float>(row[best]);
      label = static_cast<int>(best);
    } else {
      score = static_cast<float>(scores[i]);
      label = static_cast<int>(std::lround(labels[i]));
    }
    if (score < options.score_threshold) continue;
    const double* b = boxes.data() + i * 4;
    const double x1 = options.yxyx ? b[1] : b[0], y1 = options.yxyx ? b[0] : b[1];
    const double x2 = options.yxyx ? b[3] : b[2], y2 = options.yxyx ? b[2] : b[3];
    detections.push_back({{static_cast<float>(x1 * sx), static_cast<float>(y1 * sy),
                           static_cast<float>(x2 * sx), static_cast<float>(y2 * sy)},
                          score,
                          label});
  }
  return detections;
}

std::vector<Detection> decode_yolo(const Tensor& output, bool channels_first,
                                   const DetectOptions& options) {
  const Shape s = squeezed(output.shape());
  EP_CHECK(s.size() == 2, "detect: YOLO output {} is not [1, N, 5+C] or [1, 4+C, N]",
           shape_to_string(output.shape()));
  const std::vector<double> values = output.to_doubles();
  const std::size_t count = static_cast<std::size_t>(channels_first ? s[1] : s[0]);
  const std::size_t fields = static_cast<std::size_t>(channels_first ? s[0] : s[1]);
  const std::size_t first_class = channels_first ? 4 : 5;
  EP_CHECK(fields > first_class, "detect: YOLO output {} has no class scores",
           shape_to_string(output.shape()));
  const auto at = [&](std::size_t box, std::size_t field) {
    return channels_first ? values[field * count + box] : values[box * fields + field];
  };
  std::vector<Detection> detections;
  for (std::size_t i = 0; i < count; ++i) {
    const double objectness = channels_first ? 1.0 : at(i, 4);
    std::size_t best = first_class;
    for (std::size_t f = first_class + 1; f < fields; ++f) {
      if (at(i, f) > at(i, best)) best = f;
    }
    const auto score = static_cast<float>(objectness * at(i, best));
    const Box box = from_center(at(i, 0), at(i, 1), at(i, 2), at(i, 3));
    if (score < options.score_threshold || box.area() <= 0) continue;  // no area: no object
    detections.push_back({box, score, static_cast<int>(best - first_class)});
  }
  return detections;
}

}  // namespace

Task parse_task(const std::string& name) {
  if (name == "classify") return Task::classify;
  if (name == "detect") return Task::detect;
  if (name == "segment") return Task::segment;
  fail("--task {}: expected classify, detect or segment", name);
}

const char* task_name(Task task) {
  switch (task) {
    case Task::classify:
      return "classify";
    case Task::detect:
      return "detect";
    case Task::segment:
      return "segment";
  }
  return "?";
}

DetectFormat parse_detect_format(const std::string& name) {
  if (name == "ssd") return DetectFormat::ssd;
  if (name == "yolov5") return DetectFormat::yolov5;
  if (name == "yolov8") return DetectFormat::yolov8;
  fail("--detect-format {}: expected ssd, yolov5 or yolov8", name);
}

const char* detect_format_name(DetectFormat format) {
  switch (format) {
    case DetectFormat::ssd:
      return "ssd";
    case DetectFormat::yolov5:
      return "yolov5";
    case DetectFormat::yolov8:
      return "yolov8";
  }
  return "?";
}

std::vector<ClassScore> top_k(const float* logits, std::size_t count, std::size_t k) {
  std::vector<ClassScore> scores(count);
  float sum = 0, largest = -INFINITY;
  bool probabilities = true;
  for (std::size_t i = 0; i < count; ++i) {
    largest = std::max(largest, logits[i]);
    sum += logits[i];
    probabilities = probabilities && logits[i] >= 0 && logits[i] <= 1;
  }
  probabilities = probabilities && std::fabs(sum - 1.0f) < 1e-3f;
  double total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double value =
        probabilities ? logits[i] : std::exp(static_cast<double>(logits[i] - largest));
    scores[i] = {static_cast<int>(i), static_cast<float>(value)};
    total += value;
  }
  for (ClassScore& score : scores)
    score.probability = static_cast<float>(score.probability / total);
  k = std::min(k, count);
  std::partial_sort(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(k), scores.end(),
                    [](const ClassScore& a, const ClassScore& b) {
                      return a.probability > b.probability ||
                             (a.probability == b.probability && a.index < b.index);
                    });
  scores.resize(k);
  return scores;
}

std::string class_name(int index, const std::vector<std::string>& labels) {
  return index >= 0 && static_cast<std::size_t>(index) < labels.size()
             ? labels[static_cast<std::size_t>(index)]
             : "class " + std::to_string(index);
}

float Box::area() const { return std::max(0.0f, x2 - x1) * std::max(0.0f, y2 - y1); }

float iou(const Box& a, const Box& b) {
  const Box overlap{std::max(a.x1, b.x1), std::max(a.y1, b.y1), std::min(a.x2, b.x2),
                    std::min(a.y2, b.y2)};
  const float shared = overlap.area();
  const float either = a.area() + b.area() - shared;
  return either > 0 ? shared / either : 0.0f;
}

std::vector<Detection> nms(std::vector<Detection> detections, float iou_threshold,
                           std::size_t max_detections) {
  // Stable, so equal scores keep the model's order, as a reference sort by (-score) does.
  std::stable_sort(detections.begin(), detections.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (const Detection& candidate : detections) {
    if (kept.size() >= max_detections) break;
    const bool overlaps = std::any_of(kept.begin(), kept.end(), [&](const Detection& k) {
      return k.label == candidate.label && iou(k.box, candidate.box) > iou_threshold;
    });
    if (!overlaps) kept.push_back(candidate);
  }
  return kept;
}

DetectFormat recognise_detect_format(const std::map<std::string, Shape>& outputs) {
  if (find_ssd(outputs)) return DetectFormat::ssd;
  if (outputs.size() == 1) {
    const Shape s = squeezed(outputs.begin()->second);
    if (s.size() == 2 && s[0] < s[1] && s[0] > 4) return DetectFormat::yolov8;
    if (s.size() == 2 && s[1] > 5 && s[1] < s[0]) return DetectFormat::yolov5;
  }
  fail(
      "detect: outputs {} are none of the forms recognised (ssd: boxes [N,4] with scores "
      "and labels; yolov5: [1,N,5+C]; yolov8: [1,4+C,N]); --detect-format names one",
      describe(outputs));
}

Task infer_task(const std::map<std::string, Shape>& outputs) {
  if (outputs.size() == 1) {
    const Shape& shape = outputs.begin()->second;
    const Shape s = squeezed(shape);
    if (s.size() == 1) return Task::classify;
    if (shape.size() == 4 && shape[2] != 1 && shape[3] != 1) return Task::segment;
  }
  try {
    recognise_detect_format(outputs);
    return Task::detect;
  } catch (const Error&) {
    fail(
        "vision: cannot tell the task from the outputs {}; give --task classify, detect or "
        "segment",
        describe(outputs));
  }
}

std::vector<Detection> decode_detections(const std::map<std::string, Tensor>& outputs,
                                         const PreprocessConfig& input,
                                         const DetectOptions& options) {
  std::map<std::string, Shape> shapes;
  for (const auto& [name, tensor] : outputs) shapes[name] = tensor.shape();
  const DetectFormat format = options.format ? *options.format : recognise_detect_format(shapes);
  std::vector<Detection> detections;
  std::optional<float> iou_threshold = options.nms_iou;
  if (format == DetectFormat::ssd) {
    detections = decode_ssd(outputs, input, options);
  } else {
    EP_CHECK(outputs.size() == 1, "detect: {} expects one output, the model has {}",
             detect_format_name(format), describe(shapes));
    detections = decode_yolo(outputs.begin()->second, format == DetectFormat::yolov8, options);
    iou_threshold = iou_threshold.value_or(kYoloIou);
  }
  return nms(std::move(detections), iou_threshold.value_or(2.0f), options.max_detections);
}

Box to_frame(const Box& box, const PreprocessConfig& input, int frame_width, int frame_height) {
  const Placement p = place(frame_width, frame_height, input);
  const double sx = p.src_w / p.dst_w, sy = p.src_h / p.dst_h;
  const auto x = [&](float v) {
    return static_cast<float>(std::clamp(p.src_x + (v - p.dst_x) * sx, 0.0, 1.0 * frame_width));
  };
  const auto y = [&](float v) {
    return static_cast<float>(std::clamp(p.src_y + (v - p.dst_y) * sy, 0.0, 1.0 * frame_height));
  };
  return {x(box.x1), y(box.y1), x(box.x2), y(box.y2)};
}

namespace {

template <typename T>
void argmax_channels(const T* values, std::size_t plane, ClassMask& mask) {
  std::vector<T> best(values, values + plane);
  for (int c = 1; c < mask.classes; ++c) {
    const T* channel = values + static_cast<std::size_t>(c) * plane;
    for (std::size_t i = 0; i < plane; ++i) {
      if (channel[i] > best[i]) {
        best[i] = channel[i];
        mask.labels[i] = static_cast<std::uint8_t>(std::min(c, 255));
      }
    }
  }
}

}  // namespace

ClassMask argmax_mask(const Tensor& scores) {
  const Shape& shape = scores.shape();
  const bool batched = shape.size() == 4 && shape[0] == 1;
  EP_CHECK(batched || shape.size() == 3, "segment: output {} is not [1, C, H, W] or [C, H, W]",
           shape_to_string(shape));
  const std::size_t offset = batched ? 1 : 0;
  ClassMask mask;
  mask.classes = static_cast<int>(shape[offset]);
  mask.height = static_cast<int>(shape[offset + 1]);
  mask.width = static_cast<int>(shape[offset + 2]);
  const std::size_t plane = static_cast<std::size_t>(mask.width) * mask.height;
  mask.labels.assign(plane, 0);
  // f32 scores (the usual case) are read in place: no per-frame copy of the whole tensor.
  if (scores.dtype() == DType::f32) {
    argmax_channels(scores.data<float>(), plane, mask);
  } else {
    argmax_channels(scores.to_doubles().data(), plane, mask);
  }
  return mask;
}

}  // namespace edgeperf::vision
