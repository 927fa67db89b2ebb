// f32 Softmax and LogSoftmax on the row-major view of their input.
#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

template <typename Primitive>
void add_softmax(RegionContext& context, const PlannedNode& node, std::size_t index,
                 const SoftmaxSpec& spec) {
  const memory::desc md = plain_desc(spec.dims);
  typename Primitive::desc desc(dnnl::prop_kind::forward_inference, md, spec.axis);
  typename Primitive::primitive_desc pd(desc, context.base_attr(), context.engine());
  const int src = context.use_as(node.node->inputs[0], plain_desc(node.inputs[0].shape));
  const int dst = context.define_new(context.output_of(index), plain_desc(node.outputs[0].shape));
  context.add_compute_op(Primitive(pd),
                         {{DNNL_ARG_SRC, context.activation_slot(context.storage_of(src), md)},
                          {DNNL_ARG_DST, context.activation_slot(context.storage_of(dst), md)}},
                         pd.scratchpad_desc());
}

}  // namespace

bool match_softmax(const MatchView& view, std::size_t index) {
  return parse_softmax(view.planned(index), view.input().opset).has_value();
}

bool lower_softmax(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const SoftmaxSpec spec = *parse_softmax(node, context.input().opset);
  try {
    if (spec.log) {
      add_softmax<dnnl::logsoftmax_forward>(context, node, index, spec);
    } else {
      add_softmax<dnnl::softmax_forward>(context, node, index, spec);
    }
  } catch (const dnnl::error&) {
    return false;
  }
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
