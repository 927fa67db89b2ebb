#pragma once
// The common tail of a conv or inner product (f32 or int8): pack the weights and bias
// once into the primitive's layout, define the output and add the op.
#include "../batch_chunks.h"
#include "../memory_descs.h"
#include "../output_tail.h"
#include "../pixel_parts.h"
#include "edgeperf/runtime/scoped_omp_threads.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

// Below this many multiply-adds an int8 conv or inner product ran 1 to 3 us slower on two
// threads than on one on our 2-vCPU machines: every squeeze-and-excitation conv of
// RegNetY, EfficientNet and MobileNetV3 (up to 230K) and RegNetY's 440K classifier; from
// 1.2M up (MobileNetV3-Large's and EfficientNet's classifiers) two threads gained.
constexpr std::int64_t kOneThreadMacs = 512 * 1024;

// The thread count to create (and so run) an int8 op of `macs` multiply-adds with: oneDNN
// fixes it when the primitive is made (scoped_omp_threads.h).
inline int int8_op_threads(const RegionContext& context, std::int64_t macs) {
  return macs < kOneThreadMacs ? 1 : context.input().threads;
}

struct WeightedOperands {
  std::string src;
  dnnl::memory::desc plain_weights;
  const void* weights = nullptr;
  dnnl::memory::desc plain_bias;  // empty: no bias
  const void* bias = nullptr;
};

// The op's arguments: src as `pd` reads it, the weights and bias packed once into its
// layouts, `extra_args`, and dst from `define_dst`, which defines the op's output (after
// the caller's claims) and returns its slot. With `chunks` > 1, `pd` is made for a part
// of the batch and the args cover the whole batch.
template <typename PrimitiveDesc, typename DefineDst>
OpArgs weighted_args(RegionContext& context, const PrimitiveDesc& pd,
                     const WeightedOperands& operands, OpArgs extra_args, DefineDst define_dst,
                     dnnl::memory::dim chunks = 1) {
  const auto whole = [&](const dnnl::memory::desc& md) {
    return chunks == 1 ? md : *with_batch(md, md.dims()[0] * chunks);
  };
  OpArgs args = {
      {DNNL_ARG_SRC, context.use_as(operands.src, whole(pd.src_desc()))},
      {DNNL_ARG_WEIGHTS, context.constant_slot(context.pack(
                             pd.weights_desc(), operands.plain_weights, operands.weights))}};
  if (operands.bias != nullptr) {
    args.emplace_back(DNNL_ARG_BIAS, context.constant_slot(context.pack(
                                         pd.bias_desc(), operands.plain_bias, operands.bias)));
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  args.emplace_back(DNNL_ARG_DST, define_dst(whole(pd.dst_desc())));
  return args;
}

// The op itself over weighted_args. With `chunks` > 1 it runs once per part of the
// batch (run_in_batch_chunks); `pd`'s src and dst layouts keep each sample contiguous.
// With `swish_tail`, swish runs over the f32 output after the primitive (output_tail.h).
template <typename Primitive, typename PrimitiveDesc, typename DefineDst>
void add_weighted_op(RegionContext& context, const PrimitiveDesc& pd,
                     const WeightedOperands& operands, OpArgs extra_args, DefineDst define_dst,
                     dnnl::memory::dim chunks = 1, bool swish_tail = false) {
  OpArgs args =
      weighted_args(context, pd, operands, std::move(extra_args), std::move(define_dst), chunks);
  Primitive primitive(pd);
  CustomOp custom;
  std::string note;
  if (chunks > 1) {
    custom = run_in_batch_chunks(primitive, context.engine(), pd.src_desc(), pd.dst_desc(), chunks);
    note = " (in parts of the batch)";
  }
  if (swish_tail) {
    custom = then_swish(primitive, context.engine(), std::move(custom), context.input().threads);
    note += " + edgeperf swish";
  }
  context.add_compute_op(std::move(primitive), std::move(args), pd.scratchpad_desc(),
                         std::move(custom), std::move(note));
}

// A conv over weighted_args (of `whole`, the conv over all pixels) run as one primitive
// per part of the pixels (pixel_parts.h), `tail` (if set) on each part's output.
template <typename DefineDst>
void add_conv_in_pixel_parts(RegionContext& context, const ConvPd& whole,
                             const std::vector<PixelPart>& parts, const WeightedOperands& operands,
                             OpArgs extra_args, DefineDst define_dst, PartTail tail = {},
                             const std::string& note_tail = "") {
  OpArgs args =
      weighted_args(context, whole, operands, std::move(extra_args), std::move(define_dst));
  const std::string note = fmt::format(" in {} pixel parts{}", parts.size(), note_tail);
  dnnl::primitive described = dnnl::convolution_forward(parts.front().pd);
  context.add_compute_op(std::move(described), std::move(args), pixel_parts_scratchpad(parts),
                         run_in_pixel_parts(parts, context.engine(), std::move(tail)), note);
}

}  // namespace edgeperf::runtime::onednn::ops
