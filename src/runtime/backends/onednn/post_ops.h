#pragma once
// oneDNN post-ops for the nodes fused into an op: f32 chains (sum, activations) and
// int8 chains (requantization, activations as clips of the quantized value).
#include <dnnl.hpp>
#include <optional>
#include <vector>

#include "region_context.h"

namespace edgeperf::runtime::onednn {

// Post-ops of the first `count` links, without their final swish when `drop_final_swish`.
dnnl::post_ops make_post_ops(const std::vector<ChainLink>& links, std::size_t count,
                             bool drop_final_swish = false);
// The last post-op of the first `count` links is swish, x * sigmoid(x).
bool ends_in_swish(const std::vector<ChainLink>& links, std::size_t count);
// The link among the first `count` that sums into a residual operand, if any.
const ChainLink* sum_link(const std::vector<ChainLink>& links, std::size_t count);

// Post-ops of an int8 op whose scaled result is in output units: alpha * v + beta plus
// the output zero point, then the activations; nullopt when they cannot be expressed.
// A chain with a bridge needs alpha 1 and beta 0, and `dst_rank`, the rank of the op's
// output (channels on axis 1), for the Add's operand.
std::optional<dnnl::post_ops> quantized_post_ops(const QuantizedChain& chain, float alpha,
                                                 float beta, int dst_rank = 0);
// The arguments of those post-ops: the bridge's Add operand, if any.
OpArgs quantized_post_op_args(RegionContext& context, const QuantizedChain& chain,
                              const dnnl::post_ops& post_ops);

}  // namespace edgeperf::runtime::onednn
