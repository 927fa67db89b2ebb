// Dynamic quantization, as ONNX Runtime's dynamic quantizer lays it out: int8 weights
// stored, activations quantized at run time by DynamicQuantizeLinear, then
// MatMulInteger/ConvInteger -> Cast to float -> Mul by (input scale * weight scale)
// -> Add bias.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "rewrite.h"

namespace edgeperf::quant::detail {
namespace {

struct DynamicInput {
  std::string quantized, scale, zero_point;
};

class DynamicRewriter {
 public:
  DynamicRewriter(const graph::Graph& model, const QuantizeOptions& options, RewriteOutput& output)
      : model_(model),
        options_(options),
        output_(output),
        names_(model, graph::FreshNames::Scope::values_and_nodes) {}

  graph::Graph rewrite() {
    graph_ = model_;
    graph_.nodes.clear();
    graph_.value_info.clear();
    const std::vector<WeightedNode> targets = weighted_nodes(model_, options_.exclude);
    std::map<std::size_t, const WeightedNode*> by_index;
    for (const WeightedNode& target : targets) by_index[target.index] = &target;
    for (std::size_t i = 0; i < model_.nodes.size(); ++i) {
      const auto found = by_index.find(i);
      if (found == by_index.end()) {
        graph_.nodes.push_back(model_.nodes[i]);
      } else {
        rewrite_node(*found->second);
      }
    }
    remove_unused_initializers(graph_);
    return graph_;
  }

 private:
  const DynamicInput& quantized_input(const std::string& value) {
    const auto found = inputs_.find(value);
    if (found != inputs_.end()) return found->second;
    DynamicInput input{names_.take_short(), names_.take_short(), names_.take_short()};
    graph::Node node = graph::make_node("DynamicQuantizeLinear", "", {value},
                                        {input.quantized, input.scale, input.zero_point});
    graph_.nodes.push_back(std::move(node));
    return inputs_[value] = input;
  }

  std::string add_initializer(Tensor value) {
    const std::string name = names_.take_short();
    graph_.initializers[name] = std::move(value);
    return name;
  }

  // Weight zero points: left out when all 0 (the default), else one scalar when all equal
  // (ORT's ConvInteger needs that), else one per channel.
  std::optional<Tensor> weight_zero_point(const QuantParams& params) {
    const bool uniform = std::all_of(params.zero_point.begin(), params.zero_point.end(),
                                     [&](std::int32_t z) { return z == params.zero_point[0]; });
    if (!uniform) return zero_point_tensor(params);
    if (params.zero_point[0] == 0) return std::nullopt;
    QuantParams scalar = params;
    scalar.axis = -1;
    scalar.zero_point.resize(1);
    return zero_point_tensor(scalar);
  }

  void rewrite_node(const WeightedNode& target) {
    const graph::Node& node = model_.nodes[target.index];
    const bool conv = node.op_type == "Conv";
    const Tensor& weight = model_.initializers.at(target.weight);
    const Tensor stored_weight = target.weight_is_k_by_n || conv ? weight : transpose_2d(weight);
    // Per-channel axis of the stored weight: 0 for Conv [C, ...], 1 for [K, N].
    const std::int64_t axis = options_.per_channel ? (conv ? 0 : 1) : -1;
    const QuantParams params =
        weight_params(stored_weight, axis, options_.weights, weight_bits_of(options_));
    const std::string id = node_id(node);
    const DynamicInput& input = quantized_input(node.inputs[0]);
    const std::string weight_q = add_initializer(quantize_tensor(stored_weight, params));
    std::optional<Tensor> zero_point = weight_zero_point(params);
    const std::string weight_zp = zero_point ? add_initializer(*zero_point) : std::string();
    Tensor scale = scale_tensor(params);
    if (conv && params.per_channel()) {
      Shape broadcast(static_cast<std::size_t>(weight.rank() - 1), 1);
      broadcast[0] = weight.dim(0);
      scale = scale.reshaped(broadcast);  // [C, 1, 1] against [N, C, H, W]
    }
    const std::string weight_scale = add_initializer(scale);

    const std::string integer_out = names_.take_short();
    std::map<std::string, graph::AttrValue> attrs;
    if (conv) attrs = node.attrs;
    std::vector<std::string> inputs{input.quantized, weight_q, input.zero_point};
    if (!weight_zp.empty()) inputs.push_back(weight_zp);
    graph_.nodes.push_back(graph::make_node(conv ? "ConvInteger" : "MatMulInteger", node.name,
                                            std::move(inputs), {integer_out}, std::move(attrs)));
    const std::string as_float = names_.take_short();
    graph_.nodes.push_back(
        graph::make_node("Cast", "", {integer_out}, {as_float}, {{"to", std::int64_t{1}}}));
    const std::string scale_product = names_.take_short();
    graph_.nodes.push_back(
        graph::make_node("Mul", "", {input.scale, weight_scale}, {scale_product}));
    const std::string output = node.outputs[0];
    const std::string scaled = target.bias.empty() ? output : names_.take_short();
    graph_.nodes.push_back(graph::make_node("Mul", "", {as_float, scale_product}, {scaled}));
    if (!target.bias.empty()) add_bias(node, target, scaled, output);
    output_.compare_values[id] = {output, output};
    output_.log.push_back(fmt::format("quantized {} dynamically: int8 {} weights", node.label(),
                                      params.per_channel() ? "per-channel" : "per-tensor"));
  }

  void add_bias(const graph::Node& node, const WeightedNode& target, const std::string& scaled,
                const std::string& output) {
    Tensor bias = as_vector(model_.initializers.at(target.bias));
    if (node.op_type == "Conv") {
      const Tensor& weight = model_.initializers.at(target.weight);
      Shape broadcast(static_cast<std::size_t>(weight.rank() - 1), 1);
      broadcast[0] = bias.numel();
      bias = bias.reshaped(broadcast);
    }
    const std::string bias_name = add_initializer(bias);
    graph_.nodes.push_back(graph::make_node("Add", "", {scaled, bias_name}, {output}));
  }

  const graph::Graph& model_;
  const QuantizeOptions& options_;
  RewriteOutput& output_;
  graph::FreshNames names_;
  graph::Graph graph_;
  std::map<std::string, DynamicInput> inputs_;
};

}  // namespace

RewriteOutput rewrite_dynamic(const graph::Graph& model, const QuantizeOptions& options) {
  RewriteOutput output;
  output.model = DynamicRewriter(model, options, output).rewrite();
  add_weighted_layer_rows(model, options, "int8", "dynamic activations", output);
  return output;
}

}  // namespace edgeperf::quant::detail
