// Graph-editing helpers shared by the quantization rewrites.
#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "rewrite.h"

namespace edgeperf::quant::detail {

std::string node_id(const graph::Node& node) {
  return node.name.empty() && !node.outputs.empty() ? node.outputs.front() : node.name;
}

NameAllocator::NameAllocator(const graph::Graph& graph) {
  for (const graph::ValueInfo& input : graph.inputs) taken_.insert(input.name);
  for (const graph::ValueInfo& output : graph.outputs) taken_.insert(output.name);
  for (const auto& [name, tensor] : graph.initializers) taken_.insert(name);
  for (const graph::Node& node : graph.nodes) {
    taken_.insert(node.name);
    taken_.insert(node.inputs.begin(), node.inputs.end());
    taken_.insert(node.outputs.begin(), node.outputs.end());
  }
}

std::string NameAllocator::fresh() {
  std::string name;
  do {
    name = fmt::format("t{}", next_++);
  } while (taken_.count(name) != 0);
  taken_.insert(name);
  return name;
}

std::string NameAllocator::take(const std::string& base) {
  std::string name = base;
  for (int suffix = 1; taken_.count(name) != 0; ++suffix) name = fmt::format("{}_{}", base, suffix);
  taken_.insert(name);
  return name;
}

bool is_weighted_op(const graph::Node& node) {
  return node.domain.empty() &&
         (node.op_type == "Conv" || node.op_type == "Gemm" || node.op_type == "MatMul");
}

namespace {

const Tensor* float_initializer(const graph::Graph& graph, const graph::Node& node,
                                std::size_t index) {
  if (!node.has_input(index)) return nullptr;
  const auto found = graph.initializers.find(node.inputs[index]);
  if (found == graph.initializers.end() || found->second.dtype() != DType::f32) return nullptr;
  return &found->second;
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

graph::Node make_node(std::string op_type, std::string name, std::vector<std::string> inputs,
                      std::vector<std::string> outputs,
                      std::map<std::string, graph::AttrValue> attrs) {
  graph::Node node;
  node.op_type = std::move(op_type);
  node.name = std::move(name);
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attrs = std::move(attrs);
  return node;
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
