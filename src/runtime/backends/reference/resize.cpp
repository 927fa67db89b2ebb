// Resize: modes nearest (any dtype), linear and cubic (f32, separable over every resized
// axis, i.e. bilinear and bicubic for NCHW; cubic_coeff_a, exclude_outside), the
// coordinate transformation modes (tf_crop_and_resize with its roi and extrapolation value,
// f32), the nearest rounding modes, scales or sizes as constant inputs, for every axis or
// only `axes` (18). antialias (18) is refused by name.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <optional>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct AxisMap {
  std::vector<std::int64_t> first;   // nearest: the source index; linear: the lower one
  std::vector<std::int64_t> second;  // linear: the upper index
  std::vector<float> weight;         // linear: weight of `second`
  // cubic: per output, 4 source indices (clamped to the axis) and their weights
  std::vector<std::array<std::int64_t, 4>> cubic_index;
  std::vector<std::array<float, 4>> cubic_weight;
  std::vector<bool> outside;  // tf_crop_and_resize: the output index samples outside the input
  bool identity = true;
};

struct ResizePlan {
  bool linear = false;  // linear or cubic: f32 interpolation passes
  bool cubic = false;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  std::vector<double> roi_start, roi_end;  // per axis, tf_crop_and_resize (0 and 1 otherwise)
  float extrapolation = 0.0f;
  bool crops = false;
  std::string coordinates;  // coordinate_transformation_mode
  std::string nearest;      // nearest_mode, or "legacy" (Upsample, Resize-10)
  Shape input;
  Shape output;
  std::vector<AxisMap> axes;
};

double original_coordinate(const std::string& mode, std::int64_t x, double scale,
                           std::int64_t in_len, std::int64_t out_len, double roi_start,
                           double roi_end) {
  const double xo = static_cast<double>(x);
  if (mode == "tf_crop_and_resize") {  // in float, as ONNX Runtime computes it (ties round alike)
    const auto start = static_cast<float>(roi_start), end = static_cast<float>(roi_end);
    const auto span = static_cast<float>(in_len - 1);
    return out_len > 1 ? start * span + static_cast<float>(x) * (end - start) * span /
                                            static_cast<float>(out_len - 1)
                       : 0.5f * (start + end) * span;
  }
  if (mode == "half_pixel") return (xo + 0.5) / scale - 0.5;
  if (mode == "pytorch_half_pixel") return out_len > 1 ? (xo + 0.5) / scale - 0.5 : 0.0;
  if (mode == "align_corners") {
    return out_len == 1 ? 0.0
                        : xo * static_cast<double>(in_len - 1) / static_cast<double>(out_len - 1);
  }
  if (mode == "asymmetric") return xo / scale;
  if (mode == "tf_half_pixel_for_nearest") return (xo + 0.5) / scale;
  // half_pixel_symmetric (opset 18)
  const double adjustment = static_cast<double>(out_len) / (scale * static_cast<double>(in_len));
  const double center = static_cast<double>(in_len) / 2.0;
  return center * (1.0 - adjustment) + (xo + 0.5) / scale - 0.5;
}

std::int64_t round_nearest(const std::string& mode, double x, double scale) {
  // Upsample and Resize-10 predate nearest_mode: ONNX Runtime floors when enlarging and
  // takes the ceiling when shrinking.
  if (mode == "legacy")
    return static_cast<std::int64_t>(scale >= 1.0 ? std::floor(x) : std::ceil(x));
  const double floor = std::floor(x);
  if (mode == "floor") return static_cast<std::int64_t>(floor);
  if (mode == "ceil") return static_cast<std::int64_t>(std::ceil(x));
  if (x - floor == 0.5) {
    return static_cast<std::int64_t>(mode == "round_prefer_ceil" ? floor + 1.0 : floor);
  }
  return static_cast<std::int64_t>(std::round(x));
}

// Keys' cubic convolution weights of the 4 taps around a point `t` in [0, 1) past the
// second tap; taps outside the axis are dropped (and the rest renormalized) when
// exclude_outside is set, else they read the edge value.
void add_cubic_taps(const ResizePlan& plan, double source, std::int64_t in_len, AxisMap& map) {
  const double a = plan.cubic_a;
  const double floor = std::floor(source);
  const double t = source - floor;
  const auto kernel = [a](double d) {  // |d| in [0, 2)
    d = std::fabs(d);
    if (d <= 1.0) return ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0;
    return ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a;
  };
  std::array<std::int64_t, 4> index{};
  std::array<double, 4> weight{};
  double total = 0.0;
  for (int k = 0; k < 4; ++k) {
    const auto tap = static_cast<std::int64_t>(floor) - 1 + k;
    weight[k] = kernel(t + 1.0 - k);
    if (plan.exclude_outside && (tap < 0 || tap >= in_len)) weight[k] = 0.0;
    total += weight[k];
    index[k] = std::clamp<std::int64_t>(tap, 0, in_len - 1);
  }
  std::array<float, 4> weights{};
  for (int k = 0; k < 4; ++k) {
    weights[k] =
        static_cast<float>(plan.exclude_outside && total != 0.0 ? weight[k] / total : weight[k]);
  }
  map.cubic_index.push_back(index);
  map.cubic_weight.push_back(weights);
}

AxisMap map_axis(const ResizePlan& plan, const graph::Node& node, std::size_t axis, double scale) {
  const std::string& coordinates = plan.coordinates;
  const std::string& nearest = plan.nearest;
  const std::int64_t in_len = plan.input[axis];
  const std::int64_t out_len = plan.output[axis];
  AxisMap map;
  for (std::int64_t x = 0; x < out_len; ++x) {
    double source = original_coordinate(coordinates, x, scale, in_len, out_len,
                                        plan.roi_start[axis], plan.roi_end[axis]);
    if (!std::isfinite(source)) source = 0.0;
    map.outside.push_back(plan.crops && (source < 0.0 || source > static_cast<double>(in_len - 1)));
    if (map.outside.back()) map.identity = false;
    source = std::clamp(source, -1.0, static_cast<double>(in_len));  // keeps casts defined
    if (plan.cubic) {
      add_cubic_taps(plan, source, in_len, map);
      map.identity = false;
    } else if (plan.linear) {
      source = std::clamp(source, 0.0, static_cast<double>(in_len - 1));
      const auto low = static_cast<std::int64_t>(std::floor(source));
      map.first.push_back(low);
      map.second.push_back(std::min(low + 1, in_len - 1));
      map.weight.push_back(static_cast<float>(source - static_cast<double>(low)));
      if (low != x || map.weight.back() != 0.0f) map.identity = false;
    } else {
      const std::int64_t index =
          std::clamp<std::int64_t>(round_nearest(nearest, source, scale), 0, in_len - 1);
      map.first.push_back(index);
      if (index != x) map.identity = false;
    }
  }
  if (in_len != out_len) map.identity = false;
  return map;
}

// Upsample (opsets 7-9) and Resize-10 have neither coordinate_transformation_mode nor
// nearest_mode: their coordinates are asymmetric (x_out / scale).
bool is_legacy_resize(const PrepareContext& context) {
  return context.node.op_type == "Upsample" || context.opset < 11;
}

// Upsample-7 takes its scales as an attribute; every later form as an input.
std::optional<Tensor> attribute_scales(const PrepareContext& context) {
  if (context.node.op_type != "Upsample" || !context.node.has_attr("scales")) return std::nullopt;
  const std::vector<float> values = context.node.attr_floats("scales");
  return make_tensor<float>({static_cast<std::int64_t>(values.size())}, values);
}

ResizePlan resize_plan(const PrepareContext& context) {
  const graph::Node& node = context.node;
  // Upsample is deprecated from opset 10 on (ONNX Runtime has no kernel for it either).
  EP_CHECK(node.op_type != "Upsample" || context.opset < 10,
           "node {}: op Upsample version 10 (domain ai.onnx, opset {}) is not implemented: it is "
           "deprecated from opset 10 on; use Resize",
           node.label(), context.opset);
  const bool legacy = is_legacy_resize(context);
  const std::optional<Tensor> scales_attribute = attribute_scales(context);
  check_input_count(context, 1, node.op_type == "Upsample" ? (scales_attribute ? 1 : 2) : 4);
  std::string mode = node.attr_string("mode", "nearest");
  if (legacy && mode == "bilinear") mode = "linear";
  if (legacy && mode == "bicubic") mode = "cubic";
  EP_CHECK(mode == "nearest" || mode == "linear" || mode == "cubic",
           "node {}: mode '{}' is not supported", node.label(), mode);
  const std::string coordinates =
      legacy ? "asymmetric" : node.attr_string("coordinate_transformation_mode", "half_pixel");
  EP_CHECK(coordinates == "half_pixel" || coordinates == "pytorch_half_pixel" ||
               coordinates == "align_corners" || coordinates == "asymmetric" ||
               coordinates == "tf_half_pixel_for_nearest" ||
               coordinates == "half_pixel_symmetric" || coordinates == "tf_crop_and_resize",
           "node {}: coordinate_transformation_mode '{}' is not supported", node.label(),
           coordinates);
  const std::string nearest =
      legacy ? "legacy" : node.attr_string("nearest_mode", "round_prefer_floor");
  EP_CHECK(nearest == "round_prefer_floor" || nearest == "round_prefer_ceil" ||
               nearest == "floor" || nearest == "ceil" || nearest == "legacy",
           "node {}: nearest_mode '{}' is not supported", node.label(), nearest);
  EP_CHECK(node.attr_int("antialias", 0) == 0, "node {}: antialias is not supported", node.label());
  EP_CHECK(node.attr_string("keep_aspect_ratio_policy", "stretch") == "stretch",
           "node {}: keep_aspect_ratio_policy '{}' is not supported (only 'stretch')", node.label(),
           node.attr_string("keep_aspect_ratio_policy", "stretch"));
  ResizePlan plan;
  plan.linear = mode == "linear" || mode == "cubic";
  plan.cubic = mode == "cubic";
  plan.cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
  plan.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
  plan.coordinates = coordinates;
  plan.nearest = nearest;
  plan.input = context.inputs[0].shape;
  const std::size_t rank = plan.input.size();
  if (plan.linear) check_dtype(context, 0, {DType::f32}, "X");
  // Opset 18: scales, sizes and roi may cover only `axes`; the other axes keep their size.
  std::vector<std::int64_t> axes = node.attr_ints("axes");
  if (axes.empty()) {
    for (std::size_t i = 0; i < rank; ++i) axes.push_back(static_cast<std::int64_t>(i));
  }
  axes = normalize_axes(node, axes, static_cast<std::int64_t>(rank));
  plan.roi_start.assign(rank, 0.0);
  plan.roi_end.assign(rank, 1.0);
  plan.crops = coordinates == "tf_crop_and_resize";
  if (plan.crops) {
    check_dtype(context, 0, {DType::f32}, "X");
    const Tensor& roi = require_constant(context, 1, "roi");
    EP_CHECK(roi.dtype() == DType::f32 && roi.numel() == static_cast<std::int64_t>(2 * axes.size()),
             "node {}: 'roi' must be {} f32 values (starts, then ends)", node.label(),
             2 * axes.size());
    for (std::size_t k = 0; k < axes.size(); ++k) {
      plan.roi_start[static_cast<std::size_t>(axes[k])] = roi.data<float>()[k];
      plan.roi_end[static_cast<std::size_t>(axes[k])] = roi.data<float>()[axes.size() + k];
    }
    plan.extrapolation = node.attr_float("extrapolation_value", 0.0f);
  }
  // Opset 10 has (X, scales); opset 11+ has (X, roi, scales, sizes) with optional parts.
  const std::size_t scales_index = legacy ? 1 : 2;
  const bool has_scales =
      scales_attribute.has_value() ||
      (context.has_input(scales_index) && context.inputs[scales_index].numel() > 0);
  const bool has_sizes =
      context.inputs.size() > 3 && context.has_input(3) && context.inputs[3].numel() > 0;
  EP_CHECK(has_scales != has_sizes, "node {}: exactly one of 'scales' and 'sizes' must be given",
           node.label());
  std::vector<double> scales(rank, 1.0);
  plan.output = plan.input;
  if (has_scales) {
    const Tensor& value =
        scales_attribute ? *scales_attribute : require_constant(context, scales_index, "scales");
    EP_CHECK(value.dtype() == DType::f32 && value.numel() == static_cast<std::int64_t>(axes.size()),
             "node {}: 'scales' must be {} f32 values", node.label(), axes.size());
    for (std::size_t k = 0; k < axes.size(); ++k)
      scales[static_cast<std::size_t>(axes[k])] = value.data<float>()[k];
    for (std::size_t i = 0; i < rank; ++i) {
      EP_CHECK(scales[i] > 0.0 && std::isfinite(scales[i]),
               "node {}: scale {} on axis {} is not positive", node.label(), scales[i], i);
      const double size = std::floor(static_cast<double>(plan.input[i]) * scales[i]);
      EP_CHECK(size < static_cast<double>(kMaxTensorElements), "node {}: output too large",
               node.label());
      plan.output[i] = static_cast<std::int64_t>(size);
    }
  } else {
    const std::vector<std::int64_t> sizes = constant_ints(context, 3, "sizes");
    EP_CHECK(sizes.size() == axes.size(), "node {}: 'sizes' has {} values for {} axes",
             node.label(), sizes.size(), axes.size());
    for (std::size_t k = 0; k < axes.size(); ++k) {
      EP_CHECK(sizes[k] >= 0, "node {}: size {} is negative", node.label(), sizes[k]);
      plan.output[static_cast<std::size_t>(axes[k])] = sizes[k];
    }
    for (std::size_t i = 0; i < rank; ++i) {
      scales[i] = plan.input[i] > 0
                      ? static_cast<double>(sizes[i]) / static_cast<double>(plan.input[i])
                      : 1.0;
    }
  }
  for (std::size_t i = 0; i < rank; ++i) {
    EP_CHECK(plan.input[i] > 0 || plan.output[i] == 0,
             "node {}: cannot resize an empty axis {} to {}", node.label(), i, plan.output[i]);
  }
  for (std::size_t i = 0; i < rank; ++i) plan.axes.push_back(map_axis(plan, node, i, scales[i]));
  return plan;
}

template <typename T>
void run_nearest(const ResizePlan& plan, const T* in, T* out) {
  const std::size_t rank = plan.output.size();
  const std::int64_t total = element_count(plan.output);
  if (total == 0) return;
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const std::vector<std::int64_t> strides = contiguous_strides(plan.input);
  const std::vector<std::int64_t>& last = plan.axes[rank - 1].first;
  const std::int64_t inner = plan.output[rank - 1];
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t row = 0; row < total / inner; ++row) {
    std::int64_t offset = 0;
    for (std::size_t d = 0; d + 1 < rank; ++d) {
      offset += plan.axes[d].first[static_cast<std::size_t>(index[d])] * strides[d];
    }
    for (std::int64_t i = 0; i < inner; ++i)
      out[i] = in[offset + last[static_cast<std::size_t>(i)]];
    out += inner;
    for (std::size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < plan.output[d]) break;
      index[d] = 0;
    }
  }
}

// One linear pass along `axis`: from shape `from` to the same with axis resized.
void linear_pass(const AxisMap& map, const Shape& from, std::size_t axis, const float* in,
                 float* out) {
  const std::int64_t outer = product(from, 0, axis);
  const std::int64_t inner = product(from, axis + 1, from.size());
  const std::int64_t in_len = from[axis];
  const auto out_len = static_cast<std::int64_t>(map.first.size());
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t j = 0; j < out_len; ++j) {
      const auto k = static_cast<std::size_t>(j);
      const float* low = in + (o * in_len + map.first[k]) * inner;
      const float* high = in + (o * in_len + map.second[k]) * inner;
      const float w = map.weight[k];
      float* target = out + (o * out_len + j) * inner;
      for (std::int64_t i = 0; i < inner; ++i) target[i] = low[i] + w * (high[i] - low[i]);
    }
  }
}

void cubic_pass(const AxisMap& map, const Shape& from, std::size_t axis, const float* in,
                float* out) {
  const std::int64_t outer = product(from, 0, axis);
  const std::int64_t inner = product(from, axis + 1, from.size());
  const std::int64_t in_len = from[axis];
  const auto out_len = static_cast<std::int64_t>(map.cubic_index.size());
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t j = 0; j < out_len; ++j) {
      const auto& index = map.cubic_index[static_cast<std::size_t>(j)];
      const auto& weight = map.cubic_weight[static_cast<std::size_t>(j)];
      float* target = out + (o * out_len + j) * inner;
      for (std::int64_t i = 0; i < inner; ++i) {
        float sum = 0.0f;
        for (int k = 0; k < 4; ++k) sum += weight[k] * in[(o * in_len + index[k]) * inner + i];
        target[i] = sum;
      }
    }
  }
}

// tf_crop_and_resize: every output element sampling outside the input along some axis
// takes the extrapolation value (whatever the interpolation computed there).
void extrapolate(const ResizePlan& plan, float* out) {
  const std::size_t rank = plan.output.size();
  bool any = false;
  for (const AxisMap& map : plan.axes) {
    for (bool outside : map.outside) any = any || outside;
  }
  const std::int64_t total = element_count(plan.output);
  if (!any || total == 0) return;
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t flat = 0; flat < total; ++flat) {
    for (std::size_t d = 0; d < rank; ++d) {
      if (plan.axes[d].outside[static_cast<std::size_t>(index[d])]) {
        out[flat] = plan.extrapolation;
        break;
      }
    }
    for (std::size_t d = rank; d-- > 0;) {
      if (++index[d] < plan.output[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

void infer_resize(PrepareContext& context) {
  const ResizePlan plan = resize_plan(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, plan.output);
}

std::unique_ptr<Kernel> create_resize(const PrepareContext& context) {
  const ResizePlan plan = resize_plan(context);
  const std::size_t element = dtype_size(context.inputs[0].dtype);
  if (!plan.linear) {
    return make_kernel([plan, element](std::span<const Tensor> in, std::span<Tensor> out) {
      if (plan.crops) {  // f32 only
        run_nearest(plan, in[0].data<float>(), out[0].data<float>());
        extrapolate(plan, out[0].data<float>());
        return;
      }
      switch (element) {
        case 1:
          run_nearest(plan, static_cast<const std::uint8_t*>(in[0].raw()),
                      static_cast<std::uint8_t*>(out[0].raw()));
          break;
        case 2:
          run_nearest(plan, static_cast<const std::uint16_t*>(in[0].raw()),
                      static_cast<std::uint16_t*>(out[0].raw()));
          break;
        case 4:
          run_nearest(plan, static_cast<const std::uint32_t*>(in[0].raw()),
                      static_cast<std::uint32_t*>(out[0].raw()));
          break;
        default:
          run_nearest(plan, static_cast<const std::uint64_t*>(in[0].raw()),
                      static_cast<std::uint64_t*>(out[0].raw()));
          break;
      }
    });
  }
  // Axes needing a pass, and the workspace for the intermediate results.
  std::vector<std::size_t> passes;
  std::int64_t largest = 0;
  Shape shape = plan.input;
  for (std::size_t axis = 0; axis < plan.axes.size(); ++axis) {
    if (plan.axes[axis].identity) continue;
    passes.push_back(axis);
    shape[axis] = plan.output[axis];
    largest = std::max(largest, element_count(shape));
  }
  auto buffers = std::make_shared<std::array<std::vector<float>, 2>>();
  (*buffers)[0].resize(static_cast<std::size_t>(largest));
  (*buffers)[1].resize(static_cast<std::size_t>(largest));
  return make_kernel(
      [plan, passes, buffers](std::span<const Tensor> in, std::span<Tensor> out) {
        const float* source = in[0].data<float>();
        float* result = out[0].data<float>();
        if (passes.empty()) {
          if (out[0].nbytes() > 0) std::memcpy(result, source, out[0].nbytes());
          return;
        }
        Shape shape = plan.input;
        for (std::size_t p = 0; p < passes.size(); ++p) {
          const std::size_t axis = passes[p];
          float* target = p + 1 == passes.size() ? result : (*buffers)[p % 2].data();
          if (plan.cubic) {
            cubic_pass(plan.axes[axis], shape, axis, source, target);
          } else {
            linear_pass(plan.axes[axis], shape, axis, source, target);
          }
          shape[axis] = plan.output[axis];
          source = target;
        }
        extrapolate(plan, result);
      },
      2 * static_cast<std::size_t>(largest) * sizeof(float));
}

}  // namespace edgeperf::runtime::reference
