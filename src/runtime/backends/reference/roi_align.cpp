// RoiAlign (opsets 10, 16): for each region of interest, an output_height x
// output_width map per channel of bilinear samples averaged (or maxed) over each bin.
// Opset 16 added coordinate_transformation_mode; opset 10 behaves as 'output_half_pixel'
// (no half-pixel shift, regions at least 1 pixel). Max mode takes the largest weighted
// corner value of each sample, as ONNX Runtime does.
#include <algorithm>
#include <cmath>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct RoiAlignParams {
  std::int64_t out_h = 1, out_w = 1, sampling_ratio = 0;
  float spatial_scale = 1.0f;
  bool max_mode = false;
  bool half_pixel = true;
};

RoiAlignParams roi_align_params(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 3, 3);
  check_dtype(context, 0, {DType::f32}, "X");
  check_dtype(context, 1, {DType::f32}, "rois");
  check_dtype(context, 2, {DType::i64, DType::i32}, "batch_indices");
  const Shape& x = context.inputs[0].shape;
  const Shape& rois = context.inputs[1].shape;
  const Shape& batch = context.inputs[2].shape;
  EP_CHECK(x.size() == 4, "node {}: X must be [N, C, H, W], got {}", node.label(),
           shape_to_string(x));
  EP_CHECK(rois.size() == 2 && rois[1] == 4, "node {}: rois must be [num_rois, 4], got {}",
           node.label(), shape_to_string(rois));
  EP_CHECK(batch.size() == 1 && batch[0] == rois[0],
           "node {}: batch_indices must be [{}] (one per roi), got {}", node.label(), rois[0],
           shape_to_string(batch));
  RoiAlignParams p;
  p.out_h = node.attr_int("output_height", 1);
  p.out_w = node.attr_int("output_width", 1);
  p.sampling_ratio = node.attr_int("sampling_ratio", 0);
  p.spatial_scale = node.attr_float("spatial_scale", 1.0f);
  EP_CHECK(p.out_h >= 1 && p.out_w >= 1 && p.out_h <= kMaxParameter && p.out_w <= kMaxParameter &&
               p.sampling_ratio >= 0 && p.sampling_ratio <= 1024,
           "node {}: output_height, output_width must be >= 1 and sampling_ratio >= 0",
           node.label());
  const std::string mode = node.attr_string("mode", "avg");
  EP_CHECK(mode == "avg" || mode == "max", "node {}: mode '{}' is not avg or max", node.label(),
           mode);
  p.max_mode = mode == "max";
  const std::string coordinates = node.attr_string(
      "coordinate_transformation_mode", context.opset >= 16 ? "half_pixel" : "output_half_pixel");
  EP_CHECK(coordinates == "half_pixel" || coordinates == "output_half_pixel",
           "node {}: coordinate_transformation_mode '{}' is not half_pixel or output_half_pixel",
           node.label(), coordinates);
  p.half_pixel = coordinates == "half_pixel";
  return p;
}

// The four corners around (y, x) and their weights; all weights 0 outside the map.
struct Sample {
  std::int64_t offsets[4] = {0, 0, 0, 0};
  float weights[4] = {0, 0, 0, 0};
};

Sample bilinear_sample(float y, float x, std::int64_t height, std::int64_t width) {
  Sample s;
  if (y < -1.0f || y > static_cast<float>(height) || x < -1.0f || x > static_cast<float>(width)) {
    return s;
  }
  y = std::max(y, 0.0f);
  x = std::max(x, 0.0f);
  auto y_low = static_cast<std::int64_t>(y), x_low = static_cast<std::int64_t>(x);
  std::int64_t y_high = y_low + 1, x_high = x_low + 1;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<float>(y_low);
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<float>(x_low);
  }
  const float ly = y - static_cast<float>(y_low), lx = x - static_cast<float>(x_low);
  const float hy = 1.0f - ly, hx = 1.0f - lx;
  s.offsets[0] = y_low * width + x_low;
  s.offsets[1] = y_low * width + x_high;
  s.offsets[2] = y_high * width + x_low;
  s.offsets[3] = y_high * width + x_high;
  s.weights[0] = hy * hx;
  s.weights[1] = hy * lx;
  s.weights[2] = ly * hx;
  s.weights[3] = ly * lx;
  return s;
}

void align_roi(const RoiAlignParams& p, const float* roi, const float* image, std::int64_t channels,
               std::int64_t height, std::int64_t width, float* out) {
  const float offset = p.half_pixel ? 0.5f : 0.0f;
  const float start_w = roi[0] * p.spatial_scale - offset;
  const float start_h = roi[1] * p.spatial_scale - offset;
  float roi_w = roi[2] * p.spatial_scale - offset - start_w;
  float roi_h = roi[3] * p.spatial_scale - offset - start_h;
  if (!p.half_pixel) {
    roi_w = std::max(roi_w, 1.0f);
    roi_h = std::max(roi_h, 1.0f);
  }
  const float bin_h = roi_h / static_cast<float>(p.out_h);
  const float bin_w = roi_w / static_cast<float>(p.out_w);
  const auto grid = [&](float size, std::int64_t bins) {
    return p.sampling_ratio > 0
               ? p.sampling_ratio
               : static_cast<std::int64_t>(std::ceil(size / static_cast<float>(bins)));
  };
  const std::int64_t grid_h = std::max<std::int64_t>(grid(roi_h, p.out_h), 0);
  const std::int64_t grid_w = std::max<std::int64_t>(grid(roi_w, p.out_w), 0);
  const float count = static_cast<float>(std::max<std::int64_t>(grid_h * grid_w, 1));
  for (std::int64_t ph = 0; ph < p.out_h; ++ph) {
    for (std::int64_t pw = 0; pw < p.out_w; ++pw) {
      std::vector<Sample> samples;
      for (std::int64_t iy = 0; iy < grid_h; ++iy) {
        const float y = start_h + static_cast<float>(ph) * bin_h +
                        (static_cast<float>(iy) + 0.5f) * bin_h / static_cast<float>(grid_h);
        for (std::int64_t ix = 0; ix < grid_w; ++ix) {
          const float x = start_w + static_cast<float>(pw) * bin_w +
                          (static_cast<float>(ix) + 0.5f) * bin_w / static_cast<float>(grid_w);
          samples.push_back(bilinear_sample(y, x, height, width));
        }
      }
      for (std::int64_t c = 0; c < channels; ++c) {
        const float* plane = image + c * height * width;
        float value = 0.0f;
        bool first = true;
        for (const Sample& s : samples) {
          if (p.max_mode) {
            float best = s.weights[0] * plane[s.offsets[0]];
            for (int k = 1; k < 4; ++k) best = std::max(best, s.weights[k] * plane[s.offsets[k]]);
            value = first ? best : std::max(value, best);
            first = false;
          } else {
            for (int k = 0; k < 4; ++k) value += s.weights[k] * plane[s.offsets[k]];
          }
        }
        out[(c * p.out_h + ph) * p.out_w + pw] = p.max_mode ? value : value / count;
      }
    }
  }
}

}  // namespace

void infer_roi_align(PrepareContext& context) {
  const RoiAlignParams p = roi_align_params(context);
  const Shape& x = context.inputs[0].shape;
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::f32, {context.inputs[1].shape[0], x[1], p.out_h, p.out_w});
}

std::unique_ptr<Kernel> create_roi_align(const PrepareContext& context) {
  const RoiAlignParams p = roi_align_params(context);
  const Shape x = context.inputs[0].shape;
  const std::string label = context.node.label();
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    const std::vector<std::int64_t> batch = in[2].to_int64s();
    const float* rois = in[1].data<float>();
    float* result = out[0].data<float>();
    const std::int64_t plane = x[2] * x[3], per_roi = x[1] * p.out_h * p.out_w;
    for (std::size_t r = 0; r < batch.size(); ++r) {
      EP_CHECK(batch[r] >= 0 && batch[r] < x[0],
               "node {}: roi {} has batch index {}, outside [0, {})", label, r, batch[r], x[0]);
      align_roi(p, rois + r * 4, in[0].data<float>() + batch[r] * x[1] * plane, x[1], x[2], x[3],
                result + static_cast<std::int64_t>(r) * per_roi);
    }
  });
}

}  // namespace edgeperf::runtime::reference
