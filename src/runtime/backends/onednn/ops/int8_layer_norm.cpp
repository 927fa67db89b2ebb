// DequantizeLinear (an int8 alias, row-major) -> LayerNormalization -> QuantizeLinear as one
// pass over the bytes (layer_norm_bytes.h): ConvNeXt's LayerNorm after its int8 depthwise
// conv, read through the NCHW -> NHWC Transpose view.
#include <memory>
#include <optional>

#include "../layer_norm_bytes.h"
#include "../memory_descs.h"
#include "byte_kernel_op.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

ByteQuantization byte_quantization(const ActivationQuant& quant) {
  return {quant.scale, quant.zero_point, quant.type == memory::data_type::s8};
}

std::vector<float> values_or(const Tensor* tensor, std::int64_t size, float fill) {
  if (tensor == nullptr) return std::vector<float>(static_cast<std::size_t>(size), fill);
  auto values = tensor->values<float>();
  return {values.begin(), values.end()};
}

}  // namespace

bool match_int8_layer_norm(const MatchView& view, std::size_t index) {
  return view.reads_alias(index, 0) && parse_layer_norm(view.planned(index)).has_value();
}

bool lower_int8_layer_norm(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const LayerNormSpec spec = *parse_layer_norm(node);
  const QuantizedAlias input = *context.alias_of(node.node->inputs[0]);
  const memory::desc src_md = plain_desc(node.inputs[0].shape, input.quant.type);
  if (context.value(input.source).md != src_md) return false;
  const QuantizedChain chain = context.collect_quantized_chain(index);
  if (!chain.quant || chain.bridge || !chain.eltwise.empty() || spec.scale->dtype() != DType::f32 ||
      (spec.bias && spec.bias->dtype() != DType::f32)) {
    return false;
  }
  LayerNormBytesParams params{spec.rows,
                              spec.size,
                              spec.epsilon,
                              byte_quantization(input.quant),
                              byte_quantization(*chain.quant),
                              values_or(spec.scale, spec.size, 1.0f),
                              values_or(spec.bias, spec.size, 0.0f)};
  auto kernel = std::make_shared<const LayerNormBytes>(std::move(params));
  add_byte_kernel_op(context, input, src_md, chain,
                     plain_desc(node.outputs[0].shape, chain.quant->type), kernel,
                     std::string(" layer norm ") + kernel->isa());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
