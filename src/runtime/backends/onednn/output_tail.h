#pragma once
// Work of ours on a primitive's output right after it runs, in the same op (a profile
// shows them as one). A conv hands its trailing swish to it: see ops/conv.cpp.
#include <dnnl.hpp>

#include "region_context.h"
#include "swish.h"

namespace edgeperf::runtime::onednn {

// Runs `inner` (or, when it is empty, `primitive` itself), then swish over every float
// of DNNL_ARG_DST (padding included: swish(0) is 0), split over `threads` threads.
CustomOp then_swish(dnnl::primitive primitive, const dnnl::engine& engine, CustomOp inner,
                    int threads);

// swish from x to y (which may be x) in one contiguous part per thread, each of whole
// cache lines.
void swish_in_parts(const float* x, float* y, std::int64_t count, int threads);
// swish_dequantized from 8-bit q to y the same way.
void swish_dequantized_in_parts(const void* q, const Dequantization& dq, float* y,
                                std::int64_t count, int threads);

}  // namespace edgeperf::runtime::onednn
