// QLinearConv / QLinearMatMul: the int8 conv and inner product of int8_conv.cpp and
// int8_gemm.cpp with their parameters taken from the node.
#include <optional>

#include "../gemm_weights.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

bool is_conv(const PlannedNode& node) { return node.node->op_type == "QLinearConv"; }

std::optional<ConvSpec> qlinear_conv_spec(const PlannedNode& node, const QLinearSpec& spec) {
  ConvSpec conv;
  conv.weights = spec.weights.values;
  conv.bias = spec.bias;
  return parse_conv_geometry(*node.node, node.inputs[0].shape, node.outputs[0].shape, conv);
}

GemmSpec qlinear_gemm_spec(const QLinearSpec& spec) {
  GemmSpec gemm;
  gemm.weights = spec.weights.values;
  return gemm;
}

}  // namespace

bool match_qlinear(const MatchView& view, std::size_t index) {
  const PlannedNode& node = view.planned(index);
  const std::optional<QLinearSpec> spec = parse_qlinear(node);
  // Where oneDNN's products would saturate, the reference backend runs it exactly.
  if (!spec || !int8_products_exact(*spec->weights.values)) return false;
  if (is_conv(node)) return qlinear_conv_spec(node, *spec).has_value();
  return node.inputs[0].shape.size() == 2 && node.outputs[0].shape.size() == 2 &&
         int8_weights_fit(qlinear_gemm_spec(*spec), spec->weights);
}

bool lower_qlinear(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const QLinearSpec spec = *parse_qlinear(node);
  const QuantizedAlias input{node.node->inputs[0], spec.input};
  QuantizedChain chain;
  chain.quant = spec.output;
  chain.output = context.output_of(index);
  if (is_conv(node)) {
    return emit_int8_conv(context, index, *qlinear_conv_spec(node, spec), input, spec.weights,
                          chain);
  }
  return emit_int8_gemm(context, index, qlinear_gemm_spec(spec), input, spec.weights, chain);
}

}  // namespace edgeperf::runtime::onednn::ops
