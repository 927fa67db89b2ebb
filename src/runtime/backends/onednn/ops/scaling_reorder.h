#pragma once
// The tail QuantizeLinear and requantization share: node `index`'s output as one oneDNN
// reorder of `source` into `md`, with `attr` carrying the scales and zero points.
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

inline void add_scaling_reorder(RegionContext& context, std::size_t index, const Value& source,
                                const dnnl::memory::desc& md, const dnnl::primitive_attr& attr) {
  dnnl::reorder::primitive_desc pd(context.engine(), source.md, context.engine(), md, attr);
  const int from = context.activation_slot(source.storage, source.md);
  const int to = context.define_new(context.output_of(index), md);
  context.add_compute_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
                         pd.scratchpad_desc());
}

}  // namespace edgeperf::runtime::onednn::ops
