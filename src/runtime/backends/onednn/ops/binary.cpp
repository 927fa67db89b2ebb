// f32 Add of two same-shape values (binary primitive) with activations fused; a
// residual Add after a conv is fused into the conv instead (sum post-op, conv.cpp).
#include <optional>

#include "../post_ops.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

bool match_binary(const MatchView& view, std::size_t index) {
  return is_same_shape_add(view.planned(index));
}

bool lower_binary(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const std::string& a = node.node->inputs[0];
  const std::string& b = node.node->inputs[1];
  const dnnl::memory::desc md = context.value(a).md;
  const std::vector<ChainLink> links = context.collect_chain(index, false, false);
  for (std::size_t count = links.size() + 1; count-- > 0;) {
    std::optional<dnnl::binary::primitive_desc> pd;
    try {
      dnnl::binary::desc desc(dnnl::algorithm::binary_add, md, md, md);
      dnnl::primitive_attr attr = context.base_attr();
      attr.set_post_ops(make_post_ops(links, count));
      pd.emplace(desc, attr, context.engine());
    } catch (const dnnl::error&) {
      continue;
    }
    OpArgs args = {{DNNL_ARG_SRC_0, context.use_as(a, md)},
                   {DNNL_ARG_SRC_1, context.use_as(b, md)}};
    context.claim_links(links, count);
    args.emplace_back(DNNL_ARG_DST,
                      context.define_chain_output(links, count, context.output_of(index), md));
    context.add_compute_op(dnnl::binary(*pd), std::move(args), pd->scratchpad_desc());
    return true;
  }
  return false;
}

}  // namespace edgeperf::runtime::onednn::ops
