// f32 Add, Sub, Mul and Div (binary primitive) with activations fused. One operand is
// shaped like the output; the other is the same shape or broadcasts to it (a
// squeeze-and-excitation gate [N, C, 1, 1], a per-channel or scalar constant). A residual
// Add after a conv is fused into the conv instead (sum post-op, conv.cpp). A result only
// a QuantizeLinear reads is written quantized by the same primitive.
#include <functional>
#include <optional>
#include <vector>

#include "../memory_descs.h"
#include "../post_ops.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

// Ways to hand the broadcast operand to the primitive, tried in order.
struct OtherOperand {
  memory::desc md;
  std::function<int()> slot;  // called once the primitive is chosen
};

std::vector<OtherOperand> other_operand_choices(RegionContext& context, const PlannedNode& node,
                                                const BinarySpec& spec,
                                                const memory::desc& full_md) {
  const memory::desc plain = plain_desc(spec.other_dims);
  const std::string& name = node.node->inputs[spec.other];
  std::vector<OtherOperand> choices;
  const Tensor* constant =
      spec.other < node.constants.size() ? node.constants[spec.other] : nullptr;
  if (constant != nullptr) {
    choices.push_back({plain, [&context, plain, constant] {
                         return context.constant_slot(context.pack(plain, plain, constant->raw()));
                       }});
    return choices;
  }
  const Value& value = context.value(name);
  const memory::dims dims(spec.other_dims.begin(), spec.other_dims.end());
  if (dims == full_md.dims()) {
    // Same shape: in the full operand's layout (reordered once if it lives in another).
    choices.push_back(
        {full_md, [&context, name, full_md] { return context.use_as(name, full_md); }});
    return choices;
  }
  if (value.md.dims() == dims) {
    // Its own layout first (no reorder), then plain.
    choices.push_back(
        {value.md, [&context, name, md = value.md] { return context.use_as(name, md); }});
    if (value.md != plain) {
      choices.push_back({plain, [&context, name, plain] { return context.use_as(name, plain); }});
    }
    return choices;
  }
  // Fewer dims than the output ([C, 1, 1] against [N, C, H, W]): a view of the same buffer.
  try {
    const memory::desc view = value.md.reshape(dims);
    choices.push_back({view, [&context, storage = value.storage, view] {
                         return context.activation_slot(storage, view);
                       }});
  } catch (const dnnl::error&) {
  }
  return choices;
}

std::optional<dnnl::binary::primitive_desc> make_pd(
    const RegionContext& context, const BinarySpec& spec, const memory::desc& full,
    const memory::desc& other, const std::vector<ChainLink>& links, std::size_t count) {
  try {
    dnnl::binary::desc desc(spec.algorithm, full, other, full);
    dnnl::primitive_attr attr = context.base_attr();
    attr.set_post_ops(make_post_ops(links, count));
    dnnl::binary::primitive_desc pd(desc, attr, context.engine());
    if (is_reference_impl(pd)) return std::nullopt;  // slower than our reference kernel
    return pd;
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

// The same op writing QuantizeLinear's int8 value when that is the only reader of its
// result: q = x / s + z, so Mul and Div scale src0 by 1/s, Add and Sub both sources, and
// the zero point (and any activations) follow as quantized post-ops.
std::optional<dnnl::binary::primitive_desc> make_quantized_pd(const RegionContext& context,
                                                              const BinarySpec& spec,
                                                              const memory::desc& full,
                                                              const memory::desc& other,
                                                              const QuantizedChain& chain) {
  const float inverse = 1.0f / chain.dst_scale();
  const bool scales_both = spec.algorithm == dnnl::algorithm::binary_add ||
                           spec.algorithm == dnnl::algorithm::binary_sub;
  const std::optional<dnnl::post_ops> post_ops = quantized_post_ops(chain, 1.0f, 0.0f);
  if (!post_ops) return std::nullopt;
  try {
    dnnl::primitive_attr attr = context.base_attr();
    attr.set_scales(DNNL_ARG_SRC_0, 0, {inverse});
    if (scales_both) attr.set_scales(DNNL_ARG_SRC_1, 0, {inverse});
    attr.set_post_ops(*post_ops);
    dnnl::binary::primitive_desc pd(
        dnnl::binary::desc(spec.algorithm, full, other, with_type(full, chain.dst_type())), attr,
        context.engine());
    if (is_reference_impl(pd)) return std::nullopt;
    return pd;
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

bool lower_quantized(RegionContext& context, std::size_t index, const BinarySpec& spec,
                     const memory::desc& md, const std::vector<OtherOperand>& choices) {
  const QuantizedChain chain = context.collect_quantized_chain(index);
  if (!chain.quant || chain.bridge) return false;
  const std::string& full = context.planned(index).node->inputs[spec.full];
  for (const OtherOperand& other : choices) {
    const std::optional<dnnl::binary::primitive_desc> pd =
        make_quantized_pd(context, spec, md, other.md, chain);
    if (!pd) continue;
    OpArgs args = {{DNNL_ARG_SRC_0, context.use_as(full, md)}, {DNNL_ARG_SRC_1, other.slot()}};
    context.claim_chain(chain);
    args.emplace_back(DNNL_ARG_DST, context.define_new(chain.output, pd->dst_desc()));
    context.add_compute_op(dnnl::binary(*pd), std::move(args), pd->scratchpad_desc());
    return true;
  }
  return false;
}

}  // namespace

bool match_binary(const MatchView& view, std::size_t index) {
  return parse_binary(view.planned(index)).has_value();
}

bool lower_binary(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const BinarySpec spec = *parse_binary(node);
  const std::string& full = node.node->inputs[spec.full];
  const memory::desc md = context.value(full).md;
  const std::vector<OtherOperand> choices = other_operand_choices(context, node, spec, md);
  if (lower_quantized(context, index, spec, md, choices)) return true;
  const std::vector<ChainLink> links = context.collect_chain(index, false, false);
  for (std::size_t count = links.size() + 1; count-- > 0;) {
    for (const OtherOperand& other : choices) {
      const std::optional<dnnl::binary::primitive_desc> pd =
          make_pd(context, spec, md, other.md, links, count);
      if (!pd) continue;
      OpArgs args = {{DNNL_ARG_SRC_0, context.use_as(full, md)}, {DNNL_ARG_SRC_1, other.slot()}};
      context.claim_links(links, count);
      args.emplace_back(DNNL_ARG_DST,
                        context.define_chain_output(links, count, context.output_of(index), md));
      context.add_compute_op(dnnl::binary(*pd), std::move(args), pd->scratchpad_desc());
      return true;
    }
  }
  return false;
}

}  // namespace edgeperf::runtime::onednn::ops
