#include "int8_patterns.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgeperf::runtime::onednn {

bool cpu_has_vnni() {
  using dnnl::cpu_isa;
  switch (dnnl::get_effective_cpu_isa()) {
    case cpu_isa::avx512_core_vnni:
    case cpu_isa::avx512_core_bf16:
    case cpu_isa::avx512_core_amx:
    case cpu_isa::avx2_vnni:
      return true;
    default:
      return false;
  }
}

bool int8_products_exact(const Tensor& s8_weights) {
  if (cpu_has_vnni()) return true;
  const auto values = s8_weights.values<std::int8_t>();
  return std::all_of(values.begin(), values.end(),
                     [](std::int8_t value) { return value >= -64 && value <= 63; });
}

namespace {

using dnnl::memory;

bool is_runtime(const PlannedNode& node, std::size_t index) {
  return node.node->has_input(index) && index < node.inputs.size() &&
         (index >= node.constants.size() || node.constants[index] == nullptr);
}

const Tensor* constant_at(const PlannedNode& node, std::size_t index) {
  if (!node.node->has_input(index) || index >= node.constants.size()) return nullptr;
  return node.constants[index];
}

bool is_int8_dtype(DType dtype) { return dtype == DType::u8 || dtype == DType::i8; }

// Scale and zero point inputs as one per-tensor pair; the zero point's type (u8 when
// absent) is the quantized type.
std::optional<ActivationQuant> per_tensor_params(const PlannedNode& node,
                                                 std::size_t scale_index = 1,
                                                 std::size_t zero_index = 2) {
  const Tensor* scale = constant_at(node, scale_index);
  if (scale == nullptr || scale->dtype() != DType::f32 || scale->numel() != 1) return std::nullopt;
  ActivationQuant quant;
  quant.scale = scale->values<float>()[0];
  if (!(quant.scale > 0.0f) || !std::isfinite(quant.scale)) return std::nullopt;
  if (node.node->has_input(zero_index)) {
    const Tensor* zero_point = constant_at(node, zero_index);
    if (zero_point == nullptr || zero_point->numel() != 1 || !is_int8_dtype(zero_point->dtype())) {
      return std::nullopt;
    }
    quant.zero_point = static_cast<std::int32_t>(zero_point->to_doubles()[0]);
    quant.type = dnnl_type(zero_point->dtype());
  }
  return quant;
}

bool is_plain_quant_node(const PlannedNode& node, const char* op_type) {
  const graph::Node& graph_node = *node.node;
  return graph_node.op_type == op_type && graph_node.domain.empty() && is_runtime(node, 0) &&
         node.outputs.size() == 1 && node.outputs[0].numel() > 0 &&
         node.inputs[0].shape.size() >= 1 && node.inputs[0].shape.size() <= 5;
}

}  // namespace

memory::data_type dnnl_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return memory::data_type::f32;
    case DType::u8:
      return memory::data_type::u8;
    case DType::i8:
      return memory::data_type::s8;
    case DType::i32:
      return memory::data_type::s32;
    default:
      fail("onednn: no oneDNN data type for {}", dtype_name(dtype));
  }
}

bool is_int8(memory::data_type type) {
  return type == memory::data_type::u8 || type == memory::data_type::s8;
}

std::optional<ActivationQuant> parse_dequantize(const PlannedNode& node) {
  if (!is_plain_quant_node(node, "DequantizeLinear") || !is_int8_dtype(node.inputs[0].dtype) ||
      node.outputs[0].dtype != DType::f32) {
    return std::nullopt;
  }
  std::optional<ActivationQuant> quant = per_tensor_params(node);
  if (!quant || quant->type != dnnl_type(node.inputs[0].dtype)) return std::nullopt;
  return quant;
}

std::optional<ActivationQuant> parse_quantize(const PlannedNode& node) {
  if (!is_plain_quant_node(node, "QuantizeLinear") || node.inputs[0].dtype != DType::f32 ||
      !is_int8_dtype(node.outputs[0].dtype)) {
    return std::nullopt;
  }
  if (node.node->attr_int("saturate", 1) != 1) return std::nullopt;
  std::optional<ActivationQuant> quant = per_tensor_params(node);
  if (!quant || quant->type != dnnl_type(node.outputs[0].dtype)) return std::nullopt;
  return quant;
}

std::optional<QLinearSpec> parse_qlinear(const PlannedNode& node) {
  const graph::Node& graph_node = *node.node;
  const bool conv = graph_node.op_type == "QLinearConv";
  if ((!conv && graph_node.op_type != "QLinearMatMul") || !graph_node.domain.empty() ||
      !is_runtime(node, 0) || node.outputs.size() != 1 || node.outputs[0].numel() == 0 ||
      !is_int8_dtype(node.inputs[0].dtype) || node.inputs.size() < 8) {
    return std::nullopt;
  }
  QLinearSpec spec;
  const std::optional<ActivationQuant> input = per_tensor_params(node, 1, 2);
  const std::optional<ActivationQuant> output = per_tensor_params(node, 6, 7);
  if (!input || !output || input->type != dnnl_type(node.inputs[0].dtype)) return std::nullopt;
  spec.input = *input;
  spec.output = *output;
  const Tensor* weights = constant_at(node, 3);
  const Tensor* scales = constant_at(node, 4);
  const Tensor* zero_points = constant_at(node, 5);
  if (weights == nullptr || weights->dtype() != DType::i8 || weights->rank() != (conv ? 4 : 2) ||
      scales == nullptr || scales->dtype() != DType::f32 || scales->rank() > 1) {
    return std::nullopt;
  }
  if (node.node->has_input(5)) {
    if (zero_points == nullptr || zero_points->dtype() != DType::i8) return std::nullopt;
    for (std::int8_t zero : zero_points->values<std::int8_t>()) {
      if (zero != 0) return std::nullopt;
    }
  }
  spec.weights.values = weights;
  spec.weights.axis = conv ? 0 : 1;
  auto scale_values = scales->values<float>();
  spec.weights.scales.assign(scale_values.begin(), scale_values.end());
  if (spec.weights.scales.size() != 1 &&
      static_cast<std::int64_t>(spec.weights.scales.size()) != weights->dim(spec.weights.axis)) {
    return std::nullopt;
  }
  for (float scale : spec.weights.scales) {
    if (!(scale >= 0.0f) || !std::isfinite(scale)) return std::nullopt;
  }
  if (conv && node.node->has_input(8)) {
    spec.bias = constant_at(node, 8);
    if (spec.bias == nullptr || spec.bias->dtype() != DType::i32 ||
        spec.bias->numel() != weights->dim(0)) {
      return std::nullopt;
    }
  }
  if (!conv && node.node->has_input(8)) return std::nullopt;
  return spec;
}

std::optional<QuantizedWeights> find_quantized_weights(const LoweringInput& input,
                                                       const std::string& value) {
  const FoldedFrom* folded = input.folded_origin(value);
  if (folded == nullptr || folded->node->op_type != "DequantizeLinear" ||
      folded->inputs.size() < 2) {
    return std::nullopt;
  }
  const graph::Node* producer = folded->node;
  auto initializer = [&](std::size_t index) -> const Tensor* {
    return index < folded->inputs.size() ? folded->inputs[index] : nullptr;
  };
  const Tensor* values = initializer(0);
  const Tensor* scales = initializer(1);
  if (values == nullptr || values->dtype() != DType::i8 || scales == nullptr ||
      scales->dtype() != DType::f32 || scales->rank() > 1 || values->rank() < 1) {
    return std::nullopt;
  }
  if (producer->has_input(2)) {
    const Tensor* zero_points = initializer(2);
    if (zero_points == nullptr || zero_points->dtype() != DType::i8) return std::nullopt;
    for (std::int8_t zero : zero_points->values<std::int8_t>()) {
      if (zero != 0) return std::nullopt;
    }
  }
  QuantizedWeights weights;
  weights.values = values;
  weights.axis = producer->attr_int("axis", 1);
  if (weights.axis < 0) weights.axis += values->rank();
  auto scale_values = scales->values<float>();
  weights.scales.assign(scale_values.begin(), scale_values.end());
  if (weights.scales.size() != 1 &&
      (weights.axis < 0 || weights.axis >= values->rank() ||
       static_cast<std::int64_t>(weights.scales.size()) != values->dim(weights.axis))) {
    return std::nullopt;
  }
  for (float scale : weights.scales) {
    if (!(scale >= 0.0f) || !std::isfinite(scale)) return std::nullopt;
  }
  return weights;
}

std::optional<std::vector<EltwiseOp>> quantized_activation(const std::vector<EltwiseOp>& ops,
                                                           float scale, std::int32_t zero_point) {
  std::vector<EltwiseOp> result;
  const float zero = static_cast<float>(zero_point);
  for (const EltwiseOp& op : ops) {
    EltwiseOp clip{dnnl::algorithm::eltwise_clip};
    if (op.algorithm == dnnl::algorithm::eltwise_clip ||
        op.algorithm == dnnl::algorithm::eltwise_clip_v2) {
      clip.alpha = op.alpha / scale + zero;
      clip.beta = op.beta / scale + zero;
    } else if (op.algorithm == dnnl::algorithm::eltwise_relu && op.alpha == 0.0f) {
      clip.alpha = zero;
      clip.beta = std::numeric_limits<float>::max();
    } else {
      return std::nullopt;
    }
    result.push_back(clip);
  }
  return result;
}

Tensor dequantized_byte_values(const ActivationQuant& quant) {
  Tensor dequantized(DType::f32, {256});
  for (int byte = 0; byte < 256; ++byte) {
    const int q = quant.type == dnnl::memory::data_type::s8 ? static_cast<std::int8_t>(byte) : byte;
    dequantized.values<float>()[static_cast<std::size_t>(byte)] =
        quant.scale * static_cast<float>(q - quant.zero_point);
  }
  return dequantized;
}

}  // namespace edgeperf::runtime::onednn
