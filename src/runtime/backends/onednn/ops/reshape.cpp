// Flatten/Reshape: free when the value is plain row-major, one reorder otherwise.
// Identity (and a Pad of zeros): free in any layout, the output shares the input's buffer.
#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

bool match_reshape(const MatchView& view, std::size_t index) {
  return is_free_reshape(view.planned(index));
}

bool lower_reshape(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const int slot = context.use_as(node.node->inputs[0], plain_desc(node.inputs[0].shape));
  context.define_value(context.output_of(index), context.storage_of(slot),
                       plain_desc(node.outputs[0].shape));
  context.flush_exports();
  return true;
}

bool match_identity(const MatchView& view, std::size_t index) {
  return is_identity(view.planned(index));
}

bool lower_identity(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const Value input = context.value(context.planned(index).node->inputs[0]);
  context.define_value(context.output_of(index), input.storage, input.md);
  context.flush_exports();
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
