// QLinearConv and ConvInteger (opset 10): integer convolution of uint8/int8 data with
// groups, pads, strides, dilations and per-output-channel weight zero points and scales.
// Padding holds the input zero point, i.e. contributes nothing to the sum.
#include <algorithm>

#include "conv_geometry.h"
#include "ops.h"
#include "quant_util.h"
#include "spatial.h"

namespace edgeperf::runtime::reference {
namespace {

// out[i] += weight * (in[i] - x_zero). The restrict pointers let the loop vectorize (an
// int8/uint8 input could otherwise alias the accumulator).
template <typename TX>
inline void accumulate_row(std::uint32_t* __restrict out, const TX* __restrict in,
                           std::int64_t count, std::int32_t weight, std::int32_t x_zero) {
  for (std::int64_t i = 0; i < count; ++i) {
    out[i] += static_cast<std::uint32_t>(weight * (static_cast<std::int32_t>(in[i]) - x_zero));
  }
}

// Adds weight * (x - x_zero) of one kernel tap at every output position it reaches.
template <typename TX>
void accumulate_tap(const ConvGeometry& g, const Tap& tap, const TX* plane, std::int32_t weight,
                    std::int32_t x_zero, std::uint32_t* out) {
  const std::int64_t H = g.input[1], W = g.input[2];
  const std::int64_t OH = g.output[1], OW = g.output[2];
  // Stride 1 over full rows of equal width (1x1 convolutions): the rows of the input and of
  // the output follow each other, so the whole block is one run.
  const bool rows_contiguous = g.strides[1] == 1 && g.strides[2] == 1 && W == OW &&
                               tap.shift[2] == 0 && tap.lo[2] == 0 && tap.hi[2] == OW;
  for (std::int64_t od = tap.lo[0]; od < tap.hi[0]; ++od) {
    const std::int64_t id = od * g.strides[0] + tap.shift[0];
    if (rows_contiguous) {
      accumulate_row(out + (od * OH + tap.lo[1]) * OW,
                     plane + (id * H + tap.lo[1] + tap.shift[1]) * W, (tap.hi[1] - tap.lo[1]) * OW,
                     weight, x_zero);
      continue;
    }
    for (std::int64_t oh = tap.lo[1]; oh < tap.hi[1]; ++oh) {
      const std::int64_t ih = oh * g.strides[1] + tap.shift[1];
      const TX* in_row = plane + (id * H + ih) * W;
      std::uint32_t* out_row = out + (od * OH + oh) * OW;
      if (g.strides[2] == 1) {
        accumulate_row(out_row + tap.lo[2], in_row + tap.lo[2] + tap.shift[2],
                       tap.hi[2] - tap.lo[2], weight, x_zero);
        continue;
      }
      for (std::int64_t ow = tap.lo[2]; ow < tap.hi[2]; ++ow) {
        const std::int32_t value =
            static_cast<std::int32_t>(in_row[ow * g.strides[2] + tap.shift[2]]) - x_zero;
        accumulate(out_row[ow], weight * value);
      }
    }
  }
}

// acc[n][m][pixel] = sum over (c, tap) of (w - w_zero_point[m]) * (x - x_zero_point), in
// wrapping 32-bit arithmetic.
template <typename TX, typename TW>
void accumulate_conv(const ConvGeometry& g, const std::vector<Tap>& taps, int threads, const TX* x,
                     const Tensor& x_zero_point, const TW* w, const Tensor& w_zero_point,
                     std::int32_t* acc) {
  const std::int64_t group_in = g.in_channels / g.group;
  const std::int64_t group_out = g.out_channels / g.group;
  const std::int64_t out_plane = g.out_plane();
  const std::int64_t jobs = g.batch * g.out_channels;
  const std::int32_t x_zero = zero_point_at(x_zero_point, 0);
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (std::int64_t job = 0; job < jobs; ++job) {
    const std::int64_t n = job / g.out_channels;
    const std::int64_t m = job % g.out_channels;
    const std::int64_t group = m / group_out;
    const std::int32_t w_zero = zero_point_at(w_zero_point, m);
    auto* out = reinterpret_cast<std::uint32_t*>(acc + job * out_plane);
    std::fill(out, out + out_plane, 0u);
    for (std::int64_t c = 0; c < group_in; ++c) {
      const TX* plane = x + (n * g.in_channels + group * group_in + c) * g.in_plane();
      const TW* kernel = w + (m * group_in + c) * g.kernel_size();
      for (const Tap& tap : taps) {
        const std::int32_t weight = static_cast<std::int32_t>(kernel[tap.index]) - w_zero;
        if (weight != 0) accumulate_tap(g, tap, plane, weight, x_zero, out);
      }
    }
  }
}

// Calls f(TX{}, TW{}) for the dtypes of x and w (each uint8 or int8).
template <typename F>
void dispatch_conv_types(const graph::Node& node, DType x, DType w, F&& f) {
  dispatch_quantized(node, x, "x", [&](auto x_type) {
    dispatch_quantized(node, w, "w", [&](auto w_type) { f(x_type, w_type); });
  });
}

template <typename TX, typename TW>
void run_accumulate(const ConvGeometry& g, const std::vector<Tap>& taps, int threads,
                    const Tensor& x, const Tensor& x_zero_point, const Tensor& w,
                    const Tensor& w_zero_point, std::int32_t* acc) {
  accumulate_conv(g, taps, threads, x.data<TX>(), x_zero_point, w.data<TW>(), w_zero_point, acc);
}

// ---- QLinearConv: inputs x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
// y_zero_point, B (int32, optional) ----

enum QLinearConvInput : std::size_t {
  kX,
  kXScale,
  kXZero,
  kW,
  kWScale,
  kWZero,
  kYScale,
  kYZero,
  kB
};

ConvGeometry qlinear_conv_geometry(const PrepareContext& context) {
  check_input_count(context, 8, 9);
  check_dtype(context, kX, {DType::u8, DType::i8}, "x");
  check_dtype(context, kW, {DType::u8, DType::i8}, "w");
  const ConvGeometry g = resolve_conv_geometry(context, kX, kW, "'x'", "'w'");
  check_scale_input(context, kXScale, "x_scale", false);
  check_scale_input(context, kWScale, "w_scale", false);
  check_scale_input(context, kYScale, "y_scale", true);
  check_param_shape(context, kXScale, "x_scale", 0);
  check_param_shape(context, kWScale, "w_scale", g.out_channels);
  check_param_shape(context, kYScale, "y_scale", 0);
  check_zero_point_dtype(context, kXZero, "x_zero_point", context.inputs[kX].dtype, "x");
  check_zero_point_dtype(context, kWZero, "w_zero_point", context.inputs[kW].dtype, "w");
  check_dtype(context, kYZero, {DType::u8, DType::i8}, "y_zero_point");
  check_param_shape(context, kXZero, "x_zero_point", 0);
  check_param_shape(context, kWZero, "w_zero_point", g.out_channels);
  check_param_shape(context, kYZero, "y_zero_point", 0);
  if (context.has_input(kB)) {
    check_dtype(context, kB, {DType::i32}, "B");
    EP_CHECK(context.inputs[kB].shape == Shape{g.out_channels},
             "node {}: bias 'B' {} must have shape [{}]", context.node.label(),
             shape_to_string(context.inputs[kB].shape), g.out_channels);
  }
  return g;
}

template <typename TY>
void requantize_conv(const ConvGeometry& g, std::span<const Tensor> in, const std::int32_t* acc,
                     TY* y) {
  const QuantRange range = quant_range(dtype_of<TY>());
  const float x_scale = scale_at(in[kXScale], 0);
  const float y_scale = scale_at(in[kYScale], 0);
  const std::int32_t y_zero = zero_point_at(in[kYZero], 0);
  const bool has_bias = in.size() > kB && in[kB].numel() > 0;
  const std::int64_t out_plane = g.out_plane();
  for (std::int64_t job = 0; job < g.batch * g.out_channels; ++job) {
    const std::int64_t m = job % g.out_channels;
    const float multiplier = x_scale * scale_at(in[kWScale], m) / y_scale;
    const std::uint32_t bias =
        has_bias ? static_cast<std::uint32_t>(in[kB].data<std::int32_t>()[m]) : 0u;
    const std::int64_t base = job * out_plane;
    for (std::int64_t p = base; p < base + out_plane; ++p) {
      const auto sum = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc[p]) + bias);
      y[p] = static_cast<TY>(requantize(sum, multiplier, y_zero, range));
    }
  }
}

// ---- ConvInteger: inputs x, w, x_zero_point (optional), w_zero_point (optional) ----

ConvGeometry conv_integer_geometry(const PrepareContext& context) {
  check_input_count(context, 2, 4);
  check_dtype(context, 0, {DType::u8, DType::i8}, "x");
  check_dtype(context, 1, {DType::u8, DType::i8}, "w");
  const ConvGeometry g = resolve_conv_geometry(context, 0, 1, "'x'", "'w'");
  check_zero_point_dtype(context, 2, "x_zero_point", context.inputs[0].dtype, "x");
  check_zero_point_dtype(context, 3, "w_zero_point", context.inputs[1].dtype, "w");
  if (context.has_input(2)) check_param_shape(context, 2, "x_zero_point", 0);
  if (context.has_input(3)) check_param_shape(context, 3, "w_zero_point", g.out_channels);
  return g;
}

Tensor input_or_empty(std::span<const Tensor> inputs, std::size_t index) {
  return index < inputs.size() ? inputs[index] : Tensor();
}

}  // namespace

void infer_qlinear_conv(PrepareContext& context) {
  const ConvGeometry g = qlinear_conv_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[kYZero].dtype, g.output_shape);
}

std::unique_ptr<Kernel> create_qlinear_conv(const PrepareContext& context) {
  const ConvGeometry g = qlinear_conv_geometry(context);
  const std::vector<Tap> taps = kernel_taps(g);
  const DType x_type = context.inputs[kX].dtype;
  const DType w_type = context.inputs[kW].dtype;
  const DType y_type = context.inputs[kYZero].dtype;
  const graph::Node node = context.node;
  const auto acc = std::make_shared<std::vector<std::int32_t>>(
      static_cast<std::size_t>(element_count(g.output_shape)));
  return make_workspace_kernel(
      [=](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
        check_scale_values(node, "x_scale", in[kXScale].values<float>(), false);
        check_scale_values(node, "w_scale", in[kWScale].values<float>(), false);
        check_scale_values(node, "y_scale", in[kYScale].values<float>(), true);
        dispatch_conv_types(node, x_type, w_type, [&](auto tx, auto tw) {
          run_accumulate<decltype(tx), decltype(tw)>(g, taps, threads, in[kX], in[kXZero], in[kW],
                                                     in[kWZero], acc->data());
        });
        dispatch_quantized(node, y_type, "y_zero_point", [&](auto ty) {
          using TY = decltype(ty);
          requantize_conv(g, in, acc->data(), out[0].data<TY>());
        });
      },
      acc->size() * sizeof(std::int32_t));
}

void infer_conv_integer(PrepareContext& context) {
  const ConvGeometry g = conv_integer_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::i32, g.output_shape);
}

std::unique_ptr<Kernel> create_conv_integer(const PrepareContext& context) {
  const ConvGeometry g = conv_integer_geometry(context);
  const std::vector<Tap> taps = kernel_taps(g);
  const DType x_type = context.inputs[0].dtype;
  const DType w_type = context.inputs[1].dtype;
  const graph::Node node = context.node;
  return make_parallel_kernel([=](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
    dispatch_conv_types(node, x_type, w_type, [&](auto tx, auto tw) {
      run_accumulate<decltype(tx), decltype(tw)>(g, taps, threads, in[0], input_or_empty(in, 2),
                                                 in[1], input_or_empty(in, 3),
                                                 out[0].data<std::int32_t>());
    });
  });
}

}  // namespace edgeperf::runtime::reference
