// DQ(x) -> Conv(DQ(W_s8), DQ(B)) -> [Relu|Clip] -> [Q] as one int8 convolution whose
// output scales and post-ops requantize; also the primitive behind QLinearConv.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "../post_ops.h"
#include "../requantization.h"
#include "weighted_op.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;
using ConvPd = dnnl::convolution_forward::primitive_desc;

bool has_padding(const ConvSpec& spec) {
  const auto nonzero = [](std::int64_t pad) { return pad != 0; };
  return std::any_of(spec.pad_left.begin(), spec.pad_left.end(), nonzero) ||
         std::any_of(spec.pad_right.begin(), spec.pad_right.end(), nonzero);
}

std::optional<QuantizedWeights> conv_int8_weights(const MatchView& view, std::size_t index,
                                                  const ConvSpec& spec) {
  std::optional<QuantizedWeights> weights =
      find_quantized_weights(view.input(), view.planned(index).node->inputs[1]);
  if (!weights || weights->values->shape() != spec.weights->shape() ||
      (weights->scales.size() != 1 && weights->axis != 0) ||
      !int8_products_exact(*weights->values)) {
    return std::nullopt;
  }
  return weights;
}

// 1x1, stride 1, no padding, one group: each output pixel from its own input pixel.
bool maps_pixel_to_pixel(const ConvSpec& spec) {
  const auto one = [](std::int64_t stride) { return stride == 1; };
  return spec.group == 1 && is_pointwise(spec) &&
         std::all_of(spec.strides.begin(), spec.strides.end(), one);
}

std::optional<ConvPd> make_pd(const RegionContext& context, const ConvSpec& spec,
                              const Shape& weight_dims, const memory::desc& src,
                              const memory::desc& dst, const dnnl::primitive_attr& attr) {
  try {
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src,
        memory::desc(weight_dims, memory::data_type::s8, memory::format_tag::any),
        plain_desc({spec.weights->dim(0)}), dst, spec.strides, spec.dilations, spec.pad_left,
        spec.pad_right);
    return ConvPd(desc, attr, context.engine());
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

}  // namespace

bool match_int8_conv(const MatchView& view, std::size_t index) {
  if (!view.reads_alias(index, 0)) return false;
  const std::optional<ConvSpec> spec = parse_conv(view.planned(index));
  return spec && conv_int8_weights(view, index, *spec);
}

bool lower_int8_conv(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const ConvSpec spec = *parse_conv(node);
  if (!emit_int8_conv(context, index, spec, *context.alias_of(node.node->inputs[0]),
                      *conv_int8_weights(context, index, spec),
                      context.collect_quantized_chain(index))) {
    return false;
  }
  context.note_packed_from_origin(node.node->inputs[1], index);
  return true;
}

// spec.bias is f32 (real units) or int32 (accumulator units).
bool emit_int8_conv(RegionContext& context, std::size_t index, const ConvSpec& spec,
                    const QuantizedAlias& input, const QuantizedWeights& weights,
                    const QuantizedChain& chain) {
  if (emit_depthwise_u8(context, index, spec, input, weights, chain)) return true;
  const PlannedNode& node = context.planned(index);
  const Shape& w = spec.weights->shape();
  // Padding holds the zero point, so only an unpadded conv can fold it into the bias.
  const bool runtime_zero_point = input.quant.zero_point != 0 && has_padding(spec);
  auto values = weights.values->values<std::int8_t>();
  const std::vector<std::int8_t> weight_values(values.begin(), values.end());
  const Requantization requant =
      requantization(input.quant, weights, weight_values, spec.bias, w[0], chain.dst_scale(),
                     input.quant.zero_point != 0 && !runtime_zero_point);
  const Shape weight_dims =
      spec.group == 1 ? w : Shape{spec.group, w[0] / spec.group, w[1], w[2], w[3]};
  const std::optional<dnnl::post_ops> post_ops = quantized_post_ops(chain, 1.0f, 0.0f);
  if (!post_ops) return false;
  const std::int64_t pixels = element_count(node.outputs[0].shape) / w[0];
  const int threads = int8_op_threads(context, pixels * element_count(w));
  const ScopedOmpThreads scoped(threads);
  dnnl::primitive_attr attr = context.base_attr();
  attr.set_output_scales(1 << 1, requant.scales);
  attr.set_post_ops(*post_ops);
  if (runtime_zero_point) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  const memory::desc src_md = context.value(input.source).md;
  const memory::desc dst_md(node.outputs[0].shape, chain.dst_type(), memory::format_tag::any);
  std::optional<ConvPd> pd = make_pd(context, spec, weight_dims, src_md, dst_md, attr);
  if (!pd || is_reference_impl(*pd)) {
    const memory::desc any_src(src_md.dims(), type_of(src_md), memory::format_tag::any);
    pd = make_pd(context, spec, weight_dims, any_src, dst_md, attr);
  }
  if (!pd) return false;
  std::vector<PixelPart> parts;
  if (threads > 1 && !runtime_zero_point && maps_pixel_to_pixel(spec)) {
    parts = split_pixels(*pd, pixels, threads,
                         [&](std::int64_t pixels) {
                           std::optional<ConvPd> part =
                               make_pd(context, spec, weight_dims,
                                       pixel_row_desc(w[1], pixels, type_of(src_md)),
                                       pixel_row_desc(w[0], pixels, chain.dst_type()), attr);
                           if (part && is_reference_impl(*part)) part.reset();
                           return part;
                         });
  }
  OpArgs zero_point;
  if (runtime_zero_point) {
    zero_point.emplace_back(DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC,
                            context.scalar_s32_slot(input.quant.zero_point));
  }
  const WeightedOperands operands{
      input.source, plain_desc(weight_dims, memory::data_type::s8), weight_values.data(),
      plain_desc({static_cast<std::int64_t>(requant.bias.size())}), requant.bias.data()};
  const auto define_dst = [&](const memory::desc& dst) {
    context.claim_chain(chain);
    return context.define_new(chain.output, dst);
  };
  if (!parts.empty()) {
    add_conv_in_pixel_parts(context, *pd, parts, operands, std::move(zero_point), define_dst);
    return true;
  }
  add_weighted_op<dnnl::convolution_forward>(context, *pd, operands, std::move(zero_point),
                                             define_dst);
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
