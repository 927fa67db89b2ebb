// f32 MaxPool, AveragePool and their Global forms.
#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

bool match_pool(const MatchView& view, std::size_t index) {
  return parse_pool(view.planned(index)).has_value();
}

bool lower_pool(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const PoolSpec spec = *parse_pool(node);
  const std::string& x = node.node->inputs[0];
  const dnnl::memory::desc x_md = context.value(x).md;
  dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, spec.algorithm, x_md,
                                      any_desc(node.outputs[0].shape), spec.strides, spec.kernel,
                                      spec.dilations, spec.pad_left, spec.pad_right);
  dnnl::pooling_v2_forward::primitive_desc pd(desc, context.base_attr(), context.engine());
  OpArgs args = {{DNNL_ARG_SRC, context.use_as(x, pd.src_desc())}};
  args.emplace_back(DNNL_ARG_DST, context.define_new(context.output_of(index), pd.dst_desc()));
  context.add_compute_op(dnnl::pooling_v2_forward(pd), std::move(args), pd.scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
