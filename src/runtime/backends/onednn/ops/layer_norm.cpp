// f32 LayerNormalization as oneDNN's layer normalization on the row-major [rows, size]
// view, with the constant scale and bias packed once.
#include <vector>

#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

bool match_layer_norm(const MatchView& view, std::size_t index) {
  return parse_layer_norm(view.planned(index)).has_value();
}

bool lower_layer_norm(RegionContext& context, std::size_t index) {
  using dnnl::memory;
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const LayerNormSpec spec = *parse_layer_norm(node);
  const memory::desc md = plain_desc({spec.rows, spec.size});
  const memory::desc channel_md = plain_desc({spec.size});
  auto flags = dnnl::normalization_flags::use_scale;
  if (spec.bias) flags = flags | dnnl::normalization_flags::use_shift;
  dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, md, spec.epsilon,
                                               flags);
  dnnl::layer_normalization_forward::primitive_desc pd(desc, context.base_attr(), context.engine());
  const int src = context.use_as(node.node->inputs[0], plain_desc(node.inputs[0].shape));
  OpArgs args = {{DNNL_ARG_SRC, context.activation_slot(context.storage_of(src), md)},
                 {DNNL_ARG_SCALE,
                  context.constant_slot(context.pack(channel_md, channel_md, spec.scale->raw()))}};
  if (spec.bias) {
    args.emplace_back(DNNL_ARG_SHIFT, context.constant_slot(
                                          context.pack(channel_md, channel_md, spec.bias->raw())));
  }
  const int dst = context.define_new(context.output_of(index), plain_desc(node.outputs[0].shape));
  args.emplace_back(DNNL_ARG_DST, context.activation_slot(context.storage_of(dst), md));
  context.add_compute_op(dnnl::layer_normalization_forward(pd), std::move(args),
                         pd.scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
