// A standalone activation (one that did not fuse into the op before it): one eltwise
// primitive per EltwiseOp, the later ones in place.
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

bool match_eltwise(const MatchView& view, std::size_t index) {
  return parse_activation(view.planned(index), view.input().opset).has_value();
}

bool lower_eltwise(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const std::vector<EltwiseOp> ops = *parse_activation(node, context.input().opset);
  const std::string& x = node.node->inputs[0];
  const dnnl::memory::desc md = context.value(x).md;
  int src = context.use_as(x, md);
  const int storage = context.new_storage(md.get_size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, ops[i].algorithm, md,
                                     ops[i].alpha, ops[i].beta);
    dnnl::eltwise_forward::primitive_desc pd(desc, context.base_attr(), context.engine());
    const bool last = i + 1 == ops.size();
    const int dst = last ? context.define_value(context.output_of(index), storage, md)
                         : context.activation_slot(storage, md);
    context.add_compute_op(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
                           pd.scratchpad_desc());
    src = dst;
  }
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
