#pragma once
// A pointwise conv (1x1, stride 1, no padding, one group) in a channels-last layout
// computes each output pixel from the same input pixel, so it can run as one part per
// thread over contiguous pixel ranges, each part a primitive of its own run on that
// thread. What runs next then reads mostly what its own thread wrote: with oneDNN's split
// (often output channels between threads) half of each thread's next input came from the
// other core's cache, and on 2 threads oneDNN's int8 1x1 convs of 10 us gained nothing.
#include <dnnl.hpp>
#include <functional>
#include <optional>
#include <vector>

#include "region_context.h"

namespace edgeperf::runtime::onednn {

using ConvPd = dnnl::convolution_forward::primitive_desc;

struct PixelPart {
  ConvPd pd;  // over [1, C, 1, pixels]
  std::int64_t first_pixel = 0;
};

// One part per thread over `pixels` split in contiguous ranges, each from `make_part`
// (the primitive over n pixels); none when `whole` is not channels-last, when there are
// fewer pixels than threads, or when a part is refused or wants other weights than `whole`.
std::vector<PixelPart> split_pixels(
    const ConvPd& whole, std::int64_t pixels, int threads,
    const std::function<std::optional<ConvPd>(std::int64_t pixels)>& make_part);

// [1, channels, 1, pixels] channels-last, the view a part reads or writes.
dnnl::memory::desc pixel_row_desc(std::int64_t channels, std::int64_t pixels,
                                  dnnl::memory::data_type type);

// Runs over a part's output after its primitive, on the part's thread.
using PartTail = std::function<void(void* dst, std::int64_t elements)>;

// The op over all parts (one per thread), `tail` (if set) on each part's output.
// Reads DNNL_ARG_SRC, WEIGHTS, BIAS (if any), DST (a sum post-op's operand), any other
// argument all parts share (a per-channel post-op operand) and a scratchpad of
// pixel_parts_scratchpad(parts).
PartedOp run_in_pixel_parts(const std::vector<PixelPart>& parts, const dnnl::engine& engine,
                            PartTail tail = {});
dnnl::memory::desc pixel_parts_scratchpad(const std::vector<PixelPart>& parts);

// A binary op whose sources and output are all channels-last in the shape of its output
// (a residual Add) as one primitive per part of the pixels, each from `make_part` (the
// primitive over [1, C, 1, n]); nullopt when the op is not of that form, when there are
// fewer pixels than threads, or when a part is refused or needs a scratchpad.
std::optional<PartedOp> binary_in_pixel_parts(
    const dnnl::binary::primitive_desc& whole, std::int64_t pixels, int threads,
    const dnnl::engine& engine,
    const std::function<std::optional<dnnl::binary::primitive_desc>(std::int64_t pixels)>&
        make_part);

}  // namespace edgeperf::runtime::onednn
