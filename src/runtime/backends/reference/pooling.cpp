// MaxPool, AveragePool (1-D to 3-D; pads, auto_pad, ceil_mode, dilations, count_include_pad)
// and GlobalAveragePool, GlobalMaxPool.
#include <cmath>
#include <limits>

#include "ops.h"
#include "spatial.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct PoolGeometry {
  bool max = true;
  bool count_include_pad = false;
  std::int64_t planes = 0;  // N * C
  Dims3 input{}, kernel{}, output{}, strides{}, dilations{}, pads_begin{}, pads_end{};
  Shape output_shape;
};

PoolGeometry pool_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 1, 1);
  check_dtype(context, 0, {DType::f32}, "X");
  EP_CHECK(node.outputs.size() == 1, "node {}: the optional Indices output is not supported",
           node.label());
  const Shape& x = context.inputs[0].shape;
  EP_CHECK(x.size() >= 3 && x.size() <= 5, "node {}: input X {} must have rank 3 to 5",
           node.label(), shape_to_string(x));
  EP_CHECK(node.has_attr("kernel_shape"), "node {}: missing attribute 'kernel_shape'",
           node.label());
  const std::vector<std::int64_t> input(x.begin() + 2, x.end());
  const Window window = resolve_window(node, input, node.attr_ints("kernel_shape"),
                                       node.attr_int("ceil_mode", 0) != 0);
  PoolGeometry g;
  g.max = node.op_type == "MaxPool";
  g.count_include_pad = node.attr_int("count_include_pad", 0) != 0;
  g.planes = x[0] * x[1];
  g.input = to_dims3(input, 1);
  g.kernel = to_dims3(window.kernel, 1);
  g.output = to_dims3(window.output, 1);
  g.strides = to_dims3(window.strides, 1);
  g.dilations = to_dims3(window.dilations, 1);
  g.pads_begin = to_dims3(window.pads_begin, 0);
  g.pads_end = to_dims3(window.pads_end, 0);
  g.output_shape = {x[0], x[1]};
  g.output_shape.insert(g.output_shape.end(), window.output.begin(), window.output.end());
  return g;
}

// Window taps of output position `o` on one axis: positions start + k * dilation.
struct Taps {
  std::int64_t start = 0;
  std::int64_t valid = 0;   // taps inside the input
  std::int64_t padded = 0;  // taps inside input + padding
};

Taps taps(const PoolGeometry& g, int axis, std::int64_t o) {
  Taps t;
  t.start = o * g.strides[axis] - g.pads_begin[axis];
  for (std::int64_t k = 0; k < g.kernel[axis]; ++k) {
    const std::int64_t position = t.start + k * g.dilations[axis];
    if (position >= 0 && position < g.input[axis]) ++t.valid;
    if (position >= -g.pads_begin[axis] && position < g.input[axis] + g.pads_end[axis]) ++t.padded;
  }
  return t;
}

float pool_window(const PoolGeometry& g, const float* plane, const Taps (&t)[3]) {
  float max = -std::numeric_limits<float>::infinity();
  float sum = 0.0f;
  for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
    const std::int64_t d = t[0].start + kd * g.dilations[0];
    if (d < 0 || d >= g.input[0]) continue;
    for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
      const std::int64_t h = t[1].start + kh * g.dilations[1];
      if (h < 0 || h >= g.input[1]) continue;
      for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw) {
        const std::int64_t w = t[2].start + kw * g.dilations[2];
        if (w < 0 || w >= g.input[2]) continue;
        const float value = plane[(d * g.input[1] + h) * g.input[2] + w];
        if (value > max || std::isnan(value)) max = std::isnan(max) ? max : value;
        sum += value;
      }
    }
  }
  if (g.max) return max;
  const std::int64_t count = g.count_include_pad ? t[0].padded * t[1].padded * t[2].padded
                                                 : t[0].valid * t[1].valid * t[2].valid;
  return count > 0 ? sum / static_cast<float>(count) : 0.0f;
}

void run_pool(const PoolGeometry& g, int threads, const float* x, float* y) {
  const std::int64_t in_plane = g.input[0] * g.input[1] * g.input[2];
  const std::int64_t out_plane = g.output[0] * g.output[1] * g.output[2];
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t p = 0; p < g.planes; ++p) {
    const float* plane = x + p * in_plane;
    float* out = y + p * out_plane;
    for (std::int64_t od = 0; od < g.output[0]; ++od) {
      for (std::int64_t oh = 0; oh < g.output[1]; ++oh) {
        for (std::int64_t ow = 0; ow < g.output[2]; ++ow) {
          const Taps t[3] = {taps(g, 0, od), taps(g, 1, oh), taps(g, 2, ow)};
          out[(od * g.output[1] + oh) * g.output[2] + ow] = pool_window(g, plane, t);
        }
      }
    }
  }
}

}  // namespace

void infer_pool(PrepareContext& context) {
  const PoolGeometry g = pool_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::f32, g.output_shape);
}

std::unique_ptr<Kernel> create_pool(const PrepareContext& context) {
  const PoolGeometry g = pool_geometry(context);
  return make_parallel_kernel([g](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
    run_pool(g, threads, in[0].data<float>(), out[0].data<float>());
  });
}

void infer_global_pool(PrepareContext& context) {
  check_input_count(context, 1, 1);
  check_dtype(context, 0, {DType::f32}, "X");
  const Shape& x = context.inputs[0].shape;
  EP_CHECK(x.size() >= 3, "node {}: input X {} must have rank >= 3", context.node.label(),
           shape_to_string(x));
  prepare_outputs(context, 1, 1);
  Shape out(x.size(), 1);
  out[0] = x[0];
  out[1] = x[1];
  set_output(context, 0, DType::f32, out);
}

std::unique_ptr<Kernel> create_global_pool(const PrepareContext& context) {
  const Shape x = context.inputs[0].shape;
  const bool max = context.node.op_type == "GlobalMaxPool";
  const std::int64_t planes = x[0] * x[1];
  const std::int64_t size = product(x, 2, x.size());
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    const float* data = in[0].data<float>();
    float* y = out[0].data<float>();
    for (std::int64_t p = 0; p < planes; ++p) {
      const float* plane = data + p * size;
      float max_value = -std::numeric_limits<float>::infinity();
      double sum = 0.0;
      for (std::int64_t i = 0; i < size; ++i) {
        if (plane[i] > max_value || std::isnan(plane[i])) {
          max_value = std::isnan(max_value) ? max_value : plane[i];
        }
        sum += plane[i];
      }
      y[p] = max ? max_value : static_cast<float>(sum / static_cast<double>(size));
    }
  });
}

}  // namespace edgeperf::runtime::reference
