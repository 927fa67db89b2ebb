// f32 Gemm / 2-D MatMul as an inner product, with a folded BatchNormalization and
// activations fused.
#include <optional>

#include "../batch_norm_fold.h"
#include "../gemm_weights.h"
#include "../post_ops.h"
#include "bias_add.h"
#include "weighted_op.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;
using InnerProductPd = dnnl::inner_product_forward::primitive_desc;

std::optional<InnerProductPd> make_pd(const RegionContext& context, const PlannedNode& node,
                                      const memory::desc& bias_md,
                                      const std::vector<ChainLink>& links, std::size_t count) {
  const std::int64_t n = node.outputs[0].shape[1];
  const std::int64_t k = node.inputs[0].shape[1];
  try {
    dnnl::inner_product_forward::desc desc(dnnl::prop_kind::forward_inference,
                                           any_desc(node.inputs[0].shape), any_desc({n, k}),
                                           bias_md, any_desc(node.outputs[0].shape));
    dnnl::primitive_attr attr = context.base_attr();
    attr.set_post_ops(make_post_ops(links, count));
    return InnerProductPd(desc, attr, context.engine());
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

}  // namespace

bool match_gemm(const MatchView& view, std::size_t index) {
  return parse_gemm(view.planned(index)).has_value();
}

bool lower_gemm(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const GemmSpec spec = *parse_gemm(node);
  const std::int64_t n = node.outputs[0].shape[1];
  const std::int64_t k = node.inputs[0].shape[1];
  const std::optional<BiasAdd> bias_add =
      spec.bias ? std::nullopt : find_bias_add(context, index, n, 2);
  const std::vector<ChainLink> links =
      bias_add ? context.collect_chain_from(index, context.output_of(bias_add->node), true, false)
               : context.collect_chain(index, true, false);
  const bool folds = !links.empty() && links[0].fold_batch_norm;
  PackedWeights packed{gemm_weights_nk(spec), to_vector(bias_add ? bias_add->bias : spec.bias)};
  if (folds) {
    packed =
        fold_batch_norm(std::move(packed), n, *parse_batch_norm(context.planned(links[0].node)));
  }
  const memory::desc bias_md = packed.bias.empty() ? memory::desc() : plain_desc({n});
  for (std::size_t count = links.size() + 1; count-- > (folds ? 1 : 0);) {
    const std::optional<InnerProductPd> pd = make_pd(context, node, bias_md, links, count);
    if (!pd) continue;
    const WeightedOperands operands{node.node->inputs[0], plain_desc({n, k}), packed.weights.data(),
                                    bias_md, packed.bias.empty() ? nullptr : packed.bias.data()};
    add_weighted_op<dnnl::inner_product_forward>(
        context, *pd, operands, {}, [&](const memory::desc& dst) {
          if (bias_add) context.claim(bias_add->node);
          context.claim_links(links, count);
          const std::string& anchor_output =
              bias_add ? context.output_of(bias_add->node) : context.output_of(index);
          return context.define_chain_output(links, count, anchor_output, dst);
        });
    return true;
  }
  return false;
}

}  // namespace edgeperf::runtime::onednn::ops
