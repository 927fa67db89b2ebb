// A u8 -> u8 3x3, 5x5 or 7x7 depthwise conv runs on our kernels (channels-last) rather than
// oneDNN 2.6's, which is barely faster in int8 than in f32.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <tuple>

#include "../depthwise_u8.h"
#include "../depthwise_u8_wide.h"
#include "../requantization.h"
#include "byte_kernel_op.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

// The geometry of a depthwise conv that DepthwiseConvU8 (3x3) or DepthwiseConvU8Wide (5x5,
// 7x7) runs, if it is one.
std::optional<DepthwiseU8Shape> depthwise_u8_shape(const ConvSpec& spec, const Shape& x,
                                                   const Shape& y) {
  const Shape& w = spec.weights->shape();
  if (x.size() != 4 || w.size() != 4 || spec.group != x[1] || w[0] != x[1] || w[1] != 1 ||
      w[2] != w[3] || spec.strides.size() != 2 || spec.strides[0] != spec.strides[1] ||
      spec.dilations != Dims{0, 0}) {
    return std::nullopt;
  }
  const DepthwiseU8Shape shape{
      x[0], x[1], x[2], x[3], y[2], y[3], spec.strides[0], spec.pad_left[0], spec.pad_left[1],
      w[2]};
  const bool runs = DepthwiseConvU8::supports(shape) || DepthwiseConvU8Wide::supports(shape);
  // Below 32 channels most of each 64-byte vector idles. At 32 (MobileNetV2's first
  // block) ours is still faster in the model: 48 against oneDNN's 82 us at 1 thread.
  if (!runs || shape.channels < 32) return std::nullopt;
  return shape;
}

// The output clamp of a u8 chain's activations, in quantized steps.
std::optional<std::pair<std::uint8_t, std::uint8_t>> u8_clamp(const QuantizedChain& chain) {
  const std::optional<std::vector<EltwiseOp>> clips =
      quantized_activation(chain.eltwise, chain.quant->scale, chain.quant->zero_point);
  if (!clips) return std::nullopt;
  const auto to_u8 = [](float bound) {
    return static_cast<int>(std::clamp(std::nearbyint(bound), 0.0f, 255.0f));
  };
  int low = 0;
  int high = 255;
  for (const EltwiseOp& clip : *clips) {
    // round(clip(v, a, b)) = clip(round(v), round(a), round(b)): rounding is monotonic.
    low = std::clamp(low, to_u8(clip.alpha), to_u8(clip.beta));
    high = std::clamp(high, to_u8(clip.alpha), to_u8(clip.beta));
  }
  return std::pair{static_cast<std::uint8_t>(low), static_cast<std::uint8_t>(high)};
}

DepthwiseU8Requant requant_params(const QuantizedAlias& input, const Requantization& requant,
                                  const QuantizedChain& chain,
                                  std::pair<std::uint8_t, std::uint8_t> clamp) {
  DepthwiseU8Requant params;
  params.input_zero_point = static_cast<std::uint8_t>(input.quant.zero_point);
  params.scale = requant.scales;
  for (std::size_t c = 0; c < requant.scales.size(); ++c) {
    params.offset.push_back(requant.bias[c] * requant.scales[c] +
                            static_cast<float>(chain.quant->zero_point));
  }
  std::tie(params.min, params.max) = clamp;
  return params;
}

template <typename Kernel>
void add_kernel_op(RegionContext& context, std::size_t index, const QuantizedAlias& input,
                   const QuantizedChain& chain, std::shared_ptr<const Kernel> kernel) {
  const PlannedNode& node = context.planned(index);
  context.add_custom_bytes(kernel->packed_bytes(), kernel->workspace_bytes());
  add_byte_kernel_op(
      context, input,
      memory::desc(node.inputs[0].shape, memory::data_type::u8, memory::format_tag::acdb), chain,
      memory::desc(node.outputs[0].shape, memory::data_type::u8, memory::format_tag::acdb),
      std::move(kernel));
}

}  // namespace

bool emit_depthwise_u8(RegionContext& context, std::size_t index, const ConvSpec& spec,
                       const QuantizedAlias& input, const QuantizedWeights& weights,
                       const QuantizedChain& chain) {
  const PlannedNode& node = context.planned(index);
  if (input.quant.type != memory::data_type::u8 || !chain.quant ||
      chain.quant->type != memory::data_type::u8 || !context.settings().own_int8_kernels) {
    return false;
  }
  const std::optional<DepthwiseU8Shape> shape =
      depthwise_u8_shape(spec, node.inputs[0].shape, node.outputs[0].shape);
  const auto clamp = u8_clamp(chain);
  if (!shape || !clamp) return false;
  auto values = weights.values->values<std::int8_t>();
  const std::vector<std::int8_t> weight_values(values.begin(), values.end());
  // Padding reads the input zero point, so folding z_in * sum(w) is exact everywhere.
  const Requantization requant = requantization(input.quant, weights, weight_values, spec.bias,
                                                shape->channels, chain.dst_scale(), true);
  const DepthwiseU8Requant params = requant_params(input, requant, chain, *clamp);
  if (shape->kernel == 3) {
    add_kernel_op(context, index, input, chain,
                  std::make_shared<const DepthwiseConvU8>(*shape, weight_values, params));
  } else {
    add_kernel_op(context, index, input, chain,
                  std::make_shared<const DepthwiseConvU8Wide>(*shape, weight_values, params));
  }
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
