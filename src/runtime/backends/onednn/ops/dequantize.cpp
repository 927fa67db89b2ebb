// DequantizeLinear: no op of its own. Its output stays an alias of the int8 source
// (RegionContext::define_alias) until an f32 consumer needs the value.
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

bool match_dequantize(const MatchView& view, std::size_t index) {
  return parse_dequantize(view.planned(index)).has_value();
}

bool lower_dequantize(RegionContext& context, std::size_t index) {
  const ActivationQuant quant = *parse_dequantize(context.planned(index));
  context.define_alias(context.output_of(index),
                       QuantizedAlias{context.planned(index).node->inputs[0], quant});
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
