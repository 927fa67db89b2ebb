#pragma once
// oneDNN post-ops for the nodes fused into an op: f32 chains (sum, activations) and
// int8 chains (requantization, activations as clips of the quantized value).
#include <dnnl.hpp>
#include <optional>
#include <vector>

#include "region_context.h"

namespace edgeperf::runtime::onednn {

// Post-ops of the first `count` links.
dnnl::post_ops make_post_ops(const std::vector<ChainLink>& links, std::size_t count);
// The link among the first `count` that sums into a residual operand, if any.
const ChainLink* sum_link(const std::vector<ChainLink>& links, std::size_t count);

// Post-ops of an int8 op whose scaled result is in output units: alpha * v + beta plus
// the output zero point, then the activations; nullopt when they cannot be expressed.
std::optional<dnnl::post_ops> quantized_post_ops(const QuantizedChain& chain, float alpha,
                                                 float beta);

}  // namespace edgeperf::runtime::onednn
