// ConvTranspose (1-D to 3-D; groups, strides, pads, output_padding, dilations, output_shape).
#include <algorithm>

#include "edgeperf/graph/ops/conv.h"
#include "ops.h"
#include "spatial.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct TransposeGeometry {
  std::int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  Dims3 input{}, kernel{}, output{}, strides{}, dilations{}, pads{};
  std::vector<std::int64_t> output_spatial;
};

std::vector<std::int64_t> attr_or(const graph::Node& node, const char* key, std::size_t rank,
                                  std::int64_t fallback) {
  std::vector<std::int64_t> values = node.attr_ints(key, std::vector<std::int64_t>(rank, fallback));
  EP_CHECK(values.size() == rank, "node {}: attribute '{}' has {} values, expected {}",
           node.label(), key, values.size(), rank);
  return values;
}

TransposeGeometry transpose_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 2, 3);
  check_dtype(context, 0, {DType::f32}, "X");
  check_dtype(context, 1, {DType::f32}, "W");
  const Shape& x = context.inputs[0].shape;
  const Shape& w = context.inputs[1].shape;
  EP_CHECK(x.size() >= 3 && x.size() <= 5 && w.size() == x.size(),
           "node {}: X {} and W {} must have the same rank, 3 to 5", node.label(),
           shape_to_string(x), shape_to_string(w));
  TransposeGeometry g;
  g.batch = x[0];
  g.in_channels = x[1];
  g.group = node.attr_int("group", 1);
  EP_CHECK(g.group >= 1 && g.in_channels % g.group == 0 && w[0] == g.in_channels,
           "node {}: W {} does not match {} input channels with group {}", node.label(),
           shape_to_string(w), g.in_channels, g.group);
  g.out_channels = w[1] * g.group;
  const std::size_t rank = x.size() - 2;
  const std::vector<std::int64_t> input(x.begin() + 2, x.end());
  const std::vector<std::int64_t> kernel(w.begin() + 2, w.end());
  const graph::ops::ConvAttrs attrs = graph::ops::ConvAttrs::read(node, rank);
  const std::vector<std::int64_t>& strides = attrs.strides;
  const std::vector<std::int64_t>& dilations = attrs.dilations;
  const std::vector<std::int64_t>& pads = attrs.pads;
  const auto output_padding = attr_or(node, "output_padding", rank, 0);
  for (std::size_t i = 0; i < rank; ++i) {
    const auto in_range = [](std::int64_t v) { return v >= -kMaxParameter && v <= kMaxParameter; };
    const bool bounded = strides[i] <= kMaxParameter && dilations[i] <= kMaxParameter &&
                         output_padding[i] <= kMaxParameter && in_range(pads[i]) &&
                         in_range(pads[i + rank]);
    EP_CHECK(
        bounded && strides[i] >= 1 && dilations[i] >= 1 && kernel[i] >= 1 && output_padding[i] >= 0,
        "node {}: invalid strides, dilations, kernel or output_padding", node.label());
  }
  if (context.has_input(2)) {
    EP_CHECK(context.inputs[2].shape == Shape{g.out_channels},
             "node {}: bias B {} must have shape [{}]", node.label(),
             shape_to_string(context.inputs[2].shape), g.out_channels);
  }
  std::vector<std::int64_t> output_shape = node.attr_ints("output_shape");
  if (output_shape.size() == rank + 2)
    output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  for (std::int64_t size : output_shape) {
    EP_CHECK(size >= 1 && size <= kMaxParameter, "node {}: output_shape value {} is invalid",
             node.label(), size);
  }
  EP_CHECK(output_shape.empty() || output_shape.size() == rank,
           "node {}: output_shape has {} values for {} spatial dims", node.label(),
           output_shape.size(), rank);
  std::vector<std::int64_t> pads_begin(rank), output(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Each operand is below 2^32, so the products are computed in double to catch overflow.
    const double full_estimate = static_cast<double>(strides[i]) * static_cast<double>(input[i]) +
                                 static_cast<double>(output_padding[i]) +
                                 static_cast<double>(kernel[i]) * static_cast<double>(dilations[i]);
    EP_CHECK(full_estimate < static_cast<double>(kMaxParameter),
             "node {}: output spatial size is too large", node.label());
    const std::int64_t full =
        strides[i] * (input[i] - 1) + output_padding[i] + (kernel[i] - 1) * dilations[i] + 1;
    const bool same = attrs.same_padding();
    if (!output_shape.empty() || same) {
      output[i] = output_shape.empty() ? input[i] * strides[i] : output_shape[i];
      const std::int64_t total = full - output[i];
      pads_begin[i] =
          attrs.auto_pad == graph::ops::AutoPad::same_upper ? total / 2 : total - total / 2;
    } else {
      const bool valid = attrs.auto_pad == graph::ops::AutoPad::valid;
      pads_begin[i] = valid ? 0 : pads[i];
      output[i] = full - (valid ? 0 : pads[i] + pads[i + rank]);
    }
    EP_CHECK(output[i] >= 1, "node {}: output spatial size {} is not positive", node.label(),
             output[i]);
  }
  g.output_spatial = output;
  g.input = to_dims3(input, 1);
  g.kernel = to_dims3(kernel, 1);
  g.output = to_dims3(output, 1);
  g.strides = to_dims3(strides, 1);
  g.dilations = to_dims3(dilations, 1);
  g.pads = to_dims3(pads_begin, 0);
  return g;
}

// Range [lo, hi) of input positions i with i*stride + shift inside [0, out_size).
void input_range(std::int64_t out_size, std::int64_t in_size, std::int64_t stride,
                 std::int64_t shift, std::int64_t* lo, std::int64_t* hi) {
  const std::int64_t first = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
  const std::int64_t last = out_size - 1 - shift < 0 ? -1 : (out_size - 1 - shift) / stride;
  *lo = std::min(first, in_size);
  *hi = std::max(*lo, std::min(last + 1, in_size));
}

void scatter_plane(const TransposeGeometry& g, const float* x, const float* w, float* out) {
  const auto [D, H, W] = g.input;
  const auto [OD, OH, OW] = g.output;
  for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
    for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
      for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw) {
        const float weight = w[(kd * g.kernel[1] + kh) * g.kernel[2] + kw];
        const std::int64_t shift_d = kd * g.dilations[0] - g.pads[0];
        const std::int64_t shift_h = kh * g.dilations[1] - g.pads[1];
        const std::int64_t shift_w = kw * g.dilations[2] - g.pads[2];
        std::int64_t d_lo, d_hi, h_lo, h_hi, w_lo, w_hi;
        input_range(OD, D, g.strides[0], shift_d, &d_lo, &d_hi);
        input_range(OH, H, g.strides[1], shift_h, &h_lo, &h_hi);
        input_range(OW, W, g.strides[2], shift_w, &w_lo, &w_hi);
        for (std::int64_t id = d_lo; id < d_hi; ++id) {
          const std::int64_t od = id * g.strides[0] + shift_d;
          for (std::int64_t ih = h_lo; ih < h_hi; ++ih) {
            const std::int64_t oh = ih * g.strides[1] + shift_h;
            const float* in_row = x + (id * H + ih) * W;
            float* out_row = out + (od * OH + oh) * OW;
            for (std::int64_t iw = w_lo; iw < w_hi; ++iw) {
              out_row[iw * g.strides[2] + shift_w] += weight * in_row[iw];
            }
          }
        }
      }
    }
  }
}

void run_conv_transpose(const TransposeGeometry& g, int threads, const float* x, const float* w,
                        const float* bias, float* y) {
  const std::int64_t in_plane = g.input[0] * g.input[1] * g.input[2];
  const std::int64_t out_plane = g.output[0] * g.output[1] * g.output[2];
  const std::int64_t kernel_size = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const std::int64_t group_in = g.in_channels / g.group;
  const std::int64_t group_out = g.out_channels / g.group;
  const std::int64_t jobs = g.batch * g.out_channels;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t job = 0; job < jobs; ++job) {
    const std::int64_t n = job / g.out_channels;
    const std::int64_t m = job % g.out_channels;
    const std::int64_t group = m / group_out;
    const std::int64_t m_in_group = m % group_out;
    float* out = y + job * out_plane;
    std::fill(out, out + out_plane, bias != nullptr ? bias[m] : 0.0f);
    for (std::int64_t c = group * group_in; c < (group + 1) * group_in; ++c) {
      const float* in = x + (n * g.in_channels + c) * in_plane;
      scatter_plane(g, in, w + (c * group_out + m_in_group) * kernel_size, out);
    }
  }
}

}  // namespace

void infer_conv_transpose(PrepareContext& context) {
  const TransposeGeometry g = transpose_geometry(context);
  prepare_outputs(context, 1, 1);
  Shape out{g.batch, g.out_channels};
  out.insert(out.end(), g.output_spatial.begin(), g.output_spatial.end());
  set_output(context, 0, DType::f32, out);
}

std::unique_ptr<Kernel> create_conv_transpose(const PrepareContext& context) {
  const TransposeGeometry g = transpose_geometry(context);
  const bool has_bias = context.has_input(2);
  return make_parallel_kernel(
      [g, has_bias](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
        run_conv_transpose(g, threads, in[0].data<float>(), in[1].data<float>(),
                           has_bias ? in[2].data<float>() : nullptr, out[0].data<float>());
      });
}

}  // namespace edgeperf::runtime::reference
