// Flatten/Reshape of a dequantized value reshapes the int8 source instead; the output
// is again a dequantized alias.
#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

bool match_int8_reshape(const MatchView& view, std::size_t index) {
  return view.reads_alias(index, 0) && is_free_reshape(view.planned(index));
}

bool lower_int8_reshape(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const QuantizedAlias input = *context.alias_of(node.node->inputs[0]);
  const dnnl::memory::data_type type = type_of(context.value(input.source).md);
  const int slot = context.use_as(input.source, plain_desc(node.inputs[0].shape, type));
  const std::string reshaped = context.output_of(index) + "#int8";
  context.define_value(reshaped, context.storage_of(slot), plain_desc(node.outputs[0].shape, type));
  context.flush_exports();
  context.define_alias(context.output_of(index), QuantizedAlias{reshaped, input.quant});
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
