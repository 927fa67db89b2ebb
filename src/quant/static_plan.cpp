// Static quantization: choose the values to quantize (inputs and outputs of the
// weighted layers, and of the ops between them that work on quantized data as ORT's
// QDQ format does), calibrate them, then emit QDQ or QOperator.
#include "static_plan.h"

#include <fmt/format.h>

#include <cmath>

#include "edgeperf/graph/ops/clip.h"

namespace edgeperf::quant::detail {
namespace {

// Ops whose output takes the input's parameters (they only move or select values).
bool is_same_scale_op(const std::string& op) {
  return op == "MaxPool" || op == "Flatten" || op == "Reshape" || op == "Transpose" ||
         op == "Squeeze" || op == "Unsqueeze";
}
// Ops run between Q/DQ pairs whose output gets its own calibrated range.
bool is_own_range_op(const std::string& op) {
  return op == "Relu" || op == "AveragePool" || op == "GlobalAveragePool";
}

// Clip(0, max) (ReLU6): its calibrated output range lies in [0, max], so the output
// QuantizeLinear clamps as the Clip does (at the calibrated maximum, not above it).
bool is_relu6_like_clip(const graph::Graph& graph, const graph::Node& node) {
  if (node.op_type != "Clip") return false;
  const auto low = graph::ops::read_clip_bound(graph, node, graph::ops::ClipBound::min);
  const auto* value = std::get_if<std::optional<float>>(&low);
  return value != nullptr && *value == 0.0F;
}

// The Relu consuming a target's output alone, which a uint8/int8-asym output range
// starting at 0 makes redundant (ORT's quantizer and ReluQuantFusion drop it too).
std::optional<std::size_t> fusable_relu(const graph::Graph& graph, std::size_t index,
                                        const std::map<std::string, std::vector<std::size_t>>& uses,
                                        const QuantizeOptions& options) {
  if (options.activations == QuantType::int8_sym) return std::nullopt;
  if (options.format == QuantFormat::qoperator && graph.nodes[index].has_input(2) &&
      graph.nodes[index].op_type == "Gemm") {
    return std::nullopt;  // QOperator Gemm adds its bias in float after the Relu-free matmul
  }
  const std::string& output = graph.nodes[index].outputs.at(0);
  const auto found = uses.find(output);
  if (found == uses.end() || found->second.size() != 1 || graph.is_output(output)) {
    return std::nullopt;
  }
  const graph::Node& consumer = graph.nodes[found->second.front()];
  const bool relu = consumer.op_type == "Relu" || is_relu6_like_clip(graph, consumer);
  if (!relu || !consumer.domain.empty()) return std::nullopt;
  if (options.exclude.count(node_id(consumer)) != 0) return std::nullopt;
  return found->second.front();
}

bool is_initializer(const graph::Graph& graph, const std::string& value) {
  return graph.initializers.count(value) != 0;
}

}  // namespace

bool StaticPlan::is_target(std::size_t index) const { return target(index) != nullptr; }

const WeightedNode* StaticPlan::target(std::size_t index) const {
  for (const WeightedNode& node : targets) {
    if (node.index == index) return &node;
  }
  return nullptr;
}

std::string StaticPlan::target_output(const graph::Graph& graph, std::size_t index) const {
  const auto fused = fused_relu.find(index);
  return fused == fused_relu.end() ? graph.nodes[index].outputs.at(0)
                                   : graph.nodes[fused->second].outputs.at(0);
}

StaticPlan plan_static(const graph::Graph& model, const QuantizeOptions& options) {
  StaticPlan plan;
  plan.targets = weighted_nodes(model, options.exclude);
  const auto uses = graph::consumers_of(model);
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    const graph::Node& node = model.nodes[i];
    if (plan.relus_fused.count(i) != 0) continue;
    if (plan.is_target(i)) {
      plan.quantized.try_emplace(node.inputs[0], node.inputs[0]);
      if (const auto relu = fusable_relu(model, i, uses, options)) {
        plan.fused_relu[i] = *relu;
        plan.relus_fused.insert(*relu);
      }
      // A graph output stays float: the logits gain nothing from rounding, and ORT
      // fuses DQ -> Gemm/MatMul without a Q after it (float-output QGemm/MatMulIntegerToFloat).
      const std::string output = plan.target_output(model, i);
      // (QOperator ops always produce quantized outputs.)
      if (!model.is_output(output) || options.format == QuantFormat::qoperator) {
        plan.quantized.try_emplace(output, output);
      }
      continue;
    }
    const bool eligible = node.domain.empty() && !node.inputs.empty() && node.outputs.size() == 1 &&
                          options.exclude.count(node_id(node)) == 0 &&
                          !is_initializer(model, node.inputs[0]);
    if (!eligible) continue;
    const auto input = plan.quantized.find(node.inputs[0]);
    if (input == plan.quantized.end()) continue;
    if (is_same_scale_op(node.op_type)) {
      plan.quantized.try_emplace(node.outputs[0], input->second);
      plan.passthrough.insert(i);
    } else if (is_own_range_op(node.op_type)) {
      plan.quantized.try_emplace(node.outputs[0], node.outputs[0]);
      plan.passthrough.insert(i);
    }
  }
  return plan;
}

void calibrate_plan(const graph::Graph& model, const QuantizeOptions& options,
                    SampleSource& calibration, StaticPlan& plan, std::vector<std::string>& log) {
  std::set<std::string> observed_set;
  for (const auto& [value, source] : plan.quantized) {
    if (value == source) observed_set.insert(value);
  }
  for (const WeightedNode& target : plan.targets)
    observed_set.insert(model.nodes[target.index].inputs[0]);
  if (observed_set.empty()) return;
  const std::vector<std::string> observed(observed_set.begin(), observed_set.end());
  const CalibrationResult result = calibrate(model, observed, calibration, options.calibration);
  for (const auto& [value, source] : plan.quantized) {
    const auto stats = result.values.find(source);
    EP_CHECK(stats != result.values.end(), "calibration did not observe value '{}'", source);
    const Range range = choose_range(stats->second, options.method, options.activations);
    plan.params[value] = params_for_range(range, options.activations);
  }
  for (const WeightedNode& target : plan.targets) {
    const std::string& input = model.nodes[target.index].inputs[0];
    plan.input_means[input] = result.values.at(input).channel_means();
  }
  log.push_back(fmt::format("calibrated {} values on {} samples with {}", observed.size(),
                            result.samples, method_name(options.method)));
}

std::vector<LayerReport> static_layer_rows(const graph::Graph& model, const StaticPlan& plan,
                                           const QuantizeOptions& options) {
  std::vector<LayerReport> rows;
  for (std::size_t i = 0; i < model.nodes.size(); ++i) {
    const graph::Node& node = model.nodes[i];
    if (!is_weighted_op(node)) continue;
    LayerReport row{node_id(node), node.op_type, "fp32", std::nan(""), ""};
    if (plan.is_target(i)) {
      row.precision = "int8";
      row.note = options.per_channel ? "per-channel weights" : "per-tensor weights";
      if (plan.fused_relu.count(i) != 0) {
        row.note +=
            ", " + model.nodes[plan.fused_relu.at(i)].op_type + " folded into the output range";
      }
    } else if (options.exclude.count(row.node) != 0) {
      row.note = "excluded";
    } else {
      row.note = "kept float: " + unsupported_reason(model, node).value_or("unsupported");
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

RewriteOutput rewrite_static(const graph::Graph& model, const QuantizeOptions& options,
                             SampleSource& calibration) {
  RewriteOutput output;
  StaticPlan plan = plan_static(model, options);
  calibrate_plan(model, options, calibration, plan, output.log);
  output.layers = static_layer_rows(model, plan, options);
  output.model = options.format == QuantFormat::qdq ? emit_qdq(model, options, plan, output)
                                                    : emit_qoperator(model, options, plan, output);
  return output;
}

}  // namespace edgeperf::quant::detail
