// Which weights can be pruned, and the options' names.
#include <fmt/format.h>

#include <algorithm>

#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"
#include "edgeperf/prune/prune.h"

namespace edgeperf::prune {
namespace {

std::string node_id(const graph::Node& node) {
  return node.name.empty() ? node.outputs.at(0) : node.name;
}

// The axis of the weight (input 1) that the node reduces over, or nullopt when the node
// is not a layer we prune.
std::optional<std::int64_t> reduction_axis(const graph::Node& node, std::int64_t rank) {
  // ONNX Runtime's fused contrib ops (written by passes::optimize) keep Conv/Gemm weights.
  const bool fused = node.domain == "com.microsoft";
  if (!node.domain.empty() && !fused) return std::nullopt;
  const std::string op =
      fused && node.op_type.starts_with("Fused") ? node.op_type.substr(5) : node.op_type;
  if (op == "Conv" && rank >= 3) return 1;
  if (op == "Gemm" && rank == 2) return node.attr_int("transB", 0) != 0 ? 1 : 0;
  if (op == "MatMul" && rank >= 1 && !fused) return std::max<std::int64_t>(rank - 2, 0);
  return std::nullopt;
}

const Tensor* initializer(const graph::Graph& graph, const graph::Node& node, std::size_t index,
                          DType dtype) {
  if (!node.has_input(index)) return nullptr;
  const auto found = graph.initializers.find(node.inputs[index]);
  if (found == graph.initializers.end() || found->second.dtype() != dtype) return nullptr;
  return &found->second;
}

bool all_zero(const Tensor& tensor) {
  const std::vector<double> values = tensor.to_doubles();
  return std::all_of(values.begin(), values.end(), [](double v) { return v == 0.0; });
}

// A weight W = DequantizeLinear(int8 initializer, f32 scale[, zero point 0]): the layer
// prunes the int8 initializer. Returns the node or nullptr.
const graph::Node* weight_dequantizer(const graph::Graph& graph, const graph::Node& node) {
  if (!node.has_input(1)) return nullptr;
  const graph::Node* producer = graph.producer_of(node.inputs[1]);
  if (producer == nullptr || producer->op_type != "DequantizeLinear" || !producer->domain.empty())
    return nullptr;
  if (!initializer(graph, *producer, 0, DType::i8) ||
      !initializer(graph, *producer, 1, DType::f32)) {
    return nullptr;
  }
  if (producer->has_input(2)) {
    const auto zero_point = graph.initializers.find(producer->inputs[2]);
    if (zero_point == graph.initializers.end() || !all_zero(zero_point->second)) return nullptr;
  }
  return producer;
}

// The tensor the layer multiplies by, with the initializer holding its values, if any.
std::optional<PrunableLayer> layer_weight(const graph::Graph& graph, const graph::Node& node) {
  PrunableLayer layer;
  const Tensor* weight = initializer(graph, node, 1, DType::f32);
  if (weight != nullptr) {
    layer.weight = node.inputs[1];
  } else if (const graph::Node* dequantizer = weight_dequantizer(graph, node)) {
    weight = initializer(graph, *dequantizer, 0, DType::i8);
    layer.weight = dequantizer->inputs[0];
    layer.scale = dequantizer->inputs[1];
    const Tensor& scale = graph.initializers.at(layer.scale);
    if (scale.numel() > 1) {
      layer.scale_axis = dequantizer->attr_int("axis", 1);
      if (layer.scale_axis < 0) layer.scale_axis += weight->rank();
      if (layer.scale_axis < 0 || layer.scale_axis >= weight->rank() ||
          weight->dim(layer.scale_axis) != scale.numel()) {
        return std::nullopt;
      }
    }
  } else {
    return std::nullopt;
  }
  layer.shape = weight->shape();
  layer.params = weight->numel();
  return layer;
}

bool used_once(const std::map<std::string, std::vector<std::size_t>>& consumers,
               const std::string& value) {
  const auto found = consumers.find(value);
  return found != consumers.end() && found->second.size() == 1;
}

}  // namespace

std::vector<PrunableLayer> find_prunable_layers(const graph::Graph& graph) {
  const auto consumers = graph::consumers_of(graph);
  std::vector<PrunableLayer> layers;
  for (const graph::Node& node : graph.nodes) {
    std::optional<PrunableLayer> layer = layer_weight(graph, node);
    if (!layer) continue;
    const auto axis = reduction_axis(node, static_cast<std::int64_t>(layer->shape.size()));
    const std::string& input = node.inputs[1];
    const bool read_once = used_once(consumers, input) && used_once(consumers, layer->weight) &&
                           std::count(node.inputs.begin(), node.inputs.end(), input) == 1;
    if (!axis || !read_once) continue;
    layer->node = node_id(node);
    layer->op_type = node.op_type;
    layer->reduction_axis = *axis;
    layers.push_back(std::move(*layer));
  }
  return layers;
}

std::map<std::string, std::string> default_exclusions(const std::vector<PrunableLayer>& layers) {
  std::map<std::string, std::string> excluded;
  if (layers.size() < 2) return excluded;
  const auto is_conv = [](const PrunableLayer& layer) { return layer.op_type.ends_with("Conv"); };
  if (is_conv(layers.front())) excluded[layers.front().node] = "first conv";
  if (!is_conv(layers.back())) excluded[layers.back().node] = "last FC";
  return excluded;
}

namespace {

constexpr auto kMethods = enum_names<Method>(
    "pruning method", {{Method::magnitude, "magnitude"}, {Method::two_four, "2:4"}});
constexpr auto kScopes =
    enum_names<Scope>("pruning scope", {{Scope::global, "global"}, {Scope::layer, "layer"}});

}  // namespace

Method parse_method(const std::string& name) {
  if (const std::optional<Method> method = kMethods.find(name)) return *method;
  // Channel pruning is a method of its own entry point (prune_channels), not a Method.
  fail("unknown pruning method '{}' (expected magnitude, channel or 2:4)", name);
}

Scope parse_scope(const std::string& name) { return kScopes.parse(name); }

double LayerReport::sparsity() const {
  return layer.params == 0 ? 0.0
                           : static_cast<double>(zeros_after) / static_cast<double>(layer.params);
}

std::int64_t count_zeros(const Tensor& weight) {
  if (weight.dtype() == DType::i8) {
    const auto values = weight.values<std::int8_t>();
    return std::count(values.begin(), values.end(), std::int8_t{0});
  }
  const auto values = weight.values<float>();
  return std::count(values.begin(), values.end(), 0.0f);
}

Tensor float_weight(const graph::Graph& graph, const PrunableLayer& layer) {
  const Tensor& weight = graph.initializers.at(layer.weight);
  if (!layer.quantized()) return weight.clone();
  const Tensor& scale = graph.initializers.at(layer.scale);
  const float* scales = scale.data<float>();
  const std::int8_t* q = weight.data<std::int8_t>();
  std::int64_t inner = 1;
  for (std::int64_t d = layer.scale_axis + 1; d < weight.rank(); ++d) inner *= weight.dim(d);
  Tensor out(DType::f32, weight.shape());
  float* values = out.data<float>();
  for (std::int64_t i = 0; i < weight.numel(); ++i) {
    const std::int64_t channel = layer.scale_axis < 0 ? 0 : (i / inner) % scale.numel();
    values[i] = static_cast<float>(q[i]) * scales[channel];
  }
  return out;
}

}  // namespace edgeperf::prune
