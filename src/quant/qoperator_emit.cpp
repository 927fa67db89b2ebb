// QOperator format: Conv -> QLinearConv (int32 bias inside), MatMul -> QLinearMatMul,
// Gemm -> QLinearMatMul on the [K, N] weight (a bias is added in float after a
// DequantizeLinear). A QuantizeLinear enters the quantized region where a value is
// first needed quantized, and a DequantizeLinear leaves it under the original name for
// every float consumer and graph output.
#include <fmt/format.h>

#include <algorithm>

#include "static_plan.h"

namespace edgeperf::quant::detail {
namespace {

std::pair<std::int32_t, std::int32_t> integer_range(DType dtype) {
  return dtype == DType::u8 ? std::pair{0, 255} : std::pair{-128, 127};
}

// The float range a set of parameters represents.
Range represented_range(const QuantParams& params) {
  const auto [low, high] = integer_range(params.dtype);
  const float scale = params.scale.at(0);
  const std::int32_t zero = params.zero_point.at(0);
  return {static_cast<float>(low - zero) * scale, static_cast<float>(high - zero) * scale};
}

class QOperatorEmitter {
 public:
  QOperatorEmitter(const graph::Graph& model, const QuantizeOptions& options,
                   const StaticPlan& plan, RewriteOutput& output)
      : model_(model),
        options_(options),
        plan_(plan),
        output_(output),
        names_(model, graph::FreshNames::Scope::values_and_nodes) {}

  graph::Graph emit() {
    graph_ = model_;
    graph_.nodes.clear();
    graph_.value_info.clear();
    uses_ = graph::consumers_of(model_);
    for (std::size_t i = 0; i < model_.nodes.size(); ++i) {
      if (plan_.relus_fused.count(i) != 0) continue;
      if (plan_.is_target(i)) {
        emit_target(i);
      } else {
        graph_.nodes.push_back(model_.nodes[i]);
      }
    }
    remove_unused_initializers(graph_);
    return graph_;
  }

 private:
  std::string add_initializer(const std::string& base, Tensor value) {
    const std::string name = names_.take(base);
    graph_.initializers[name] = std::move(value);
    return name;
  }

  struct ParamNames {
    std::string scale, zero_point;
  };

  ParamNames param_names(const std::string& value, const QuantParams& params) {
    return {add_initializer(value + "_scale", scale_tensor(params)),
            add_initializer(value + "_zero_point", zero_point_tensor(params))};
  }

  // The quantized name of a float value, quantizing it here the first time.
  std::string quantized(const std::string& value) {
    const auto found = quantized_.find(value);
    if (found != quantized_.end()) return found->second;
    const ParamNames params = param_names(value, plan_.params.at(value));
    const std::string name = names_.take(value + "_quantized");
    graph_.nodes.push_back(graph::make_node("QuantizeLinear",
                                            names_.take(value + "_QuantizeLinear"),
                                            {value, params.scale, params.zero_point}, {name}));
    return quantized_[value] = name;
  }

  void dequantize_to(const std::string& quantized_value, const ParamNames& params,
                     const std::string& float_name) {
    graph_.nodes.push_back(
        graph::make_node("DequantizeLinear", names_.take(float_name + "_DequantizeLinear"),
                         {quantized_value, params.scale, params.zero_point}, {float_name}));
  }

  void emit_target(std::size_t index) {
    const WeightedNode& target = *plan_.target(index);
    const graph::Node& node = model_.nodes[index];
    const std::string input = node.inputs[0];
    const std::string output = plan_.target_output(model_, index);
    const QuantParams& input_params = plan_.params.at(input);
    const bool conv = node.op_type == "Conv";
    const Tensor& weight = model_.initializers.at(target.weight);
    const Tensor stored = conv || target.weight_is_k_by_n ? weight : transpose_2d(weight);
    const std::int64_t axis = options_.per_channel ? (conv ? 0 : 1) : -1;
    const QuantParams weight_params_ =
        weight_params(stored, axis, options_.weights, weight_bits_of(options_));
    const std::string weight_q =
        add_initializer(target.weight + "_quantized", quantize_tensor(stored, weight_params_));
    const ParamNames weight_names = param_names(target.weight, weight_params_);
    const std::string input_q = quantized(input);
    const ParamNames input_names = param_names(input, input_params);
    const bool float_bias = !conv && !target.bias.empty();
    const QuantParams output_params =
        float_bias ? matmul_params(target, output) : plan_.params.at(output);
    const ParamNames output_names = param_names(output, output_params);
    const std::string output_q = names_.take(output + "_quantized");
    std::vector<std::string> inputs{input_q,
                                    input_names.scale,
                                    input_names.zero_point,
                                    weight_q,
                                    weight_names.scale,
                                    weight_names.zero_point,
                                    output_names.scale,
                                    output_names.zero_point};
    if (conv && !target.bias.empty()) {
      const Tensor bias = as_vector(model_.initializers.at(target.bias));
      inputs.push_back(
          add_initializer(target.bias + "_quantized",
                          quantize_bias(bias, input_params.scale.at(0), weight_params_)));
    }
    graph_.nodes.push_back(graph::make_node(
        conv ? "QLinearConv" : "QLinearMatMul", names_.take(node_id(node) + "_quant"),
        std::move(inputs), {output_q}, conv ? node.attrs : graph::Node{}.attrs));
    if (float_bias) {
      const std::string product = names_.take(output + "_matmul");
      dequantize_to(output_q, output_names, product);
      const std::string bias =
          add_initializer(target.bias + "_vector", as_vector(model_.initializers.at(target.bias)));
      graph_.nodes.push_back(graph::make_node("Add", names_.take(node_id(node) + "_bias_Add"),
                                              {product, bias}, {output}));
    } else {
      quantized_[output] = output_q;
      if (needs_float(output)) dequantize_to(output_q, output_names, output);
    }
    output_.compare_values[node_id(node)] = {output, output};
    output_.log.push_back(
        fmt::format("quantized {} as {}", node.label(), conv ? "QLinearConv" : "QLinearMatMul"));
  }

  // Parameters for a Gemm's product before its bias: the output range shifted by the
  // bias range, so the product is never clipped.
  QuantParams matmul_params(const WeightedNode& target, const std::string& output) const {
    const Range range = represented_range(plan_.params.at(output));
    const std::span<const float> bias = model_.initializers.at(target.bias).values<float>();
    const auto [low, high] = std::minmax_element(bias.begin(), bias.end());
    return params_for_range({range.min - *high, range.max - *low}, options_.activations);
  }

  // True when a float op or a graph output reads `value` (targets read it quantized).
  bool needs_float(const std::string& value) const {
    for (const graph::ValueInfo& output : model_.outputs) {
      if (output.name == value) return true;
    }
    const auto found = uses_.find(value);
    if (found == uses_.end()) return false;
    return std::any_of(found->second.begin(), found->second.end(), [&](std::size_t consumer) {
      return !plan_.is_target(consumer) || model_.nodes[consumer].inputs[0] != value;
    });
  }

  const graph::Graph& model_;
  const QuantizeOptions& options_;
  const StaticPlan& plan_;
  RewriteOutput& output_;
  graph::FreshNames names_;
  graph::Graph graph_;
  std::map<std::string, std::vector<std::size_t>> uses_;
  std::map<std::string, std::string> quantized_;  // float value -> its quantized value
};

}  // namespace

graph::Graph emit_qoperator(const graph::Graph& model, const QuantizeOptions& options,
                            const StaticPlan& plan, RewriteOutput& output) {
  return QOperatorEmitter(model, options, plan, output).emit();
}

}  // namespace edgeperf::quant::detail
