#include "trainable_graph.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "edgeperf/core/error.h"
#include "torch_ops.h"

namespace edgeperf::train::detail {
namespace {

constexpr double kMinScale = 1e-9;

bool is_weighted(const graph::Node& node) {
  return node.op_type == "Conv" || node.op_type == "Gemm" || node.op_type == "MatMul";
}

// The input slots of `node` that hold trainable float tensors, and which of them are
// weights (masked when they hold zeros).
struct TrainableSlots {
  std::vector<std::size_t> slots;
  std::vector<std::size_t> weights;
};

TrainableSlots trainable_slots(const graph::Node& node) {
  if (node.op_type == "Conv" || node.op_type == "Gemm") return {{1, 2}, {1}};
  if (node.op_type == "MatMul") return {{0, 1}, {0, 1}};
  if (node.op_type == "BatchNormalization") return {{1, 2}, {}};
  return {};
}

bool is_weight_slot(const graph::Node& node, std::size_t slot) {
  const TrainableSlots slots = trainable_slots(node);
  return std::find(slots.weights.begin(), slots.weights.end(), slot) != slots.weights.end();
}

// `values` shaped to broadcast along `axis` of a rank-`rank` tensor (a scalar stays one).
at::Tensor along_axis(const at::Tensor& values, std::int64_t axis, std::int64_t rank) {
  if (values.numel() == 1) return values.reshape({});
  std::vector<std::int64_t> shape(static_cast<std::size_t>(rank), 1);
  shape[static_cast<std::size_t>(axis)] = values.numel();
  return values.reshape(shape);
}

// `scale` with its value unchanged and its gradient multiplied by `factor` (LSQ).
at::Tensor gradient_scaled(const at::Tensor& scale, double factor) {
  return scale * factor + (scale - scale * factor).detach();
}

// round(x) forward, identity backward: the straight-through estimator.
at::Tensor round_through(const at::Tensor& x) { return (x.round() - x).detach() + x; }

at::Tensor fake_quant(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& offset,
                      std::int64_t qmin, std::int64_t qmax) {
  const at::Tensor q = at::clamp(round_through(x / scale) + offset, static_cast<double>(qmin),
                                 static_cast<double>(qmax));
  return (q - offset) * scale;
}

// The float and the quantized node read their weight in the same orientation.
bool same_layout(const graph::Node& a, const graph::Node& b) {
  return a.attr_int("transA", 0) == b.attr_int("transA", 0) &&
         a.attr_int("transB", 0) == b.attr_int("transB", 0);
}

bool is_integer_type(const at::Tensor& tensor) {
  return tensor.scalar_type() == at::kChar || tensor.scalar_type() == at::kByte ||
         tensor.scalar_type() == at::kInt;
}

// Range of a quantized type: [0, 255] for uint8, [-128, 127] for int8.
std::pair<std::int64_t, std::int64_t> type_range(const at::Tensor& typed) {
  if (typed.scalar_type() == at::kByte) return {0, 255};
  return {-128, 127};
}

}  // namespace

TrainableGraph::TrainableGraph(const graph::Graph& graph, const GraphConfig& config)
    : graph_(graph), config_(config) {
  EP_CHECK(graph_.inputs.size() == 1, "training needs a model with one input; this one has {}",
           graph_.inputs.size());
  EP_CHECK(!graph_.outputs.empty(), "the model has no outputs");
  for (const auto& [name, tensor] : graph_.initializers) constants_[name] = to_torch(tensor);
  const auto consumers = graph::consumers_of(graph_);
  for (const graph::Node& node : graph_.nodes) {
    if (node.op_type == "Constant") {
      EP_CHECK(node.has_attr("value"), "node {}: only Constant with 'value' is supported",
               node.label());
      constants_[node.outputs.at(0)] = to_torch(node.attr_tensor("value"));
      continue;
    }
    const bool qdq = node.op_type == "QuantizeLinear" || node.op_type == "DequantizeLinear";
    EP_CHECK(qdq || supports_op(node.op_type),
             "node {}: op {} is not supported by the training engine", node.label(), node.op_type);
    for (std::size_t output = 1; output < node.outputs.size(); ++output) {
      EP_CHECK(node.outputs[output].empty() || consumers.count(node.outputs[output]) == 0 ||
                   node.op_type == "Split",
               "node {}: output {} is read, and the training engine computes only the first",
               node.label(), output);
    }
  }
  if (config_.quantized) classify_quantized_nodes(consumers);
  if (config_.trainable) {
    for (const graph::Node& node : graph_.nodes) add_float_parameters(node);
  }
}

void TrainableGraph::classify_quantized_nodes(
    const std::map<std::string, std::vector<std::size_t>>& consumers) {
  for (const graph::Node& node : graph_.nodes) {
    if (node.op_type == "QuantizeLinear") {
      const auto readers = consumers.find(node.outputs[0]);
      add_activation_quant(
          node, readers == consumers.end() ? std::vector<std::size_t>{} : readers->second);
      continue;
    }
    if (node.op_type != "DequantizeLinear" || constants_.count(node.inputs[0]) == 0 ||
        !is_integer_type(constants_.at(node.inputs[0]))) {
      continue;
    }
    const auto readers = consumers.find(node.outputs[0]);
    if (readers == consumers.end() || readers->second.size() != 1) continue;
    const graph::Node& consumer = graph_.nodes[readers->second.front()];
    for (std::size_t slot = 0; slot < consumer.inputs.size(); ++slot) {
      if (consumer.inputs[slot] != node.outputs[0]) continue;
      if (is_weighted(consumer) && is_weight_slot(consumer, slot)) {
        add_weight_quant(node, consumer, slot);
      } else if (slot == 2 && consumer.op_type != "MatMul" && is_weighted(consumer) &&
                 constants_.at(node.inputs[0]).scalar_type() == at::kInt) {
        add_bias_quant(node, consumer);
      }
    }
  }
}

void TrainableGraph::add_activation_quant(const graph::Node& q,
                                          const std::vector<std::size_t>& readers) {
  EP_CHECK(q.has_input(1) && constants_.count(q.inputs[1]) != 0,
           "node {}: QuantizeLinear needs its scale as an initializer", q.label());
  ActivationQuant quant;
  quant.scale = q.inputs[1];
  const at::Tensor& scale = constants_.at(quant.scale);
  EP_CHECK(scale.numel() == 1, "node {}: per-channel activation quantization is not supported",
           q.label());
  if (q.has_input(2)) {
    const at::Tensor& zero_point = constants_.at(q.inputs[2]);
    std::tie(quant.qmin, quant.qmax) = type_range(zero_point);
    quant.offset = zero_point.to(at::kFloat).reshape({});
  } else {
    quant.offset = at::zeros({}, at::kFloat);  // uint8, zero point 0
  }
  for (std::size_t index : readers) {
    const graph::Node& reader = graph_.nodes[index];
    EP_CHECK(reader.op_type == "DequantizeLinear" && reader.inputs[1] == quant.scale,
             "node {}: its output is read by {}, not by a DequantizeLinear with the same "
             "scale: only QDQ models train (not QOperator)",
             q.label(), reader.label());
  }
  if (scales_.count(quant.scale) == 0) {
    scales_[quant.scale] = scale.clone().reshape({}).requires_grad_(config_.trainable);
  }
  activations_[q.outputs[0]] = std::move(quant);
}

at::Tensor TrainableGraph::float_master(const graph::Node& consumer, std::size_t slot,
                                        const at::Tensor& dequantized) const {
  if (config_.float_model == nullptr) return dequantized;
  for (const graph::Node& node : config_.float_model->nodes) {
    if (node.name.empty() || node.name != consumer.name || node.op_type != consumer.op_type ||
        !same_layout(node, consumer) || !node.has_input(slot)) {
      continue;
    }
    const Tensor* weight = config_.float_model->f32_initializer(node.inputs[slot]);
    if (weight == nullptr) return dequantized;
    at::Tensor master = to_torch(*weight);
    return master.sizes() == dequantized.sizes() ? master : dequantized;
  }
  return dequantized;
}

void TrainableGraph::add_weight_quant(const graph::Node& dq, const graph::Node& consumer,
                                      std::size_t slot) {
  WeightQuant quant;
  quant.integers = dq.inputs[0];
  quant.scale = dq.inputs[1];
  quant.zero_point = dq.has_input(2) ? dq.inputs[2] : "";
  const at::Tensor& integers = constants_.at(quant.integers);
  const at::Tensor scale = constants_.at(quant.scale).to(at::kFloat).flatten();
  const std::int64_t rank = integers.dim();
  if (scale.numel() > 1) {
    const std::int64_t axis = dq.attr_int("axis", 1);
    quant.axis = axis < 0 ? axis + rank : axis;
    EP_CHECK(quant.axis >= 0 && quant.axis < rank && integers.size(quant.axis) == scale.numel(),
             "node {}: {} scales for axis {} of a {}-d weight", dq.label(), scale.numel(), axis,
             rank);
  }
  quant.offset = quant.zero_point.empty()
                     ? at::zeros_like(scale)
                     : constants_.at(quant.zero_point).to(at::kFloat).flatten();
  if (integers.scalar_type() == at::kByte) {
    std::tie(quant.qmin, quant.qmax) = type_range(integers);
  } else {
    quant.qmax = (std::int64_t{1} << (config_.weight_bits - 1)) - 1;
    quant.qmin = -quant.qmax;
  }
  const at::Tensor dequantized =
      (integers.to(at::kFloat) - along_axis(quant.offset, quant.axis, rank)) *
      along_axis(scale, quant.axis, rank);
  quant.master =
      float_master(consumer, slot, dequantized).clone().requires_grad_(config_.trainable);
  quant.step = scale.clone().requires_grad_(config_.trainable);
  if (config_.trainable && (quant.master == 0).any().item<bool>()) {
    masks_[quant.integers] = (quant.master != 0).to(at::kFloat);
  }
  weights_[dq.outputs[0]] = std::move(quant);
}

void TrainableGraph::add_bias_quant(const graph::Node& dq, const graph::Node& consumer) {
  const auto dequantized_scale = [&](const std::string& value) -> const std::string* {
    const graph::Node* producer = graph_.producer_of(value);
    if (producer == nullptr || producer->op_type != "DequantizeLinear" || !producer->has_input(1) ||
        constants_.count(producer->inputs[1]) == 0) {
      return nullptr;
    }
    return &producer->inputs[1];
  };
  const std::string* input_scale = dequantized_scale(consumer.inputs[0]);
  const std::string* weight_scale = dequantized_scale(consumer.inputs[1]);
  if (input_scale == nullptr || weight_scale == nullptr) return;  // stays a constant
  BiasQuant quant;
  quant.integers = dq.inputs[0];
  quant.scale = dq.inputs[1];
  quant.weight_scale = *weight_scale;
  quant.input_scale = *input_scale;
  const at::Tensor scale = constants_.at(quant.scale).to(at::kFloat).flatten();
  quant.value = (constants_.at(quant.integers).to(at::kFloat).flatten() * scale)
                    .clone()
                    .requires_grad_(config_.trainable);
  biases_[dq.outputs[0]] = std::move(quant);
}

void TrainableGraph::add_float_parameters(const graph::Node& node) {
  for (std::size_t slot : trainable_slots(node).slots) {
    if (!node.has_input(slot)) continue;
    const std::string& name = node.inputs[slot];
    if (graph_.f32_initializer(name) == nullptr || floats_.count(name) != 0) continue;
    at::Tensor value = constants_.at(name).clone().requires_grad_(true);
    if (is_weight_slot(node, slot) && (value == 0).any().item<bool>()) {
      masks_[name] = (value != 0).to(at::kFloat);
    }
    floats_[name] = value;
  }
}

at::Tensor TrainableGraph::fake_quant_weight(const WeightQuant& quant) const {
  const std::int64_t rank = quant.master.dim();
  const double per_scale =
      static_cast<double>(quant.master.numel()) / static_cast<double>(quant.step.numel());
  const at::Tensor scale =
      gradient_scaled(along_axis(quant.step, quant.axis, rank),
                      1.0 / std::sqrt(per_scale * static_cast<double>(quant.qmax)));
  return fake_quant(quant.master, scale, along_axis(quant.offset, quant.axis, rank), quant.qmin,
                    quant.qmax);
}

at::Tensor TrainableGraph::fake_quant_activation(const at::Tensor& x,
                                                 const ActivationQuant& quant) const {
  const double per_sample =
      static_cast<double>(x.numel()) / static_cast<double>(std::max<std::int64_t>(1, x.size(0)));
  const at::Tensor scale = gradient_scaled(
      scales_.at(quant.scale), 1.0 / std::sqrt(per_sample * static_cast<double>(quant.qmax)));
  return fake_quant(x, scale, quant.offset, quant.qmin, quant.qmax);
}

at::Tensor TrainableGraph::lookup(const std::map<std::string, at::Tensor>& values,
                                  const std::string& name) const {
  if (name.empty()) return {};
  if (const auto value = values.find(name); value != values.end()) return value->second;
  if (const auto value = floats_.find(name); value != floats_.end()) return value->second;
  if (const auto value = constants_.find(name); value != constants_.end()) return value->second;
  fail("value '{}' is not available to the training engine", name);
}

at::Tensor TrainableGraph::forward(const at::Tensor& input) const {
  std::map<std::string, at::Tensor> values;
  values[graph_.inputs[0].name] = input;
  for (const graph::Node& node : graph_.nodes) {
    const std::string& out = node.outputs.at(0);
    if (node.op_type == "Constant") continue;
    if (node.op_type == "QuantizeLinear" && activations_.count(out) != 0) {
      values[out] = fake_quant_activation(lookup(values, node.inputs[0]), activations_.at(out));
      continue;
    }
    if (node.op_type == "DequantizeLinear") {
      if (const auto weight = weights_.find(out); weight != weights_.end()) {
        values[out] = fake_quant_weight(weight->second);
      } else if (const auto bias = biases_.find(out); bias != biases_.end()) {
        values[out] = bias->second.value;
      } else if (activations_.count(node.inputs[0]) != 0) {
        values[out] = values.at(node.inputs[0]);  // already dequantized by the fake quantizer
      } else {
        const at::Tensor integers = lookup(values, node.inputs[0]).to(at::kFloat);
        const at::Tensor scale = lookup(values, node.inputs[1]).to(at::kFloat);
        const at::Tensor offset = node.has_input(2) ? lookup(values, node.inputs[2]).to(at::kFloat)
                                                    : at::zeros_like(scale);
        const std::int64_t rank = integers.dim();
        const std::int64_t axis = node.attr_int("axis", 1);
        const std::int64_t normalized = axis < 0 ? axis + rank : axis;
        values[out] =
            (integers - along_axis(offset, normalized, rank)) * along_axis(scale, normalized, rank);
      }
      continue;
    }
    EP_CHECK(node.op_type != "QuantizeLinear",
             "node {}: QuantizeLinear with a computed scale is not supported", node.label());
    std::vector<at::Tensor> inputs;
    inputs.reserve(node.inputs.size());
    for (const std::string& name : node.inputs) inputs.push_back(lookup(values, name));
    std::vector<at::Tensor> outputs = run_op(node, inputs);
    for (std::size_t index = 0; index < outputs.size() && index < node.outputs.size(); ++index) {
      if (!node.outputs[index].empty()) values[node.outputs[index]] = std::move(outputs[index]);
    }
  }
  return lookup(values, graph_.outputs.front().name);
}

std::optional<std::int64_t> TrainableGraph::fixed_batch() const {
  const graph::ValueInfo& input = graph_.inputs.front();
  if (!input.has_shape || input.dims.empty() || !input.dims.front().is_static())
    return std::nullopt;
  return input.dims.front().size;
}

std::vector<at::Tensor> TrainableGraph::parameters() const {
  std::vector<at::Tensor> all;
  if (!config_.trainable) return all;
  for (const auto& [name, value] : floats_) all.push_back(value);
  for (const auto& [name, quant] : weights_) {
    all.push_back(quant.master);
    all.push_back(quant.step);
  }
  for (const auto& [name, quant] : biases_) all.push_back(quant.value);
  for (const auto& [name, scale] : scales_) all.push_back(scale);
  return all;
}

void TrainableGraph::after_step() {
  const at::NoGradGuard no_grad;
  for (const auto& [name, mask] : masks_) {
    if (const auto value = floats_.find(name); value != floats_.end()) value->second.mul_(mask);
  }
  for (auto& [name, quant] : weights_) {
    if (const auto mask = masks_.find(quant.integers); mask != masks_.end()) {
      quant.master.mul_(mask->second);
    }
    quant.step.clamp_min_(kMinScale);
  }
  for (auto& [name, scale] : scales_) scale.clamp_min_(kMinScale);
}

at::Tensor TrainableGraph::scale_value(const std::string& name) const {
  if (const auto scale = scales_.find(name); scale != scales_.end()) return scale->second.detach();
  return constants_.at(name).to(at::kFloat);
}

graph::Graph TrainableGraph::exported() const {
  const at::NoGradGuard no_grad;
  graph::Graph out = graph_;
  const auto store = [&](const std::string& name, const at::Tensor& value, DType dtype) {
    const Shape shape = graph_.initializers.at(name).shape();
    out.initializers[name] = from_torch(
        value.detach().reshape(std::vector<std::int64_t>(shape.begin(), shape.end())), dtype);
  };
  for (const auto& [name, value] : floats_) store(name, value, DType::f32);
  for (const auto& [name, scale] : scales_) store(name, scale, DType::f32);
  std::map<std::string, at::Tensor> weight_scales;  // trained, by scale initializer
  for (const auto& [output, quant] : weights_) {
    const std::int64_t rank = quant.master.dim();
    const at::Tensor scale = along_axis(quant.step.detach(), quant.axis, rank);
    const at::Tensor offset = along_axis(quant.offset, quant.axis, rank);
    const at::Tensor integers =
        at::clamp((quant.master.detach() / scale).round() + offset, static_cast<double>(quant.qmin),
                  static_cast<double>(quant.qmax));
    store(quant.integers, integers, graph_.initializers.at(quant.integers).dtype());
    store(quant.scale, quant.step, DType::f32);
    weight_scales[quant.scale] = quant.step.detach();
  }
  for (const auto& [output, quant] : biases_) {
    const auto trained = weight_scales.find(quant.weight_scale);
    const at::Tensor weight_scale =
        trained != weight_scales.end() ? trained->second
                                       : constants_.at(quant.weight_scale).to(at::kFloat).flatten();
    const std::int64_t count = quant.value.numel();
    const at::Tensor scale =
        (scale_value(quant.input_scale).reshape({}) * weight_scale).expand({count}).contiguous();
    const double limit = static_cast<double>(std::numeric_limits<std::int32_t>::max());
    const at::Tensor integers = at::clamp((quant.value.detach() / scale).round(), -limit, limit);
    store(quant.integers, integers, DType::i32);
    const std::int64_t stored = graph_.initializers.at(quant.scale).numel();
    store(quant.scale, stored == 1 ? scale.slice(0, 0, 1) : scale, DType::f32);
  }
  return out;
}

std::vector<std::string> TrainableGraph::describe() const {
  std::vector<std::string> lines;
  std::int64_t float_values = 0;
  for (const auto& [name, value] : floats_) float_values += value.numel();
  std::int64_t held_zeros = 0;
  for (const auto& [name, mask] : masks_) held_zeros += (mask == 0).sum().item<std::int64_t>();
  if (!weights_.empty()) {
    std::int64_t weight_values = 0;
    for (const auto& [name, quant] : weights_) weight_values += quant.master.numel();
    lines.push_back(fmt::format(
        "fake-quantized weights: {} tensors ({} values, {}-bit grid), {} biases requantized "
        "at export, {} learned activation scales",
        weights_.size(), weight_values, config_.weight_bits, biases_.size(), scales_.size()));
  }
  if (!floats_.empty()) {
    lines.push_back(
        fmt::format("float parameters: {} tensors ({} values)", floats_.size(), float_values));
  }
  if (!masks_.empty()) {
    lines.push_back(
        fmt::format("masks: {} weight tensors keep their {} zeros", masks_.size(), held_zeros));
  }
  return lines;
}

}  // namespace edgeperf::train::detail
