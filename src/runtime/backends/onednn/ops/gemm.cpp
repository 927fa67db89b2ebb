// f32 Gemm / 2-D MatMul as an inner product, with a folded BatchNormalization and
// activations fused.
#include <optional>

#include "../batch_norm_fold.h"
#include "../gemm_weights.h"
#include "../post_ops.h"
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
  const std::vector<ChainLink> links = context.collect_chain(index, true, false);
  const bool folds = !links.empty() && links[0].fold_batch_norm;
  PackedWeights packed{gemm_weights_nk(spec), to_vector(spec.bias)};
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
          context.claim_links(links, count);
          return context.define_chain_output(links, count, context.output_of(index), dst);
        });
    return true;
  }
  return false;
}

}  // namespace edgeperf::runtime::onednn::ops
