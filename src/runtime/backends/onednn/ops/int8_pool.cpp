// Pooling of a dequantized value on its int8 source. Pooling commutes with the affine
// map: q_out = s_in/s_out * (pool(q_in) - z_in) + z_out.
#include <optional>

#include "../post_ops.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

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
