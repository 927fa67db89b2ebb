// f32 Slice with unit steps as one reorder: the input's memory seen through a window of
// the output's dims at the slice's offsets, copied into the plain output. Inside the
// region, so a channel split (ShuffleNet's) no longer ends it. A window that cuts a
// blocked layout's channel block is taken from the plain layout instead.
#include <optional>

#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

std::optional<dnnl::memory::desc> window(const dnnl::memory::desc& md, const Dims& dims,
                                         const Dims& offsets) {
  try {
    return md.submemory_desc(dims, offsets);
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

}  // namespace

bool match_slice(const MatchView& view, std::size_t index) {
  return parse_slice_offsets(view.planned(index)).has_value();
}

bool lower_slice(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const Dims offsets = *parse_slice_offsets(node);
  const Shape& y_shape = node.outputs[0].shape;
  const Dims dims(y_shape.begin(), y_shape.end());
  const std::string& x = node.node->inputs[0];
  Value source = context.value(x);
  std::optional<dnnl::memory::desc> from_md = window(source.md, dims, offsets);
  if (!from_md) {
    const dnnl::memory::desc plain = plain_desc(node.inputs[0].shape);
    source = Value{context.storage_of(context.use_as(x, plain)), plain};
    from_md = window(plain, dims, offsets);
    if (!from_md) return false;
  }
  const dnnl::memory::desc target = plain_desc(y_shape);
  dnnl::reorder::primitive_desc pd(context.engine(), *from_md, context.engine(), target,
                                   context.base_attr());
  const int from = context.activation_slot(source.storage, *from_md);
  const int to = context.define_new(context.output_of(index), target);
  context.add_compute_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
                         pd.scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
