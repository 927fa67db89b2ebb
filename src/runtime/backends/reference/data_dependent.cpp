// Ops whose output shape depends on input values: NonZero (opsets 9, 13) and
// NonMaxSuppression (10, 11). infer() computes them when every input is known (at load
// time for constants, else in the session's interpreter, see DataDependentShape).
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <utility>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

constexpr const char* kDependsOnValues = "the output shape depends on the input values";

Tensor nonzero_indices(const Tensor& x) {
  const Shape shape = x.rank() == 0 ? Shape{1} : x.shape();  // a scalar counts as [1]
  const std::vector<double> values = x.to_doubles();
  std::vector<std::int64_t> found;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] != 0.0) found.push_back(static_cast<std::int64_t>(i));
  }
  const auto rank = static_cast<std::int64_t>(shape.size());
  const auto count = static_cast<std::int64_t>(found.size());
  Tensor result(DType::i64, {rank, count});
  std::int64_t* out = result.data<std::int64_t>();
  for (std::int64_t n = 0; n < count; ++n) {
    std::int64_t flat = found[static_cast<std::size_t>(n)];
    for (std::int64_t d = rank - 1; d >= 0; --d) {
      const std::int64_t size = shape[static_cast<std::size_t>(d)];
      out[d * count + n] = flat % size;
      flat /= size;
    }
  }
  return result;
}

struct Box {
  float y1, x1, y2, x2;
  float area() const { return (y2 - y1) * (x2 - x1); }
};

Box box_at(const float* b, bool center_point) {
  if (center_point) {  // [x_center, y_center, width, height]
    const float half_w = b[2] / 2, half_h = b[3] / 2;
    return {b[1] - half_h, b[0] - half_w, b[1] + half_h, b[0] + half_w};
  }
  // [y1, x1, y2, x2], either corner pair first
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}

// Intersection over union; 0 when either box is empty.
float iou(const Box& a, const Box& b) {
  if (a.area() <= 0 || b.area() <= 0) return 0;
  const float h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  const float w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (h <= 0 || w <= 0) return 0;
  const float intersection = h * w;
  return intersection / (a.area() + b.area() - intersection);
}

struct NmsParams {
  std::int64_t max_per_class = 0;
  float iou_threshold = 0;
  bool has_score_threshold = false;
  float score_threshold = 0;
  bool center_point = false;
};

float scalar_input(const PrepareContext& context, std::size_t index, const char* name) {
  const Tensor& value = *context.constant(index);
  EP_CHECK(value.numel() == 1, "node {}: {} must hold one value, got {}", context.node.label(),
           name, value.numel());
  return static_cast<float>(value.to_doubles()[0]);
}

NmsParams nms_params(const PrepareContext& context) {
  NmsParams p;
  if (context.has_input(2)) {
    p.max_per_class = static_cast<std::int64_t>(context.constant(2)->to_int64s().at(0));
  }
  if (context.has_input(3)) p.iou_threshold = scalar_input(context, 3, "iou_threshold");
  if (context.has_input(4)) {
    p.has_score_threshold = true;
    p.score_threshold = scalar_input(context, 4, "score_threshold");
  }
  p.center_point = context.node.attr_int("center_point_box", 0) != 0;
  return p;
}

// Kept boxes bucketed by the grid cell of their top-left corner. With cells as large as
// the largest box, a box can overlap only kept boxes in the 3x3 (or so) cells around it,
// so a class of n boxes costs about n x (kept nearby) IoUs instead of n x kept: detectors'
// batched NMS (every class in one call, classes shifted apart) stays fast.
class KeptBoxes {
 public:
  explicit KeptBoxes(float cell) : cell_(cell) {}
  bool overlaps(const Box& box, float threshold) const {
    for (std::int64_t gy = cell_of(box.y1) - 1; gy <= cell_of(box.y2); ++gy) {
      for (std::int64_t gx = cell_of(box.x1) - 1; gx <= cell_of(box.x2); ++gx) {
        auto bucket = buckets_.find({gy, gx});
        if (bucket == buckets_.end()) continue;
        for (const Box& kept : bucket->second) {
          if (iou(box, kept) > threshold) return true;
        }
      }
    }
    return false;
  }
  void add(const Box& box) { buckets_[{cell_of(box.y1), cell_of(box.x1)}].push_back(box); }

 private:
  std::int64_t cell_of(float value) const {
    return static_cast<std::int64_t>(std::floor(value / cell_));
  }
  float cell_;
  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<Box>> buckets_;
};

// Selected box indices of one class: highest score first (ties: lower index), each kept
// unless it overlaps a kept one by IoU > threshold.
std::vector<std::int64_t> select_boxes(const float* boxes, const float* scores, std::int64_t count,
                                       const NmsParams& p) {
  std::vector<std::int64_t> candidates;
  for (std::int64_t i = 0; i < count; ++i) {
    if (!p.has_score_threshold || scores[i] > p.score_threshold) candidates.push_back(i);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](std::int64_t a, std::int64_t b) { return scores[a] > scores[b]; });
  std::vector<Box> candidate_boxes;
  float largest = 0.0f;
  bool finite = true;
  for (std::int64_t candidate : candidates) {
    const Box box = box_at(boxes + candidate * 4, p.center_point);
    candidate_boxes.push_back(box);
    largest = std::max({largest, box.y2 - box.y1, box.x2 - box.x1});
    finite = finite && std::isfinite(box.y1) && std::isfinite(box.y2) && std::isfinite(box.x1) &&
             std::isfinite(box.x2);
  }
  // A negative threshold suppresses even disjoint boxes; odd coordinates skip the grid.
  const bool use_grid = finite && largest > 0.0f && p.iou_threshold >= 0.0f;
  KeptBoxes grid(use_grid ? largest : 1.0f);
  std::vector<Box> kept_boxes;  // without the grid
  std::vector<std::int64_t> kept;
  for (std::size_t c = 0; c < candidates.size(); ++c) {
    if (static_cast<std::int64_t>(kept.size()) >= p.max_per_class) break;
    const Box& box = candidate_boxes[c];
    const bool suppressed =
        use_grid ? grid.overlaps(box, p.iou_threshold)
                 : std::any_of(kept_boxes.begin(), kept_boxes.end(),
                               [&](const Box& k) { return iou(box, k) > p.iou_threshold; });
    if (suppressed) continue;
    kept.push_back(candidates[c]);
    if (use_grid) {
      grid.add(box);
    } else {
      kept_boxes.push_back(box);
    }
  }
  return kept;
}

Tensor non_max_suppression(const PrepareContext& context) {
  const graph::Node& node = context.node;
  const Tensor& boxes = *context.constant(0);
  const Tensor& scores = *context.constant(1);
  const Shape& b = boxes.shape();
  const Shape& s = scores.shape();
  EP_CHECK(b.size() == 3 && b[2] == 4, "node {}: boxes must be [batch, boxes, 4], got {}",
           node.label(), shape_to_string(b));
  EP_CHECK(s.size() == 3 && s[0] == b[0] && s[2] == b[1],
           "node {}: scores must be [batch, classes, boxes] = [{}, C, {}], got {}", node.label(),
           b[0], b[1], shape_to_string(s));
  const NmsParams p = nms_params(context);
  std::vector<std::int64_t> selected;
  for (std::int64_t batch = 0; batch < s[0]; ++batch) {
    for (std::int64_t cls = 0; cls < s[1]; ++cls) {
      const float* box_data = boxes.data<float>() + batch * b[1] * 4;
      const float* score_data = scores.data<float>() + (batch * s[1] + cls) * s[2];
      for (std::int64_t index : select_boxes(box_data, score_data, s[2], p)) {
        selected.insert(selected.end(), {batch, cls, index});
      }
    }
  }
  const auto rows = static_cast<std::int64_t>(selected.size() / 3);
  return make_tensor<std::int64_t>({rows, 3}, std::span<const std::int64_t>(selected));
}

void set_value(PrepareContext& context, Tensor value) {
  prepare_outputs(context, 1, 1);
  set_output(context, 0, value.dtype(), value.shape());
  context.output_values.assign(1, std::move(value));
}

std::unique_ptr<Kernel> computed_in_infer(const PrepareContext& context) {
  fail("internal: node {} reached create(); its infer() gives its outputs", context.node.label());
}

}  // namespace

void infer_nonzero(PrepareContext& context) {
  check_input_count(context, 1, 1);
  require_all_constant(context, kDependsOnValues);
  set_value(context, nonzero_indices(*context.constant(0)));
}

std::unique_ptr<Kernel> create_nonzero(const PrepareContext& context) {
  return computed_in_infer(context);
}

void infer_non_max_suppression(PrepareContext& context) {
  check_input_count(context, 2, 5);
  check_dtype(context, 0, {DType::f32}, "boxes");
  check_dtype(context, 1, {DType::f32}, "scores");
  if (context.has_input(2)) check_dtype(context, 2, {DType::i64}, "max_output_boxes_per_class");
  require_all_constant(context, kDependsOnValues);
  set_value(context, non_max_suppression(context));
}

std::unique_ptr<Kernel> create_non_max_suppression(const PrepareContext& context) {
  return computed_in_infer(context);
}

}  // namespace edgeperf::runtime::reference
