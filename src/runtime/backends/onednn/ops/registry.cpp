#include <algorithm>
#include <array>

#include "ops.h"

namespace edgeperf::runtime::onednn {
namespace {

using namespace ops;

// The op table: plain data, tried in this order. An int8 variant comes before the f32
// op of the same node type, which takes the node when the int8 one declines.
constexpr std::array kRegionOps{
    RegionOp{"DequantizeLinear", match_dequantize, lower_dequantize},
    RegionOp{"QLinearConv/QLinearMatMul", match_qlinear, lower_qlinear},
    RegionOp{"int8 Conv", match_int8_conv, lower_int8_conv},
    RegionOp{"int8 Gemm/MatMul", match_int8_gemm, lower_int8_gemm},
    RegionOp{"int8 N-D MatMul", match_int8_matmul, lower_int8_matmul},
    RegionOp{"int8 pooling", match_int8_pool, lower_int8_pool},
    RegionOp{"int8 Add", match_int8_add, lower_int8_add},
    RegionOp{"int8 elementwise table", match_int8_table, lower_int8_table},
    RegionOp{"int8 activation (+ its pool)", match_int8_activation, lower_int8_activation},
    RegionOp{"int8 squeeze-excite gate", match_int8_gate, lower_int8_gate},
    RegionOp{"int8 Flatten/Reshape", match_int8_reshape, lower_int8_reshape},
    RegionOp{"int8 Transpose", match_int8_transpose, lower_int8_transpose},
    RegionOp{"int8 LayerNormalization", match_int8_layer_norm, lower_int8_layer_norm},
    RegionOp{"Concat + channel shuffle", match_channel_shuffle, lower_channel_shuffle},
    RegionOp{"int8 Concat", match_int8_concat, lower_int8_concat},
    RegionOp{"requantize", match_requantize, lower_requantize},
    RegionOp{"QuantizeLinear", match_quantize, lower_quantize},
    RegionOp{"Conv", match_conv, lower_conv},
    RegionOp{"Gemm/MatMul", match_gemm, lower_gemm},
    RegionOp{"batched MatMul", match_matmul, lower_matmul},
    RegionOp{"Softmax", match_softmax, lower_softmax},
    RegionOp{"LayerNormalization", match_layer_norm, lower_layer_norm},
    RegionOp{"Concat", match_concat, lower_concat},
    RegionOp{"Transpose", match_transpose, lower_transpose},
    RegionOp{"pooling", match_pool, lower_pool},
    RegionOp{"linear Resize", match_resize, lower_resize},
    RegionOp{"Sigmoid + Mul (swish)", match_swish, lower_swish},
    RegionOp{"activation", match_eltwise, lower_eltwise},
    RegionOp{"BatchNormalization", match_batch_norm, lower_batch_norm},
    RegionOp{"Add", match_binary, lower_binary},
    RegionOp{"Flatten/Reshape", match_reshape, lower_reshape},
    RegionOp{"Identity/zero Pad", match_identity, lower_identity},
    RegionOp{"Slice", match_slice, lower_slice},
};

}  // namespace

std::span<const RegionOp> region_ops() { return kRegionOps; }

bool region_can_claim(const LoweringInput& input, std::size_t index) {
  if (input.nodes[index].node == nullptr) return false;
  const MatchView view(input);
  try {
    return std::any_of(kRegionOps.begin(), kRegionOps.end(),
                       [&](const RegionOp& op) { return op.match(view, index); });
  } catch (const Error&) {
    return false;  // a malformed attribute: the reference backend reports it
  }
}

}  // namespace edgeperf::runtime::onednn
