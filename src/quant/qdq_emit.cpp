// QDQ format, laid out as ONNX Runtime's quantizer does so that its QDQ fusions (and
// ours) recognize it: every quantized activation gets QuantizeLinear -> DequantizeLinear
// right after its producer (inserted nodes are unnamed and derived names short: the
// file-size targets of small models count every byte); weights are int8 initializers behind a
// DequantizeLinear; biases are int32 (scale = input scale * weight scale) behind a
// DequantizeLinear.
#include <fmt/format.h>

#include <algorithm>

#include "edgeperf/quant/quality.h"
#include "static_plan.h"

namespace edgeperf::quant::detail {
namespace {

class QdqEmitter {
 public:
  QdqEmitter(const graph::Graph& model, const QuantizeOptions& options, const StaticPlan& plan,
             RewriteOutput& output)
      : model_(model),
        options_(options),
        plan_(plan),
        output_(output),
        names_(model, graph::FreshNames::Scope::values_and_nodes) {}

  graph::Graph emit() {
    graph_ = model_;
    graph_.nodes.clear();
    graph_.value_info.clear();
    rename_quantized_values();
    find_direct_values();
    for (const graph::ValueInfo& input : model_.inputs) emit_qdq_after(input.name);
    for (std::size_t i = 0; i < model_.nodes.size(); ++i) {
      if (plan_.relus_fused.count(i) != 0) continue;
      graph::Node node = rename_outputs(model_.nodes[i]);
      if (plan_.is_target(i)) {
        emit_target(i, std::move(node));
      } else {
        read_quantized_inputs_dequantized(node);
        push(std::move(node));
      }
    }
    remove_unused_initializers(graph_);
    return graph_;
  }

 private:
  // As in ORT's layout, every consumer of a quantized value reads its DequantizeLinear
  // output, float ops included: the producer's output then feeds only its QuantizeLinear
  // (which QDQ fusions require), and a layer whose Relu was removed is only right after
  // the clamp that QuantizeLinear does.
  void read_quantized_inputs_dequantized(graph::Node& node) {
    for (std::string& input : node.inputs) {
      if (!input.empty() && direct_.count(input) == 0 && params_of(input) != nullptr) {
        input = dequantized_name(input);
      }
    }
  }

  // Outputs of same-scale ops (MaxPool, Flatten, ...) read only by same-scale ops with the
  // same parameters: a Q/DQ pair between them would change nothing, so none is written.
  void find_direct_values() {
    const auto uses = graph::consumers_of(model_);
    for (const std::size_t index : plan_.passthrough) {
      const std::string& value = model_.nodes[index].outputs.at(0);
      const std::string& source = plan_.quantized.at(value);
      const auto found = uses.find(value);
      const bool graph_output = dequantized_.count(current_name(value)) != 0;
      if (source == value || found == uses.end() || graph_output) continue;
      const bool all_same_scale =
          std::all_of(found->second.begin(), found->second.end(), [&](std::size_t consumer) {
            const graph::Node& node = model_.nodes[consumer];
            const auto params = plan_.quantized.find(node.outputs.at(0));
            return plan_.passthrough.count(consumer) != 0 && node.inputs[0] == value &&
                   params != plan_.quantized.end() && params->second == source;
          });
      if (all_same_scale) direct_.insert(current_name(value));
    }
  }

  // A quantized graph output keeps its name on the DequantizeLinear; its producer
  // writes `<name>_float` instead.
  void rename_quantized_values() {
    for (const graph::ValueInfo& output : model_.outputs) {
      if (plan_.quantized.count(output.name) == 0) continue;
      const std::string renamed = names_.take(output.name + "_float");
      renamed_[output.name] = renamed;
      dequantized_[renamed] = output.name;
    }
    // Quantized values inside the graph get short names too (the model's inputs and
    // outputs keep theirs).
    for (const auto& [value, source] : plan_.quantized) {
      const bool graph_io = model_.find_input(value) != nullptr || renamed_.count(value) != 0;
      if (!graph_io) renamed_[value] = stem(value);
    }
  }

  std::string current_name(const std::string& value) const {
    const auto found = renamed_.find(value);
    return found == renamed_.end() ? value : found->second;
  }

  graph::Node rename_outputs(graph::Node node) const {
    for (std::string& input : node.inputs) input = current_name(input);
    for (std::string& output : node.outputs) output = current_name(output);
    return node;
  }

  // The name quantized consumers read `value` under (its DequantizeLinear output).
  std::string dequantized_name(const std::string& value) {
    const auto found = dequantized_.find(value);
    if (found != dequantized_.end()) return found->second;
    return dequantized_[value] = names_.take(stem(value) + "_dq");
  }

  void push(graph::Node node) {
    const std::vector<std::string> outputs = node.outputs;
    graph_.nodes.push_back(std::move(node));
    for (const std::string& output : outputs) emit_qdq_after(output);
  }

  // `value` is a current name; its plan entry is under the original name.
  const QuantParams* params_of(const std::string& value) const {
    std::string original = value;
    for (const auto& [from, to] : renamed_) {
      if (to == value) original = from;
    }
    const auto found = plan_.params.find(original);
    return found == plan_.params.end() ? nullptr : &found->second;
  }

  // Short stems keep the many derived names small (the file size targets count them).
  std::string stem(const std::string& value) {
    constexpr std::size_t kMaxStem = 4;
    if (value.size() <= kMaxStem) return value;
    const auto found = stems_.find(value);
    if (found != stems_.end()) return found->second;
    return stems_[value] = names_.take(fmt::format("t{}", stems_.size()));
  }

  // Scale and zero-point initializers, shared by every value with the same parameters.
  std::pair<std::string, std::string> activation_params(const std::string& value,
                                                        const QuantParams& params) {
    std::string original = value;
    for (const auto& [from, to] : renamed_) {
      if (to == value) original = from;
    }
    const std::string& source = plan_.quantized.at(original);
    const auto found = param_names_.find(source);
    if (found != param_names_.end()) return found->second;
    const std::string base = stem(current_name(source));
    const std::string scale = names_.take(base + "_s");
    const std::string zero_point = names_.take(base + "_zp");
    graph_.initializers[scale] = scale_tensor(params);
    graph_.initializers[zero_point] = zero_point_tensor(params);
    return param_names_[source] = {scale, zero_point};
  }

  void emit_qdq_after(const std::string& value) {
    const QuantParams* params = params_of(value);
    if (params == nullptr || direct_.count(value) != 0) return;
    const auto [scale, zero_point] = activation_params(value, *params);
    const std::string base = stem(value);
    const std::string quantized = names_.take(base + "_q");
    graph_.nodes.push_back(
        graph::make_node("QuantizeLinear", "", {value, scale, zero_point}, {quantized}));
    graph_.nodes.push_back(graph::make_node("DequantizeLinear", "", {quantized, scale, zero_point},
                                            {dequantized_name(value)}));
  }

  // DequantizeLinear(initializer_q, scale[, zero_point][, axis]) -> its output name. A zero
  // point of all zeros is left out (0 is the default; the dtype comes from the data).
  std::string emit_constant_dequantize(const std::string& value, Tensor quantized,
                                       const QuantParams& params) {
    const std::string base = stem(value);
    const std::string q_name = names_.take(base + "_q");
    const std::string scale = names_.take(base + "_s");
    graph_.initializers[q_name] = std::move(quantized);
    graph_.initializers[scale] = scale_tensor(params);
    std::vector<std::string> inputs{q_name, scale};
    const bool zero_points_all_zero = std::all_of(
        params.zero_point.begin(), params.zero_point.end(), [](std::int32_t z) { return z == 0; });
    if (!zero_points_all_zero) {
      inputs.push_back(names_.take(base + "_zp"));
      graph_.initializers[inputs.back()] = zero_point_tensor(params);
    }
    std::map<std::string, graph::AttrValue> attrs;
    if (params.per_channel()) attrs["axis"] = params.axis;
    const std::string output = names_.take(base + "_dq");
    graph_.nodes.push_back(
        graph::make_node("DequantizeLinear", "", std::move(inputs), {output}, std::move(attrs)));
    return output;
  }

  void emit_target(std::size_t index, graph::Node node) {
    const WeightedNode& target = *plan_.target(index);
    const std::string input = model_.nodes[index].inputs[0];
    const QuantParams& input_params = plan_.params.at(input);
    const Tensor& weight = model_.initializers.at(target.weight);
    const QuantParams weight_params_ =
        weight_params(weight, options_.per_channel ? target.channel_axis : -1, options_.weights,
                      weight_bits_of(options_));
    node.inputs[0] = dequantized_name(current_name(input));
    Tensor weight_q = quantize_tensor(weight, weight_params_);
    if (!target.bias.empty()) {
      const Tensor bias = corrected_bias(index, target, weight_q, weight_params_);
      node.inputs[2] = emit_bias(target, bias, input_params.scale.at(0), weight_params_);
    }
    node.inputs[1] = emit_constant_dequantize(target.weight, std::move(weight_q), weight_params_);
    node.outputs[0] = current_name(plan_.target_output(model_, index));
    // Compared after its QuantizeLinear/DequantizeLinear: what the next layer reads.
    const bool quantized_output = params_of(node.outputs[0]) != nullptr;
    output_.compare_values[node_id(model_.nodes[index])] = {
        plan_.target_output(model_, index),
        quantized_output ? dequantized_name(node.outputs[0]) : node.outputs[0]};
    output_.log.push_back(fmt::format("quantized {}: int8 {} weights, {} activations", node.label(),
                                      options_.per_channel ? "per-channel" : "per-tensor",
                                      quant_type_name(options_.activations)));
    if (plan_.fused_relu.count(index) != 0) {
      const graph::Node& relu = model_.nodes[plan_.fused_relu.at(index)];
      output_.log.push_back(fmt::format("removed {}: its output range starts at 0", relu.label()));
    }
    push(std::move(node));
  }

  // The bias minus the layer's expected output error from weight rounding, when the
  // input's channel means fit the weight (else the bias unchanged).
  Tensor corrected_bias(std::size_t index, const WeightedNode& target, const Tensor& weight_q,
                        const QuantParams& params) {
    const graph::Node& node = model_.nodes[index];
    const Tensor bias = as_vector(model_.initializers.at(target.bias));
    if (!options_.bias_correction) return bias;
    const auto means = plan_.input_means.find(node.inputs[0]);
    if (means == plan_.input_means.end()) return bias;
    const Tensor& weight = model_.initializers.at(target.weight);
    const Tensor dequantized = dequantize_tensor(weight_q, params);
    const std::size_t channels = static_cast<std::size_t>(
        node.op_type == "Conv" ? weight.dim(1) * node.attr_int("group", 1)
                               : weight.dim(target.weight_is_k_by_n ? 0 : 1));
    if (means->second.size() != channels) return bias;
    output_.log.push_back(fmt::format("bias-corrected {}", node.label()));
    if (node.op_type == "Conv") {
      return corrected_conv_bias(weight, dequantized, bias, means->second,
                                 node.attr_int("group", 1));
    }
    return corrected_matmul_bias(weight, dequantized, bias, means->second,
                                 !target.weight_is_k_by_n);
  }

  std::string emit_bias(const WeightedNode& target, const Tensor& bias, float input_scale,
                        const QuantParams& weight_params_) {
    QuantParams bias_params;
    bias_params.dtype = DType::i32;
    for (std::int64_t c = 0; c < bias.numel(); ++c) {
      const float weight_scale =
          weight_params_.scale[weight_params_.per_channel() ? static_cast<std::size_t>(c) : 0];
      bias_params.scale.push_back(input_scale * weight_scale);
      bias_params.zero_point.push_back(0);
    }
    bias_params.axis = 0;
    return emit_constant_dequantize(target.bias, quantize_bias(bias, input_scale, weight_params_),
                                    bias_params);
  }

  const graph::Graph& model_;
  const QuantizeOptions& options_;
  const StaticPlan& plan_;
  RewriteOutput& output_;
  graph::FreshNames names_;
  graph::Graph graph_;
  std::map<std::string, std::string> renamed_;      // original -> current value name
  std::map<std::string, std::string> dequantized_;  // current name -> DequantizeLinear output
  std::map<std::string, std::string> stems_;        // long value name -> short stem
  std::set<std::string> direct_;  // values (current names) read without a Q/DQ pair
  // Plan parameter source -> its scale and zero-point initializers.
  std::map<std::string, std::pair<std::string, std::string>> param_names_;
};

}  // namespace

graph::Graph emit_qdq(const graph::Graph& model, const QuantizeOptions& options,
                      const StaticPlan& plan, RewriteOutput& output) {
  return QdqEmitter(model, options, plan, output).emit();
}

}  // namespace edgeperf::quant::detail
