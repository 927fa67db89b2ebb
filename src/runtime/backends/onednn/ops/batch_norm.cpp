// A BatchNormalization that did not fold into the op before it.
#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

bool match_batch_norm(const MatchView& view, std::size_t index) {
  return parse_batch_norm(view.planned(index)).has_value();
}

bool lower_batch_norm(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const BatchNormSpec spec = *parse_batch_norm(node);
  const std::string& x = node.node->inputs[0];
  const dnnl::memory::desc md = context.value(x).md;
  dnnl::batch_normalization_forward::desc desc(
      dnnl::prop_kind::forward_inference, md, spec.epsilon,
      dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale_shift);
  dnnl::batch_normalization_forward::primitive_desc pd(desc, context.base_attr(), context.engine());
  const std::int64_t channels = md.dims()[1];
  std::vector<float> scale_shift(spec.scale->values<float>().begin(),
                                 spec.scale->values<float>().end());
  scale_shift.insert(scale_shift.end(), spec.shift->values<float>().begin(),
                     spec.shift->values<float>().end());
  const dnnl::memory::desc channel_md = plain_desc({channels});
  const auto pack = [&](const dnnl::memory::desc& target, const dnnl::memory::desc& source,
                        const void* data) {
    return context.constant_slot(context.pack(target, source, data));
  };
  OpArgs args = {
      {DNNL_ARG_SRC, context.use_as(x, md)},
      {DNNL_ARG_MEAN, pack(pd.mean_desc(), channel_md, spec.mean->data<float>())},
      {DNNL_ARG_VARIANCE, pack(pd.variance_desc(), channel_md, spec.variance->data<float>())},
      {DNNL_ARG_SCALE_SHIFT,
       pack(pd.weights_desc(), plain_desc({2, channels}), scale_shift.data())}};
  args.emplace_back(DNNL_ARG_DST, context.define_new(context.output_of(index), pd.dst_desc()));
  context.add_compute_op(dnnl::batch_normalization_forward(pd), std::move(args),
                         pd.scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
