#include "edgeperf/vision/quantized_input.h"

#include <algorithm>

#include "edgeperf/graph/editor.h"

namespace edgeperf::vision {
namespace {

// A scalar (or one-element) initializer of type T, or nullopt.
template <typename T>
std::optional<T> scalar(const graph::Graph& graph, const std::string& name) {
  const auto it = graph.initializers.find(name);
  if (it == graph.initializers.end() || it->second.numel() != 1 ||
      it->second.dtype() != dtype_of<T>())
    return std::nullopt;
  return it->second.data<T>()[0];
}

}  // namespace

std::optional<InputQuantization> take_input_quantization(graph::Graph& graph) {
  if (graph.inputs.size() != 1 || graph.inputs.front().dtype != DType::f32) return std::nullopt;
  const std::string input = graph.inputs.front().name;
  if (graph.use_count(input) != 1 || graph.is_output(input)) return std::nullopt;
  std::size_t index = 0;
  while (index < graph.nodes.size() &&
         std::find(graph.nodes[index].inputs.begin(), graph.nodes[index].inputs.end(), input) ==
             graph.nodes[index].inputs.end())
    ++index;
  if (index == graph.nodes.size()) return std::nullopt;
  const graph::Node& node = graph.nodes[index];
  if (node.op_type != "QuantizeLinear" || node.inputs.front() != input ||
      node.outputs.size() != 1 || graph.is_output(node.outputs.front()))
    return std::nullopt;
  const std::optional<float> scale = scalar<float>(graph, node.inputs.at(1));
  if (!scale || !(*scale > 0)) return std::nullopt;
  InputQuantization q;
  q.scale = *scale;
  if (node.has_input(2)) {
    if (const auto zp = scalar<std::uint8_t>(graph, node.inputs[2])) {
      q.zero_point = *zp;
    } else if (const auto signed_zp = scalar<std::int8_t>(graph, node.inputs[2])) {
      q.zero_point = *signed_zp;
      q.is_signed = true;
    } else {
      return std::nullopt;
    }
  }
  const std::string quantized = node.outputs.front();
  graph::Editor editor(graph);
  std::vector<bool> erase(graph.nodes.size(), false);
  erase[index] = true;
  editor.erase(erase);
  editor.replace_uses(quantized, input);
  graph.inputs.front().dtype = q.is_signed ? DType::i8 : DType::u8;
  return q;
}

}  // namespace edgeperf::vision
