// Q(DQ(q)): the int8 source itself when the parameters agree, else one int8 reorder
// q_out = s_in / s_out * (q - z_in) + z_out.
#include "../memory_descs.h"
#include "ops.h"
#include "scaling_reorder.h"

namespace edgeperf::runtime::onednn::ops {

bool match_requantize(const MatchView& view, std::size_t index) {
  return parse_quantize(view.planned(index)) && view.reads_alias(index, 0);
}

bool lower_requantize(RegionContext& context, std::size_t index) {
  const ActivationQuant quant = *parse_quantize(context.planned(index));
  const QuantizedAlias alias = *context.alias_of(context.planned(index).node->inputs[0]);
  const Value source = context.value(alias.source);
  if (alias.quant.scale == quant.scale && alias.quant.zero_point == quant.zero_point &&
      alias.quant.type == quant.type) {
    context.define_value(context.output_of(index), source.storage, source.md);
    context.flush_exports();
    return true;
  }
  const dnnl::memory::desc md = with_type(source.md, quant.type);
  dnnl::primitive_attr attr = context.base_attr();
  attr.set_output_scales(0, {alias.quant.scale / quant.scale});
  if (alias.quant.zero_point != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {alias.quant.zero_point});
  if (quant.zero_point != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {quant.zero_point});
  add_scaling_reorder(context, index, source, md, attr);
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
