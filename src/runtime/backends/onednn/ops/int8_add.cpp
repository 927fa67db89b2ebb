// DQ(a) + DQ(b): binary add with per-input scales s_a/s_out and s_b/s_out, then the
// constant -(s_a*z_a + s_b*z_b)/s_out, the activations and the output zero point.
#include <array>
#include <optional>

#include "../memory_descs.h"
#include "../pixel_parts.h"
#include "../post_ops.h"
#include "edgeperf/runtime/scoped_omp_threads.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

namespace {

// The same Add over [1, C, 1, pixels] of each tensor, made on one thread: one part of it
// in pixel parts.
std::optional<dnnl::binary::primitive_desc> add_over_pixels(
    const RegionContext& context, const std::array<dnnl::memory::desc, 3>& whole,
    const dnnl::primitive_attr& attr, std::int64_t pixels) {
  const ScopedOmpThreads one(1);
  const std::int64_t channels = whole[0].dims()[1];
  const auto row = [&](const dnnl::memory::desc& md) {
    return pixel_row_desc(channels, pixels, md.data_type());
  };
  try {
    dnnl::binary::primitive_desc part(dnnl::binary::desc(dnnl::algorithm::binary_add, row(whole[0]),
                                                         row(whole[1]), row(whole[2])),
                                      attr, context.engine());
    if (is_reference_impl(part)) return std::nullopt;
    return part;
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

}  // namespace

bool match_int8_add(const MatchView& view, std::size_t index) {
  return view.reads_alias(index, 0) && is_same_shape_add(view.planned(index)) &&
         view.reads_alias(index, 1);
}

bool lower_int8_add(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const QuantizedAlias a = *context.alias_of(node.node->inputs[0]);
  const QuantizedAlias b = *context.alias_of(node.node->inputs[1]);
  const QuantizedChain chain = context.collect_quantized_chain(index);
  const float out_scale = chain.dst_scale();
  const double offset = -(static_cast<double>(a.quant.scale) * a.quant.zero_point +
                          static_cast<double>(b.quant.scale) * b.quant.zero_point) /
                        out_scale;
  const dnnl::memory::desc a_md = context.value(a.source).md;
  const dnnl::memory::desc b_md = with_type(a_md, type_of(context.value(b.source).md));
  const dnnl::memory::desc dst_md = with_type(a_md, chain.dst_type());
  dnnl::primitive_attr attr = context.base_attr();
  attr.set_scales(DNNL_ARG_SRC_0, 0, {a.quant.scale / out_scale});
  attr.set_scales(DNNL_ARG_SRC_1, 0, {b.quant.scale / out_scale});
  const std::optional<dnnl::post_ops> post_ops =
      quantized_post_ops(chain, 1.0f, static_cast<float>(offset));
  if (!post_ops) return false;
  attr.set_post_ops(*post_ops);
  std::optional<dnnl::binary::primitive_desc> pd;
  try {
    pd.emplace(dnnl::binary::desc(dnnl::algorithm::binary_add, a_md, b_md, dst_md), attr,
               context.engine());
  } catch (const dnnl::error&) {
    return false;
  }
  // oneDNN's reference binary (say, int8 sources into an f32 output) is far slower than
  // dequantizing both sources and adding in f32, which the f32 Add op does next.
  if (is_reference_impl(*pd)) return false;
  OpArgs args = {{DNNL_ARG_SRC_0, context.use_as(a.source, a_md)},
                 {DNNL_ARG_SRC_1, context.use_as(b.source, b_md)}};
  context.claim_chain(chain);
  args.emplace_back(DNNL_ARG_DST, context.define_new(chain.output, dst_md));
  const int threads = context.input().threads;
  const std::optional<PartedOp> parts =
      threads > 1 ? binary_in_pixel_parts(
                        *pd, element_count(node.outputs[0].shape) / a_md.dims()[1], threads,
                        context.engine(),
                        [&](std::int64_t pixels) {
                          return add_over_pixels(context, {a_md, b_md, dst_md}, attr, pixels);
                        })
                  : std::nullopt;
  if (parts) {
    context.add_compute_op(dnnl::binary(*pd), std::move(args), pd->scratchpad_desc(), *parts,
                           fmt::format(" in {} pixel parts", parts->max_parts));
    return true;
  }
  context.add_compute_op(dnnl::binary(*pd), std::move(args), pd->scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
