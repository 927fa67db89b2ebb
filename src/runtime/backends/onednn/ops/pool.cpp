// f32 MaxPool, AveragePool, their Global forms, and ReduceMean/ReduceMax over H and W.
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
  const Shape& y_shape = node.outputs[0].shape;
  const Shape pooled_shape = spec.keep_dims ? y_shape : Shape{y_shape[0], y_shape[1], 1, 1};
  dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, spec.algorithm, x_md,
                                      any_desc(pooled_shape), spec.strides, spec.kernel,
                                      spec.dilations, spec.pad_left, spec.pad_right);
  dnnl::pooling_v2_forward::primitive_desc pd(desc, context.base_attr(), context.engine());
  OpArgs args = {{DNNL_ARG_SRC, context.use_as(x, pd.src_desc())}};
  const std::string& y = context.output_of(index);
  // A reduction that drops the pooled axes pools into [N, C, 1, 1]; its [N, C] value is
  // those bytes row-major.
  const std::string pooled = spec.keep_dims ? y : y + "#pooled";
  args.emplace_back(DNNL_ARG_DST, context.define_new(pooled, pd.dst_desc()));
  context.add_compute_op(dnnl::pooling_v2_forward(pd), std::move(args), pd.scratchpad_desc());
  if (!spec.keep_dims) {
    const int slot = context.use_as(pooled, plain_desc(pooled_shape));
    context.define_value(y, context.storage_of(slot), plain_desc(y_shape));
    context.flush_exports();
  }
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
