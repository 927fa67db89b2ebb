// Weights-only FP16: float initializers are stored as float16 behind a Cast to float,
// so the file halves and every op still computes (and outputs) in float.
#include <fmt/format.h>

#include <cmath>

#include "rewrite.h"

namespace edgeperf::quant::detail {
namespace {

Tensor to_half(const Tensor& value) {
  Tensor half(DType::f16, value.shape());
  const std::span<const float> source = value.values<float>();
  std::uint16_t* target = half.data<std::uint16_t>();
  for (std::size_t i = 0; i < source.size(); ++i) target[i] = float_to_half(source[i]);
  return half;
}

bool fits_half(const Tensor& value) {
  constexpr float kHalfMax = 65504.0F;
  for (float x : value.values<float>()) {
    if (!(std::fabs(x) <= kHalfMax)) return false;
  }
  return true;
}

// Values consumed only by excluded nodes stay float.
bool used_by_included_node(const graph::Graph& model, const std::string& value,
                           const std::set<std::string>& exclude) {
  for (const graph::Node& node : model.nodes) {
    if (exclude.count(node_id(node)) != 0) continue;
    for (const std::string& input : node.inputs) {
      if (input == value) return true;
    }
  }
  return false;
}

}  // namespace

RewriteOutput rewrite_fp16(const graph::Graph& model, const QuantizeOptions& options) {
  RewriteOutput output;
  output.model = model;
  graph::Graph& graph = output.model;
  graph::FreshNames names(model, graph::FreshNames::Scope::values_and_nodes);
  std::vector<graph::Node> casts;
  std::size_t converted = 0;
  for (const auto& [name, value] : model.initializers) {
    // Tiny tensors (scalars, shape-like constants) gain nothing and may feed shape math.
    if (value.dtype() != DType::f32 || value.numel() < 16) continue;
    if (!used_by_included_node(model, name, options.exclude)) continue;
    if (!fits_half(value)) {
      output.log.push_back(
          fmt::format("kept '{}' in float: values beyond the float16 range", name));
      continue;
    }
    const std::string half_name = names.take(name + "_fp16");
    graph.initializers.erase(name);
    graph.initializers[half_name] = to_half(value);
    casts.push_back(graph::make_node("Cast", names.take(name + "_Cast"), {half_name}, {name},
                                     {{"to", std::int64_t{1}}}));
    ++converted;
  }
  graph.nodes.insert(graph.nodes.begin(), casts.begin(), casts.end());
  output.log.push_back(fmt::format("stored {} float initializers as float16", converted));
  for (const graph::Node& node : model.nodes) {
    if (!is_weighted_op(node)) continue;
    const bool excluded = options.exclude.count(node_id(node)) != 0;
    const bool converted_weight = node.has_input(1) && model.initializers.count(node.inputs[1]) &&
                                  graph.initializers.count(node.inputs[1]) == 0;
    LayerReport row{node_id(node), node.op_type, converted_weight ? "fp16" : "fp32", std::nan(""),
                    excluded ? "excluded" : "weights stored as float16"};
    if (converted_weight) output.compare_values[row.node] = {node.outputs[0], node.outputs[0]};
    output.layers.push_back(std::move(row));
  }
  return output;
}

}  // namespace edgeperf::quant::detail
