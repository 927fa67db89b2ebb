// Affine quantization parameters and the quantize/dequantize arithmetic of ONNX
// QuantizeLinear / DequantizeLinear (round half to even, saturate).
#include "edgeperf/quant/qparams.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "edgeperf/core/error.h"

namespace edgeperf::quant {
namespace {

// Scales below this would make input_scale * weight_scale (the bias scale) subnormal.
constexpr float kMinScale = 1e-18F;

struct IntRange {
  std::int32_t low;
  std::int32_t high;
};

IntRange int_range(DType dtype) {
  if (dtype == DType::u8) return {0, 255};
  if (dtype == DType::i8) return {-128, 127};
  fail("quantized dtype must be i8 or u8, got {}", dtype_name(dtype));
}

// Splits a tensor into [outer, channels, inner] around `axis` (-1: one channel).
struct ChannelLayout {
  std::int64_t outer = 1;
  std::int64_t channels = 1;
  std::int64_t inner = 1;
};

ChannelLayout channel_layout(const Shape& shape, std::int64_t axis, const char* what) {
  ChannelLayout layout;
  if (axis < 0) {
    layout.inner = element_count(shape, what);
    return layout;
  }
  EP_CHECK(axis < static_cast<std::int64_t>(shape.size()),
           "{}: axis {} is out of range for shape {}", what, axis, shape_to_string(shape));
  for (std::int64_t d = 0; d < axis; ++d) layout.outer *= shape[static_cast<std::size_t>(d)];
  layout.channels = shape[static_cast<std::size_t>(axis)];
  for (std::size_t d = static_cast<std::size_t>(axis) + 1; d < shape.size(); ++d) {
    layout.inner *= shape[d];
  }
  return layout;
}

void check_params(const QuantParams& params, const Shape& shape, const char* what) {
  int_range(params.dtype);
  EP_CHECK(!params.scale.empty() && params.scale.size() == params.zero_point.size(),
           "{}: {} scales and {} zero points", what, params.scale.size(), params.zero_point.size());
  const ChannelLayout layout = channel_layout(shape, params.axis, what);
  EP_CHECK(static_cast<std::int64_t>(params.scale.size()) == layout.channels,
           "{}: {} scales for {} channels (axis {}, shape {})", what, params.scale.size(),
           layout.channels, params.axis, shape_to_string(shape));
  for (const float scale : params.scale) {
    EP_CHECK(std::isfinite(scale) && scale > 0.0F, "{}: scale {} is not positive and finite", what,
             scale);
  }
}

// Calls f(channel, flat_index) for every element.
template <typename F>
void for_each_element(const ChannelLayout& layout, F f) {
  for (std::int64_t o = 0; o < layout.outer; ++o) {
    for (std::int64_t c = 0; c < layout.channels; ++c) {
      const std::int64_t base = (o * layout.channels + c) * layout.inner;
      for (std::int64_t i = 0; i < layout.inner; ++i) f(c, base + i);
    }
  }
}

template <typename Q>
void quantize_into(std::span<const float> x, const QuantParams& params, const ChannelLayout& layout,
                   Q* out) {
  const IntRange range = int_range(params.dtype);
  for_each_element(layout, [&](std::int64_t c, std::int64_t i) {
    const float value = x[static_cast<std::size_t>(i)];
    EP_CHECK(!std::isnan(value), "quantize_tensor: NaN at element {}", i);
    // x / S in float as QuantizeLinear does; nearbyint rounds half to even.
    const double q = std::nearbyint(value / params.scale[static_cast<std::size_t>(c)]) +
                     params.zero_point[static_cast<std::size_t>(c)];
    out[i] = static_cast<Q>(std::clamp<double>(q, range.low, range.high));
  });
}

template <typename Q>
void dequantize_into(const Q* q, const QuantParams& params, const ChannelLayout& layout,
                     float* out) {
  for_each_element(layout, [&](std::int64_t c, std::int64_t i) {
    const std::int32_t shifted =
        static_cast<std::int32_t>(q[i]) - params.zero_point[static_cast<std::size_t>(c)];
    out[i] = static_cast<float>(shifted) * params.scale[static_cast<std::size_t>(c)];
  });
}

}  // namespace

QuantParams params_for_range(Range range, QuantType type) {
  EP_CHECK(std::isfinite(range.min) && std::isfinite(range.max) && range.min <= range.max,
           "quantization range [{}, {}] is not a finite interval", range.min, range.max);
  const double low = std::min(range.min, 0.0F);
  const double high = std::max(range.max, 0.0F);
  QuantParams params;
  if (type == QuantType::int8_sym) {
    const double magnitude = std::max(-low, high);
    params.dtype = DType::i8;
    params.scale = {magnitude > 0.0 ? std::max(static_cast<float>(magnitude / 127.0), kMinScale)
                                    : 1.0F};
    params.zero_point = {0};
    return params;
  }
  params.dtype = type == QuantType::uint8_asym ? DType::u8 : DType::i8;
  const IntRange ints = int_range(params.dtype);
  const double width = high - low;
  const float scale = width > 0.0 ? std::max(static_cast<float>(width / 255.0), kMinScale) : 1.0F;
  const double zero = std::nearbyint(ints.low - low / scale);
  params.scale = {scale};
  params.zero_point = {static_cast<std::int32_t>(std::clamp<double>(zero, ints.low, ints.high))};
  return params;
}

QuantParams weight_params(const Tensor& weight, std::int64_t axis, QuantType type, int bits) {
  EP_CHECK(weight.dtype() == DType::f32, "weight_params: weight has dtype {}, expected f32",
           dtype_name(weight.dtype()));
  EP_CHECK(bits >= 2 && bits <= 8, "weight_params: {} weight bits (2 to 8)", bits);
  EP_CHECK(bits == 8 || type == QuantType::int8_sym,
           "{}-bit weights need symmetric int8 weights, not {}", bits, quant_type_name(type));
  // Widening the range by 127/L (L = 2^(bits-1) - 1) makes the int8_sym scale magnitude / L.
  const float widen = 127.0F / static_cast<float>((1 << (bits - 1)) - 1);
  const ChannelLayout layout = channel_layout(weight.shape(), axis, "weight_params");
  const std::span<const float> values = weight.values<float>();
  std::vector<Range> ranges(static_cast<std::size_t>(layout.channels));
  for_each_element(layout, [&](std::int64_t c, std::int64_t i) {
    const float value = values[static_cast<std::size_t>(i)];
    EP_CHECK(std::isfinite(value), "weight_params: {} at element {} (shape {})",
             std::isnan(value) ? "NaN" : "Inf", i, shape_to_string(weight.shape()));
    Range& range = ranges[static_cast<std::size_t>(c)];
    range.min = std::min(range.min, value);
    range.max = std::max(range.max, value);
  });
  QuantParams params;
  params.axis = axis < 0 ? -1 : axis;
  for (const Range& range : ranges) {
    const QuantParams channel = params_for_range({range.min * widen, range.max * widen}, type);
    params.dtype = channel.dtype;
    params.scale.push_back(channel.scale[0]);
    params.zero_point.push_back(channel.zero_point[0]);
  }
  if (ranges.empty()) params = params_for_range({}, type);  // a tensor with 0 channels
  return params;
}

Tensor quantize_tensor(const Tensor& x, const QuantParams& params) {
  EP_CHECK(x.dtype() == DType::f32, "quantize_tensor: input has dtype {}, expected f32",
           dtype_name(x.dtype()));
  check_params(params, x.shape(), "quantize_tensor");
  const ChannelLayout layout = channel_layout(x.shape(), params.axis, "quantize_tensor");
  Tensor q(params.dtype, x.shape());
  if (params.dtype == DType::u8) {
    quantize_into(x.values<float>(), params, layout, q.data<std::uint8_t>());
  } else {
    quantize_into(x.values<float>(), params, layout, q.data<std::int8_t>());
  }
  return q;
}

Tensor dequantize_tensor(const Tensor& q, const QuantParams& params) {
  EP_CHECK(q.dtype() == params.dtype,
           "dequantize_tensor: input has dtype {}, parameters are for {}", dtype_name(q.dtype()),
           dtype_name(params.dtype));
  check_params(params, q.shape(), "dequantize_tensor");
  const ChannelLayout layout = channel_layout(q.shape(), params.axis, "dequantize_tensor");
  Tensor x(DType::f32, q.shape());
  if (q.dtype() == DType::u8) {
    dequantize_into(q.data<std::uint8_t>(), params, layout, x.data<float>());
  } else {
    dequantize_into(q.data<std::int8_t>(), params, layout, x.data<float>());
  }
  return x;
}

Tensor quantize_bias(const Tensor& bias, float input_scale, const QuantParams& weight) {
  EP_CHECK(bias.dtype() == DType::f32, "quantize_bias: bias has dtype {}, expected f32",
           dtype_name(bias.dtype()));
  EP_CHECK(std::isfinite(input_scale) && input_scale > 0.0F,
           "quantize_bias: input scale {} is not positive and finite", input_scale);
  const std::size_t channels = static_cast<std::size_t>(bias.numel());
  EP_CHECK(weight.scale.size() == 1 || weight.scale.size() == channels,
           "quantize_bias: {} bias values but {} weight scales", channels, weight.scale.size());
  Tensor q(DType::i32, bias.shape());
  const std::span<const float> values = bias.values<float>();
  std::int32_t* out = q.data<std::int32_t>();
  constexpr double kLow = std::numeric_limits<std::int32_t>::min();
  constexpr double kHigh = std::numeric_limits<std::int32_t>::max();
  for (std::size_t c = 0; c < channels; ++c) {
    const double scale =
        static_cast<double>(input_scale) * weight.scale[weight.scale.size() == 1 ? 0 : c];
    EP_CHECK(std::isfinite(values[c]), "quantize_bias: {} at element {}",
             std::isnan(values[c]) ? "NaN" : "Inf", c);
    EP_CHECK(scale > 0.0, "quantize_bias: bias scale of channel {} is 0", c);
    out[c] = static_cast<std::int32_t>(std::clamp(std::nearbyint(values[c] / scale), kLow, kHigh));
  }
  return q;
}

}  // namespace edgeperf::quant
