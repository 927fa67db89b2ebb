#pragma once
// The common tail of an op of ours that maps one 8-bit activation to another (a depthwise
// conv, a max pool, a layer norm): read the alias's bytes in `src_md`, claim the chain,
// define its output in `dst_md`, and run kernel->run(src, dst, threads) as a custom op.
#include <memory>
#include <string>

#include "../parted_ops.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

template <typename Kernel>
void add_byte_kernel_op(RegionContext& context, const QuantizedAlias& input,
                        const dnnl::memory::desc& src_md, const QuantizedChain& chain,
                        const dnnl::memory::desc& dst_md, std::shared_ptr<const Kernel> kernel,
                        std::string note = {}) {
  OpArgs args = {{DNNL_ARG_SRC, context.use_as(input.source, src_md)}};
  context.claim_chain(chain);
  args.emplace_back(DNNL_ARG_DST, context.define_new(chain.output, dst_md));
  const auto parts =
      static_cast<int>(std::clamp<std::int64_t>(kernel->max_parts(), 1, context.input().threads));
  context.add_compute_op(
      {}, std::move(args), dnnl::memory::desc(),
      PartedOp{parts,
               [kernel](const ArgMap& bound, int part, int count) {
                 kernel->run_part(
                     static_cast<const std::uint8_t*>(bound.at(DNNL_ARG_SRC).get_data_handle()),
                     static_cast<std::uint8_t*>(bound.at(DNNL_ARG_DST).get_data_handle()), part,
                     count);
               },
               {}},
      std::move(note));
}

}  // namespace edgeperf::runtime::onednn::ops
