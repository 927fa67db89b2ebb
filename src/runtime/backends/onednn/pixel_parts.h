#pragma once
// A pointwise conv (1x1, stride 1, no padding) in a channels-last layout computes each
// output pixel from the same input pixel, so it can run as one part per thread over
// contiguous pixel ranges, each part a primitive of its own run on that thread. The
// swish after it then reads only what its own thread wrote: with oneDNN's split (output
// channels between threads) half of each thread's swish input came from the other core.
#include <dnnl.hpp>
#include <vector>

#include "region_context.h"

namespace edgeperf::runtime::onednn {

struct PixelPart {
  dnnl::convolution_forward::primitive_desc pd;  // over [1, C, 1, pixels]
  std::int64_t first_pixel = 0;
};

// The op over all parts (one per thread), with swish on each part's output.
// Reads DNNL_ARG_SRC, WEIGHTS, BIAS (if any) and DST (a sum post-op's operand) and a
// scratchpad of parts.size() * scratchpad_stride bytes (pixel_parts_scratchpad).
CustomOp run_in_pixel_parts_with_swish(std::vector<PixelPart> parts, const dnnl::engine& engine,
                                       std::int64_t in_channels, std::int64_t out_channels);
dnnl::memory::desc pixel_parts_scratchpad(const std::vector<PixelPart>& parts);

}  // namespace edgeperf::runtime::onednn
