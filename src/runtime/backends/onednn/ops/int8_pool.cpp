// Pooling of a dequantized value on its int8 source. Pooling commutes with the affine
// map: q_out = s_in/s_out * (pool(q_in) - z_in) + z_out. A max pool of channels-last bytes
// runs on our kernel (max_pool_bytes.h), the others on oneDNN's.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include "../max_pool_bytes.h"
#include "../post_ops.h"
#include "byte_kernel_op.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

bool is_channels_last(const memory::desc& md) {
  return md.dims().size() == 4 &&
         md == memory::desc(md.dims(), md.data_type(), memory::format_tag::acdb);
}

std::optional<MaxPoolBytesShape> max_pool_shape(const PoolSpec& spec, const Shape& x,
                                                const Shape& y) {
  const auto zero = [](std::int64_t value) { return value == 0; };
  if (spec.algorithm != dnnl::algorithm::pooling_max || x.size() != 4 || y.size() != 4 ||
      spec.kernel.size() != 2 || !std::all_of(spec.dilations.begin(), spec.dilations.end(), zero)) {
    return std::nullopt;
  }
  const MaxPoolBytesShape shape{x[0],
                                x[1],
                                x[2],
                                x[3],
                                y[2],
                                y[3],
                                spec.kernel[0],
                                spec.kernel[1],
                                spec.strides[0],
                                spec.strides[1],
                                spec.pad_left[0],
                                spec.pad_left[1]};
  if (!max_pool_bytes_supported(shape)) return std::nullopt;
  return shape;
}

// QuantizeLinear(DequantizeLinear(byte)) for every byte, as the reference computes it.
ByteTable requantization_table(const ActivationQuant& in, const ActivationQuant& out) {
  const bool is_signed = out.type == memory::data_type::s8;
  const float low = is_signed ? -128.0f : 0.0f;
  const float high = is_signed ? 127.0f : 255.0f;
  ByteTable table{};
  for (int byte = 0; byte < 256; ++byte) {
    const int q = in.type == memory::data_type::s8 ? static_cast<std::int8_t>(byte) : byte;
    const float real = static_cast<float>(q - in.zero_point) * in.scale;
    const float quantized = std::nearbyint(real / out.scale) + static_cast<float>(out.zero_point);
    const auto value = static_cast<int>(std::clamp(quantized, low, high));
    table[static_cast<std::size_t>(byte)] = static_cast<std::uint8_t>(value);
  }
  return table;
}

// MaxPool -> [QuantizeLinear] on our kernel, when the source is channels-last bytes and the
// chain does no more than requantize them.
bool emit_max_pool_bytes(RegionContext& context, std::size_t index, const PoolSpec& spec,
                         const QuantizedAlias& input, const QuantizedChain& chain) {
  const PlannedNode& node = context.planned(index);
  const memory::desc src_md = context.value(input.source).md;
  const std::optional<MaxPoolBytesShape> shape =
      max_pool_shape(spec, node.inputs[0].shape, node.outputs[0].shape);
  if (!context.settings().own_int8_kernels || !shape || !is_channels_last(src_md) || chain.bridge ||
      !chain.eltwise.empty() || chain.quant->type != input.quant.type) {
    return false;
  }
  const ActivationQuant& out = *chain.quant;
  std::optional<ByteTable> requantize;
  if (out.scale != input.quant.scale || out.zero_point != input.quant.zero_point) {
    requantize = requantization_table(input.quant, out);
  }
  auto kernel = std::make_shared<const MaxPoolBytes>(
      *shape, input.quant.type == memory::data_type::s8, requantize);
  add_byte_kernel_op(context, input, src_md, chain,
                     memory::desc(node.outputs[0].shape, out.type, memory::format_tag::acdb),
                     kernel, std::string(" max pool ") + kernel->isa());
  return true;
}

}  // namespace

bool match_int8_pool(const MatchView& view, std::size_t index) {
  // A reduction that drops the pooled axes runs in f32 (its output value is 2-D).
  const std::optional<PoolSpec> spec = parse_pool(view.planned(index));
  return view.reads_alias(index, 0) && spec && spec->keep_dims;
}

bool lower_int8_pool(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const PoolSpec spec = *parse_pool(node);
  const QuantizedAlias input = *context.alias_of(node.node->inputs[0]);
  const QuantizedChain chain = context.collect_quantized_chain(index);
  if (!chain.quant) return false;
  if (emit_max_pool_bytes(context, index, spec, input, chain)) return true;
  const float ratio = input.quant.scale / chain.quant->scale;
  const std::optional<dnnl::post_ops> post_ops =
      quantized_post_ops(chain, ratio, -static_cast<float>(input.quant.zero_point) * ratio);
  if (!post_ops) return false;
  dnnl::primitive_attr attr = context.base_attr();
  attr.set_post_ops(*post_ops);
  const dnnl::memory::desc src_md = context.value(input.source).md;
  std::optional<dnnl::pooling_v2_forward::primitive_desc> pd;
  try {
    dnnl::pooling_v2_forward::desc desc(
        dnnl::prop_kind::forward_inference, spec.algorithm, src_md,
        dnnl::memory::desc(node.outputs[0].shape, chain.quant->type, dnnl::memory::format_tag::any),
        spec.strides, spec.kernel, spec.dilations, spec.pad_left, spec.pad_right);
    pd.emplace(desc, attr, context.engine());
  } catch (const dnnl::error&) {
    return false;
  }
  OpArgs args = {{DNNL_ARG_SRC, context.use_as(input.source, src_md)}};
  context.claim_chain(chain);
  args.emplace_back(DNNL_ARG_DST, context.define_new(chain.output, pd->dst_desc()));
  context.add_compute_op(dnnl::pooling_v2_forward(*pd), std::move(args), pd->scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
