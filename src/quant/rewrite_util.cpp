// Graph-editing helpers shared by the quantization rewrites.

#include <cmath>
#include <cstring>

#include "rewrite.h"

namespace edgeperf::quant::detail {

std::string node_id(const graph::Node& node) {
  return node.name.empty() && !node.outputs.empty() ? node.outputs.front() : node.name;
}

bool is_weighted_op(const graph::Node& node) {
  return node.domain.empty() &&
         (node.op_type == "Conv" || node.op_type == "Gemm" || node.op_type == "MatMul");
}

namespace {

const Tensor* float_initializer(const graph::Graph& graph, const graph::Node& node,
                                std::size_t index) {
  return node.has_input(index) ? graph.f32_initializer(node.inputs[index]) : nullptr;
}

std::int64_t output_channels(const graph::Node& node, const Tensor& weight) {
  if (node.op_type == "Conv") return weight.dim(0);
  if (node.op_type == "Gemm" && node.attr_int("transB", 0) != 0) return weight.dim(0);
  return weight.dim(1);
}

}  // namespace

std::optional<std::string> unsupported_reason(const graph::Graph& graph, const graph::Node& node) {
  const Tensor* weight = float_initializer(graph, node, 1);
  if (weight == nullptr) return "weight is not a float initializer";
  if (float_initializer(graph, node, 0) != nullptr) return "input is a constant";
  if (node.op_type == "Conv" && weight->rank() < 3) return "Conv weight rank below 3";
  if (node.op_type != "Conv" && weight->rank() != 2) return "weight is not a matrix";
  if (node.op_type == "Gemm") {
    if (node.attr_int("transA", 0) != 0) return "Gemm with transA=1";
    if (node.attr_float("alpha", 1.0F) != 1.0F) return "Gemm with alpha != 1";
    if (node.has_input(2) && node.attr_float("beta", 1.0F) != 1.0F) return "Gemm with beta != 1";
  }
  if (node.has_input(2)) {
    const Tensor* bias = float_initializer(graph, node, 2);
    if (bias == nullptr) return "bias is not a float initializer";
    if (bias->numel() != output_channels(node, *weight)) return "bias is not one value per channel";
  }
  return std::nullopt;
}

std::vector<WeightedNode> weighted_nodes(const graph::Graph& graph,
                                         const std::set<std::string>& exclude) {
  std::vector<WeightedNode> found;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    const graph::Node& node = graph.nodes[i];
    if (!is_weighted_op(node) || exclude.count(node_id(node)) != 0) continue;
    if (unsupported_reason(graph, node).has_value()) continue;
    WeightedNode weighted;
    weighted.index = i;
    weighted.weight = node.inputs[1];
    weighted.bias = node.has_input(2) ? node.inputs[2] : std::string();
    const bool trans_b = node.op_type == "Gemm" && node.attr_int("transB", 0) != 0;
    weighted.weight_is_k_by_n = node.op_type != "Conv" && !trans_b;
    weighted.channel_axis = weighted.weight_is_k_by_n ? 1 : 0;
    found.push_back(weighted);
  }
  return found;
}

Tensor scalar_tensor(float value) { return make_tensor<float>({}, {value}); }

Tensor scale_tensor(const QuantParams& params) {
  const std::span<const float> values(params.scale);
  return make_tensor<float>(
      params.per_channel() ? Shape{static_cast<std::int64_t>(values.size())} : Shape{}, values);
}

Tensor zero_point_tensor(const QuantParams& params) {
  const std::int64_t count = static_cast<std::int64_t>(params.zero_point.size());
  Tensor zero_point(params.dtype, params.per_channel() ? Shape{count} : Shape{});
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int32_t value = params.zero_point[static_cast<std::size_t>(i)];
    if (params.dtype == DType::u8) {
      zero_point.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(value);
    } else if (params.dtype == DType::i8) {
      zero_point.data<std::int8_t>()[i] = static_cast<std::int8_t>(value);
    } else {
      zero_point.data<std::int32_t>()[i] = value;
    }
  }
  return zero_point;
}

Tensor transpose_2d(const Tensor& matrix) {
  EP_CHECK(matrix.rank() == 2, "transpose_2d needs a matrix, got {}",
           shape_to_string(matrix.shape()));
  const std::int64_t rows = matrix.dim(0), cols = matrix.dim(1);
  Tensor out(matrix.dtype(), {cols, rows});
  const std::size_t element = dtype_size(matrix.dtype());
  const auto* in = static_cast<const std::byte*>(matrix.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      std::memcpy(dst + (c * rows + r) * element, in + (r * cols + c) * element, element);
    }
  }
  return out;
}

Tensor as_vector(const Tensor& tensor) { return tensor.clone().reshaped({tensor.numel()}); }

void remove_unused_initializers(graph::Graph& graph) {
  std::set<std::string> used;
  for (const graph::Node& node : graph.nodes) used.insert(node.inputs.begin(), node.inputs.end());
  for (const graph::ValueInfo& output : graph.outputs) used.insert(output.name);
  std::erase_if(graph.initializers,
                [&](const auto& entry) { return used.count(entry.first) == 0; });
}

void rename_value(graph::Graph& graph, const std::string& from, const std::string& to) {
  for (graph::Node& node : graph.nodes) {
    for (std::string& input : node.inputs) {
      if (input == from) input = to;
    }
    for (std::string& output : node.outputs) {
      if (output == from) output = to;
    }
  }
  for (graph::ValueInfo& output : graph.outputs) {
    if (output.name == from) output.name = to;
  }
  for (graph::ValueInfo& info : graph.value_info) {
    if (info.name == from) info.name = to;
  }
}

void add_weighted_layer_rows(const graph::Graph& model, const QuantizeOptions& options,
                             const std::string& precision, const std::string& note,
                             RewriteOutput& output) {
  for (const graph::Node& node : model.nodes) {
    if (!is_weighted_op(node)) continue;
    LayerReport row{node_id(node), node.op_type, precision, std::nan(""), note};
    if (output.compare_values.count(row.node) == 0) {
      row.precision = "fp32";
      row.note = options.exclude.count(row.node) != 0
                     ? "excluded"
                     : "kept float: " + unsupported_reason(model, node).value_or("unsupported");
    }
    output.layers.push_back(std::move(row));
  }
}

}  // namespace edgeperf::quant::detail
