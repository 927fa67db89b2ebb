#pragma once
// A primitive made for a batch of b, run over a batch of chunks * b one chunk at a
// time. A plan for a new batch size uses it for a conv whose packed weight layout
// depends on the batch (Winograd), so that it shares the weights an earlier plan packed
// instead of packing its own.
#include <dnnl.hpp>

#include "region_context.h"

namespace edgeperf::runtime::onednn {

// `chunk_src` and `chunk_dst` are the primitive's own descriptors (batch b) in layouts
// where each sample is contiguous (see with_batch). The op reads DNNL_ARG_SRC and
// writes DNNL_ARG_DST at chunks * b, passing every other argument through.
CustomOp run_in_batch_chunks(dnnl::primitive primitive, const dnnl::engine& engine,
                             const dnnl::memory::desc& chunk_src,
                             const dnnl::memory::desc& chunk_dst, dnnl::memory::dim chunks);

}  // namespace edgeperf::runtime::onednn
