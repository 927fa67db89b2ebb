#pragma once
// The oneDNN region's op lowerings, one file each. `match` is a structural check that
// creates nothing; `lower` adds the node's ops to the region and returns false only
// when oneDNN has no primitive for it (or, for an int8 variant, a fused chain it cannot
// express), so that the next op in the table may take the node.
#include <cstddef>
#include <span>
#include <string_view>

#include "../region_context.h"

namespace edgeperf::runtime::onednn {

using MatchFn = bool (*)(const MatchView& view, std::size_t index);
using LowerFn = bool (*)(RegionContext& context, std::size_t index);

struct RegionOp {
  std::string_view name;
  MatchFn match;
  LowerFn lower;
};

// The op table in dispatch order (registry.cpp).
std::span<const RegionOp> region_ops();
// Some op can take node `index` in a region (no value is dequantized-int8 yet).
bool region_can_claim(const LoweringInput& input, std::size_t index);

namespace ops {

bool match_dequantize(const MatchView& view, std::size_t index);
bool lower_dequantize(RegionContext& context, std::size_t index);
bool match_qlinear(const MatchView& view, std::size_t index);
bool lower_qlinear(RegionContext& context, std::size_t index);
bool match_int8_conv(const MatchView& view, std::size_t index);
bool lower_int8_conv(RegionContext& context, std::size_t index);
bool match_int8_gemm(const MatchView& view, std::size_t index);
bool match_int8_matmul(const MatchView& view, std::size_t index);
bool lower_int8_matmul(RegionContext& context, std::size_t index);
bool lower_int8_gemm(RegionContext& context, std::size_t index);
bool match_int8_pool(const MatchView& view, std::size_t index);
bool lower_int8_pool(RegionContext& context, std::size_t index);
bool match_int8_add(const MatchView& view, std::size_t index);
bool match_int8_table(const MatchView& view, std::size_t index);
bool lower_int8_table(RegionContext& context, std::size_t index);
bool match_int8_activation(const MatchView& view, std::size_t index);
bool lower_int8_activation(RegionContext& context, std::size_t index);
bool match_int8_gate(const MatchView& view, std::size_t index);
bool lower_int8_gate(RegionContext& context, std::size_t index);
bool lower_int8_add(RegionContext& context, std::size_t index);
bool match_channel_shuffle(const MatchView& view, std::size_t index);
bool lower_channel_shuffle(RegionContext& context, std::size_t index);
bool match_int8_concat(const MatchView& view, std::size_t index);
bool lower_int8_concat(RegionContext& context, std::size_t index);
bool match_int8_reshape(const MatchView& view, std::size_t index);
bool lower_int8_reshape(RegionContext& context, std::size_t index);
bool match_int8_layer_norm(const MatchView& view, std::size_t index);
bool lower_int8_layer_norm(RegionContext& context, std::size_t index);
bool match_int8_transpose(const MatchView& view, std::size_t index);
bool lower_int8_transpose(RegionContext& context, std::size_t index);
bool match_requantize(const MatchView& view, std::size_t index);
bool lower_requantize(RegionContext& context, std::size_t index);
bool match_quantize(const MatchView& view, std::size_t index);
bool lower_quantize(RegionContext& context, std::size_t index);
bool match_conv(const MatchView& view, std::size_t index);
bool lower_conv(RegionContext& context, std::size_t index);
bool match_gemm(const MatchView& view, std::size_t index);
bool match_matmul(const MatchView& view, std::size_t index);
bool match_softmax(const MatchView& view, std::size_t index);
bool match_layer_norm(const MatchView& view, std::size_t index);
bool match_concat(const MatchView& view, std::size_t index);
bool lower_concat(RegionContext& context, std::size_t index);
bool match_transpose(const MatchView& view, std::size_t index);
bool lower_transpose(RegionContext& context, std::size_t index);
bool lower_layer_norm(RegionContext& context, std::size_t index);
bool lower_softmax(RegionContext& context, std::size_t index);
bool lower_matmul(RegionContext& context, std::size_t index);
bool lower_gemm(RegionContext& context, std::size_t index);
bool match_pool(const MatchView& view, std::size_t index);
bool lower_pool(RegionContext& context, std::size_t index);
bool match_resize(const MatchView& view, std::size_t index);
bool lower_resize(RegionContext& context, std::size_t index);
bool match_swish(const MatchView& view, std::size_t index);
bool lower_swish(RegionContext& context, std::size_t index);
bool match_eltwise(const MatchView& view, std::size_t index);
bool lower_eltwise(RegionContext& context, std::size_t index);
bool match_batch_norm(const MatchView& view, std::size_t index);
bool lower_batch_norm(RegionContext& context, std::size_t index);
bool match_binary(const MatchView& view, std::size_t index);
bool lower_binary(RegionContext& context, std::size_t index);
bool match_reshape(const MatchView& view, std::size_t index);
bool lower_reshape(RegionContext& context, std::size_t index);
bool match_slice(const MatchView& view, std::size_t index);
bool lower_slice(RegionContext& context, std::size_t index);
bool match_identity(const MatchView& view, std::size_t index);
bool lower_identity(RegionContext& context, std::size_t index);

// Shared by the int8 lowerings and QLinearConv/QLinearMatMul.
bool emit_int8_conv(RegionContext& context, std::size_t index, const ConvSpec& spec,
                    const QuantizedAlias& input, const QuantizedWeights& weights,
                    const QuantizedChain& chain);
bool emit_depthwise_u8(RegionContext& context, std::size_t index, const ConvSpec& spec,
                       const QuantizedAlias& input, const QuantizedWeights& weights,
                       const QuantizedChain& chain);
bool emit_int8_gemm(RegionContext& context, std::size_t index, const GemmSpec& spec,
                    const QuantizedAlias& input, const QuantizedWeights& weights,
                    const QuantizedChain& chain);

}  // namespace ops
}  // namespace edgeperf::runtime::onednn
