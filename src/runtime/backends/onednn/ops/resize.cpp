// Resize in linear mode with half_pixel (or pytorch_half_pixel) coordinates over H and W
// of a 4-D f32 tensor, as torch exports bilinear interpolation (segmentation heads,
// feature pyramids): oneDNN's linear resampling. Its source coordinate is
// (x + 0.5) / factor - 0.5 with both neighbours clamped to the edge, as ONNX's is, with
// factor = output size / input size. ONNX maps coordinates with the scales input when
// given, so scales whose product with the input size is not the output size stay on the
// reference backend, as do other modes, coordinate modes, antialias and `axes`.
#include <optional>
#include <string>
#include <vector>

#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

constexpr std::size_t kScalesInput = 2;

std::optional<std::vector<float>> constant_scales(const PlannedNode& planned) {
  if (planned.constants.size() <= kScalesInput || planned.constants[kScalesInput] == nullptr) {
    return std::nullopt;
  }
  const Tensor& scales = *planned.constants[kScalesInput];
  if (scales.dtype() != DType::f32 || scales.numel() == 0) return std::nullopt;
  const float* values = scales.data<float>();
  return std::vector<float>(values, values + scales.numel());
}

// The H and W factors, or nullopt when this Resize is not one oneDNN computes alike.
std::optional<std::vector<float>> linear_resize_factors(const PlannedNode& planned,
                                                        std::int64_t opset) {
  const graph::Node& node = *planned.node;
  if (node.op_type != "Resize" || !node.domain.empty() || opset < 11 || planned.inputs.empty() ||
      planned.outputs.size() != 1) {
    return std::nullopt;
  }
  const Shape& x = planned.inputs[0].shape;
  const Shape& y = planned.outputs[0].shape;
  if (planned.inputs[0].dtype != DType::f32 || planned.outputs[0].dtype != DType::f32 ||
      x.size() != 4 || y.size() != 4 || x[0] != y[0] || x[1] != y[1] || element_count(y) == 0) {
    return std::nullopt;
  }
  const std::string coordinates = node.attr_string("coordinate_transformation_mode", "half_pixel");
  const bool half_pixel =
      coordinates == "half_pixel" || (coordinates == "pytorch_half_pixel" && y[2] > 1 && y[3] > 1);
  if (node.attr_string("mode", "nearest") != "linear" || !half_pixel ||
      node.attr_int("antialias", 0) != 0 || node.has_attr("axes") ||
      node.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch") {
    return std::nullopt;
  }
  if (const std::optional<std::vector<float>> scales = constant_scales(planned)) {
    if (scales->size() != 4 || (*scales)[0] != 1.0f || (*scales)[1] != 1.0f ||
        !((*scales)[2] > 0.0f) || !((*scales)[3] > 0.0f)) {
      return std::nullopt;
    }
    // oneDNN maps coordinates with output / input size whatever factors it is given.
    for (std::size_t axis = 2; axis < 4; ++axis) {
      if ((*scales)[axis] * static_cast<float>(x[axis]) != static_cast<float>(y[axis])) {
        return std::nullopt;
      }
    }
  }
  return std::vector<float>{static_cast<float>(y[2]) / static_cast<float>(x[2]),
                            static_cast<float>(y[3]) / static_cast<float>(x[3])};
}

}  // namespace

bool match_resize(const MatchView& view, std::size_t index) {
  return linear_resize_factors(view.planned(index), view.input().opset).has_value();
}

// oneDNN picks the layouts (channels-last here). Asking for a region output in its plain
// layout, to save the export reorder, measured slower on lraspp's 21 x 32 x 32 -> 256 x 256
// head: plain in and out 1.97 ms, blocked 0.48 + 0.75 for the reorder, channels-last
// 0.35 + 0.53.
bool lower_resize(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const std::vector<float> factors = *linear_resize_factors(node, context.input().opset);
  const std::string& x = node.node->inputs[0];
  context.materialize(x);
  dnnl::resampling_forward::desc desc(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::resampling_linear, factors,
                                      context.value(x).md, any_desc(node.outputs[0].shape));
  dnnl::resampling_forward::primitive_desc pd(desc, context.base_attr(), context.engine());
  OpArgs args = {{DNNL_ARG_SRC, context.use_as(x, pd.src_desc())},
                 {DNNL_ARG_DST, context.define_new(context.output_of(index), pd.dst_desc())}};
  context.add_compute_op(dnnl::resampling_forward(pd), std::move(args), pd.scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
