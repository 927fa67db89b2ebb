#include "node_specs.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "edgeperf/graph/ops/batch_norm.h"
#include "edgeperf/graph/ops/conv.h"
#include "edgeperf/graph/ops/fused_activation.h"
#include "int8_patterns.h"

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::algorithm;

bool all_f32(const std::vector<TensorDesc>& descs) {
  for (const TensorDesc& desc : descs) {
    if (desc.present && desc.dtype != DType::f32) return false;
  }
  return true;
}

// Data (non-constant) inputs and all outputs are f32 and non-empty.
bool plain_f32_node(const PlannedNode& node) {
  if (!all_f32(node.inputs) || !all_f32(node.outputs)) return false;
  for (const TensorDesc& desc : node.outputs) {
    if (desc.numel() == 0) return false;
  }
  return true;
}

bool is_runtime_input(const PlannedNode& node, std::size_t index) {
  return node.node->has_input(index) && index < node.inputs.size() &&
         (index >= node.constants.size() || node.constants[index] == nullptr);
}

const Tensor* constant_input(const PlannedNode& node, std::size_t index) {
  if (!node.node->has_input(index) || index >= node.constants.size()) return nullptr;
  return node.constants[index];
}

// Integers an op takes from a constant input `index` (int64 or int32, rank <= 1) or, in
// older opsets, from the attribute `attribute`: a ReduceMean's axes, a Pad's pads, a
// Slice's starts. nullopt when the input is not a known constant or neither is given.
std::optional<std::vector<std::int64_t>> constant_ints(const PlannedNode& node, std::size_t index,
                                                       const char* attribute) {
  if (!node.node->has_input(index)) {
    if (!node.node->has_attr(attribute)) return std::nullopt;
    return node.node->attr_ints(attribute);
  }
  const Tensor* tensor = constant_input(node, index);
  if (tensor == nullptr || tensor->rank() > 1) return std::nullopt;
  std::vector<std::int64_t> values;
  if (tensor->dtype() == DType::i64) {
    for (std::int64_t v : tensor->values<std::int64_t>()) values.push_back(v);
  } else if (tensor->dtype() == DType::i32) {
    for (std::int32_t v : tensor->values<std::int32_t>()) values.push_back(v);
  } else {
    return std::nullopt;
  }
  return values;
}

struct Window {
  Dims kernel, strides, dilations, pad_left, pad_right;
};

// Kernel geometry shared by Conv and pooling: strides, dilations, and pads resolved
// from `pads` or `auto_pad` against the inferred output size.
std::optional<Window> parse_window(const graph::Node& node, const Shape& input, const Shape& output,
                                   Dims kernel) {
  using graph::ops::AutoPad;
  const std::size_t spatial = kernel.size();
  graph::ops::ConvAttrs attrs;
  try {
    attrs = graph::ops::ConvAttrs::read(node, spatial);
  } catch (const Error&) {
    return std::nullopt;  // the reference backend reports it
  }
  Window window;
  window.kernel = kernel;
  window.strides = attrs.strides;
  for (std::int64_t value : attrs.dilations) {
    if (value < 1) return std::nullopt;
    window.dilations.push_back(value - 1);  // oneDNN counts the gaps
  }
  const std::vector<std::int64_t> begins = attrs.pads_begin(), ends = attrs.pads_end();
  for (std::size_t axis = 0; axis < spatial; ++axis) {
    const std::int64_t extent = (kernel[axis] - 1) * attrs.dilations[axis] + 1;
    const std::int64_t in = input[2 + axis];
    const std::int64_t out = output[2 + axis];
    std::int64_t left = begins[axis];
    std::int64_t right = ends[axis];
    if (attrs.auto_pad == AutoPad::valid) {
      left = right = 0;
    } else if (attrs.same_padding()) {
      const std::int64_t total =
          std::max<std::int64_t>(0, (out - 1) * window.strides[axis] + extent - in);
      left = attrs.auto_pad == AutoPad::same_upper ? total / 2 : total - total / 2;
      right = total - left;
    }
    if (left < 0 || right < 0 || window.strides[axis] < 1) return std::nullopt;
    window.pad_left.push_back(left);
    window.pad_right.push_back(right);
  }
  return window;
}

// Output size oneDNN derives from the window (floor division).
std::int64_t floor_output(std::int64_t in, const Window& window, std::size_t axis) {
  const std::int64_t extent = (window.kernel[axis] - 1) * (window.dilations[axis] + 1) + 1;
  return (in + window.pad_left[axis] + window.pad_right[axis] - extent) / window.strides[axis] + 1;
}

bool rank_is(const TensorDesc& desc, std::size_t rank) { return desc.shape.size() == rank; }

}  // namespace

namespace {

// The eltwise ops computing one of the activations a Conv or Gemm can absorb (the
// graph's one list of them, graph::ops::FusedActivation), parameters included.
std::vector<EltwiseOp> eltwise_ops(const graph::ops::FusedActivation& activation) {
  const std::string& op = activation.op;
  const std::vector<float>& params = activation.params;
  if (op == "Relu") return {{algorithm::eltwise_relu}};
  if (op == "LeakyRelu") return {{algorithm::eltwise_relu, params.at(0)}};
  if (op == "Sigmoid") return {{algorithm::eltwise_logistic}};
  if (op == "Tanh") return {{algorithm::eltwise_tanh}};
  if (op == "HardSwish") return {{algorithm::eltwise_hardswish}};
  if (op == "HardSigmoid") {
    return {{algorithm::eltwise_linear, params.at(0), params.at(1)},
            {algorithm::eltwise_clip, 0.0f, 1.0f}};
  }
  if (op == "Clip") return {{algorithm::eltwise_clip, params.at(0), params.at(1)}};
  fail("internal: no oneDNN eltwise for activation {}", op);
}

}  // namespace

std::optional<std::vector<EltwiseOp>> parse_activation(const PlannedNode& planned,
                                                       std::int64_t opset) {
  const graph::Node& node = *planned.node;
  if (!plain_f32_node(planned) || planned.outputs.size() != 1 || planned.inputs.empty() ||
      !is_runtime_input(planned, 0) || planned.inputs[0].shape != planned.outputs[0].shape ||
      planned.inputs[0].shape.empty() || planned.inputs[0].shape.size() > 5 ||
      !node.domain.empty()) {
    return std::nullopt;
  }
  if (node.op_type == "Gelu") {  // not one a Conv absorbs, but a oneDNN eltwise
    const std::string approximate = node.attr_string("approximate", "none");
    if (approximate == "none") return std::vector<EltwiseOp>{{algorithm::eltwise_gelu_erf}};
    if (approximate == "tanh") return std::vector<EltwiseOp>{{algorithm::eltwise_gelu_tanh}};
    return std::nullopt;
  }
  const auto constant = [&](const std::string& value) -> const Tensor* {
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
      if (node.inputs[i] == value) return constant_input(planned, i);
    }
    return nullptr;
  };
  const auto activation = graph::ops::FusedActivation::from_node(opset, constant, node);
  if (!activation) return std::nullopt;
  const auto* fusible = std::get_if<graph::ops::FusedActivation>(&*activation);
  if (fusible == nullptr) return std::nullopt;  // runtime Clip bounds: reference backend
  return eltwise_ops(*fusible);
}

std::optional<ConvSpec> parse_conv(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  if (node.op_type != "Conv" || !node.domain.empty() || !plain_f32_node(planned)) {
    return std::nullopt;
  }
  if (planned.outputs.size() != 1 || planned.inputs.size() < 2 || !is_runtime_input(planned, 0)) {
    return std::nullopt;
  }
  ConvSpec spec;
  spec.weights = constant_input(planned, 1);
  spec.bias = constant_input(planned, 2);
  if (spec.weights == nullptr || (node.has_input(2) && spec.bias == nullptr)) return std::nullopt;
  if (spec.weights->dtype() != DType::f32 || spec.weights->rank() != 4) return std::nullopt;
  if (spec.bias != nullptr &&
      (spec.bias->dtype() != DType::f32 || spec.bias->numel() != spec.weights->dim(0))) {
    return std::nullopt;
  }
  return parse_conv_geometry(node, planned.inputs[0].shape, planned.outputs[0].shape, spec);
}

std::optional<ConvSpec> parse_conv_geometry(const graph::Node& node, const Shape& x, const Shape& y,
                                            ConvSpec spec) {
  const Shape& w = spec.weights->shape();
  if (x.size() != 4 || y.size() != 4 || w.size() != 4) return std::nullopt;
  spec.group = node.attr_int("group", 1);
  if (spec.group < 1 || x[1] % spec.group != 0 || w[0] % spec.group != 0 ||
      w[1] * spec.group != x[1] || y[1] != w[0]) {
    return std::nullopt;
  }
  std::vector<std::int64_t> kernel_shape = node.attr_ints("kernel_shape", {w[2], w[3]});
  if (kernel_shape != std::vector<std::int64_t>{w[2], w[3]}) return std::nullopt;
  std::optional<Window> window = parse_window(node, x, y, {w[2], w[3]});
  if (!window) return std::nullopt;
  for (std::size_t axis = 0; axis < 2; ++axis) {
    if (floor_output(x[2 + axis], *window, axis) != y[2 + axis]) return std::nullopt;
  }
  spec.strides = window->strides;
  spec.dilations = window->dilations;
  spec.pad_left = window->pad_left;
  spec.pad_right = window->pad_right;
  return spec;
}

namespace {

PoolSpec global_pool(dnnl::algorithm algorithm, const Shape& x) {
  PoolSpec spec;
  spec.algorithm = algorithm;
  spec.kernel = {x[2], x[3]};
  spec.strides = {1, 1};
  spec.dilations = {0, 0};
  spec.pad_left = spec.pad_right = {0, 0};
  return spec;
}

// ReduceMean/ReduceMax over exactly axes 2 and 3 of a 4-D f32 input.
std::optional<PoolSpec> parse_spatial_reduce(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  if (planned.outputs.size() != 1 || !is_runtime_input(planned, 0) ||
      planned.inputs[0].dtype != DType::f32 || planned.outputs[0].dtype != DType::f32 ||
      planned.outputs[0].numel() == 0) {
    return std::nullopt;
  }
  const Shape& x = planned.inputs[0].shape;
  const std::optional<std::vector<std::int64_t>> axes = constant_ints(planned, 1, "axes");
  if (x.size() != 4 || !axes || axes->size() != 2) return std::nullopt;
  std::vector<std::int64_t> normalized;
  for (std::int64_t axis : *axes) normalized.push_back(axis < 0 ? axis + 4 : axis);
  std::sort(normalized.begin(), normalized.end());
  if (normalized != std::vector<std::int64_t>{2, 3}) return std::nullopt;
  const bool keep_dims = node.attr_int("keepdims", 1) != 0;
  const Shape expected = keep_dims ? Shape{x[0], x[1], 1, 1} : Shape{x[0], x[1]};
  if (planned.outputs[0].shape != expected) return std::nullopt;
  PoolSpec spec = global_pool(
      node.op_type == "ReduceMax" ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding,
      x);
  spec.keep_dims = keep_dims;
  return spec;
}

}  // namespace

std::optional<PoolSpec> parse_pool(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  const std::string& op = node.op_type;
  if (node.domain.empty() && (op == "ReduceMean" || op == "ReduceMax")) {
    return parse_spatial_reduce(planned);
  }
  if (!node.domain.empty() || !plain_f32_node(planned) || planned.outputs.size() != 1 ||
      planned.inputs.size() != 1 || !is_runtime_input(planned, 0)) {
    return std::nullopt;
  }
  const Shape& x = planned.inputs[0].shape;
  const Shape& y = planned.outputs[0].shape;
  if (x.size() != 4 || y.size() != 4 || x[0] != y[0] || x[1] != y[1]) return std::nullopt;
  PoolSpec spec;
  if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    if (y[2] != 1 || y[3] != 1) return std::nullopt;
    return global_pool(
        op == "GlobalMaxPool" ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding, x);
  }
  if (op != "MaxPool" && op != "AveragePool") return std::nullopt;
  std::vector<std::int64_t> kernel = node.attr_ints("kernel_shape");
  if (kernel.size() != 2) return std::nullopt;
  std::optional<Window> window = parse_window(node, x, y, kernel);
  if (!window) return std::nullopt;
  const bool include_pad = node.attr_int("count_include_pad", 0) != 0;
  if (op == "MaxPool") {
    spec.algorithm = algorithm::pooling_max;
  } else {
    spec.algorithm = include_pad ? algorithm::pooling_avg_include_padding
                                 : algorithm::pooling_avg_exclude_padding;
    if (window->dilations != Dims{0, 0}) return std::nullopt;
  }
  // ceil_mode: widen the right padding until oneDNN's floor formula reaches the
  // inferred output size; max ignores padding, exclude-pad averages do not count it.
  for (std::size_t axis = 0; axis < 2; ++axis) {
    const std::int64_t declared = window->pad_right[axis];
    while (floor_output(x[2 + axis], *window, axis) < y[2 + axis]) ++window->pad_right[axis];
    if (floor_output(x[2 + axis], *window, axis) != y[2 + axis]) return std::nullopt;
    if (window->pad_right[axis] != declared && include_pad) return std::nullopt;
    // A window must overlap the input; oneDNN rejects padding as large as the kernel.
    const std::int64_t extent = (kernel[axis] - 1) * (window->dilations[axis] + 1) + 1;
    if (window->pad_left[axis] >= extent || window->pad_right[axis] >= extent) {
      return std::nullopt;
    }
  }
  spec.kernel = window->kernel;
  spec.strides = window->strides;
  spec.dilations = window->dilations;
  spec.pad_left = window->pad_left;
  spec.pad_right = window->pad_right;
  return spec;
}

std::optional<GemmSpec> parse_gemm(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  if (!node.domain.empty() || !plain_f32_node(planned) || planned.outputs.size() != 1 ||
      planned.inputs.size() < 2 || !is_runtime_input(planned, 0)) {
    return std::nullopt;
  }
  GemmSpec spec;
  spec.weights = constant_input(planned, 1);
  if (spec.weights == nullptr || spec.weights->dtype() != DType::f32 || spec.weights->rank() != 2 ||
      !rank_is(planned.inputs[0], 2)) {
    return std::nullopt;
  }
  const std::int64_t n = planned.outputs[0].shape.size() == 2 ? planned.outputs[0].shape[1] : -1;
  if (node.op_type == "MatMul") {
    if (planned.inputs.size() != 2) return std::nullopt;
  } else if (node.op_type == "Gemm") {
    if (node.attr_int("transA", 0) != 0 || node.attr_float("alpha", 1.0f) != 1.0f) {
      return std::nullopt;
    }
    spec.weights_transposed = node.attr_int("transB", 0) != 0;
    if (node.has_input(2)) {
      spec.bias = constant_input(planned, 2);
      if (spec.bias == nullptr || spec.bias->dtype() != DType::f32 || spec.bias->numel() != n ||
          spec.bias->rank() > 2 || node.attr_float("beta", 1.0f) != 1.0f) {
        return std::nullopt;
      }
    }
  } else {
    return std::nullopt;
  }
  const Shape& a = planned.inputs[0].shape;
  const Shape& b = spec.weights->shape();
  const std::int64_t k = spec.weights_transposed ? b[1] : b[0];
  const std::int64_t b_n = spec.weights_transposed ? b[0] : b[1];
  if (a[1] != k || b_n != n || planned.outputs[0].shape[0] != a[0]) return std::nullopt;
  return spec;
}

std::optional<MatMulSpec> parse_matmul(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  if (node.op_type != "MatMul" || !node.domain.empty() || !plain_f32_node(planned) ||
      planned.inputs.size() != 2 || planned.outputs.size() != 1 || !is_runtime_input(planned, 0)) {
    return std::nullopt;
  }
  MatMulSpec spec;
  spec.b_constant = constant_input(planned, 1);
  if (!is_runtime_input(planned, 1) && spec.b_constant == nullptr) return std::nullopt;
  const Shape& c = planned.outputs[0].shape;
  const Shape& a = planned.inputs[0].shape;
  const Shape& b = planned.inputs[1].shape;
  // 2-D with constant weights is an inner product (gemm.cpp).
  if (c.size() < 2 || c.size() > 5 || a.size() < 2 || b.size() < 2) return std::nullopt;
  if (c.size() == 2 && spec.b_constant != nullptr) return std::nullopt;
  auto padded = [&](const Shape& shape) {
    Shape dims(c.size() - shape.size(), 1);
    dims.insert(dims.end(), shape.begin(), shape.end());
    return dims;
  };
  if (a.size() > c.size() || b.size() > c.size()) return std::nullopt;
  spec.a_dims = padded(a);
  spec.b_dims = padded(b);
  spec.c_dims = c;
  const std::size_t r = c.size();
  if (spec.a_dims[r - 1] != spec.b_dims[r - 2] || spec.a_dims[r - 2] != c[r - 2] ||
      spec.b_dims[r - 1] != c[r - 1]) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i + 2 < r; ++i) {
    // oneDNN broadcasts B's batch dims over A's, not the other way round.
    if (spec.a_dims[i] != c[i] || (spec.b_dims[i] != c[i] && spec.b_dims[i] != 1)) {
      return std::nullopt;
    }
  }
  // Constant 2-D weights: A's batch dims fold into M (row-major, so free), one GEMM
  // instead of a batch of small ones.
  if (spec.b_constant != nullptr && b.size() == 2 && r > 2) {
    std::int64_t rows = 1;
    for (std::size_t i = 0; i + 1 < r; ++i) rows *= c[i];
    spec.a_dims = {rows, a.back()};
    spec.b_dims = b;
    spec.c_dims = {rows, c.back()};
  }
  return spec;
}

std::optional<SoftmaxSpec> parse_softmax(const PlannedNode& planned, std::int64_t opset) {
  const graph::Node& node = *planned.node;
  if ((node.op_type != "Softmax" && node.op_type != "LogSoftmax") || !node.domain.empty() ||
      !plain_f32_node(planned) || planned.inputs.size() != 1 || planned.outputs.size() != 1 ||
      !is_runtime_input(planned, 0)) {
    return std::nullopt;
  }
  const Shape& x = planned.inputs[0].shape;
  const auto rank = static_cast<std::int64_t>(x.size());
  if (rank == 0 || rank > 6 || planned.outputs[0].shape != x) return std::nullopt;
  const bool coerce = opset < 13;
  std::int64_t axis = node.attr_int("axis", coerce ? 1 : -1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return std::nullopt;
  SoftmaxSpec spec;
  spec.log = node.op_type == "LogSoftmax";
  if (coerce) {
    std::int64_t outer = 1, inner = 1;
    for (std::int64_t i = 0; i < rank; ++i)
      (i < axis ? outer : inner) *= x[static_cast<std::size_t>(i)];
    spec.dims = {outer, inner};
    spec.axis = 1;
  } else {
    spec.dims = x;
    spec.axis = static_cast<int>(axis);
  }
  return spec;
}

std::optional<LayerNormSpec> parse_layer_norm(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  // One output: the training-time Mean and InvStdDev outputs are not computed here.
  if (node.op_type != "LayerNormalization" || !node.domain.empty() || !plain_f32_node(planned) ||
      planned.inputs.size() < 2 || planned.outputs.size() != 1 || !is_runtime_input(planned, 0) ||
      node.attr_int("stash_type", 1) != 1) {
    return std::nullopt;
  }
  const Shape& x = planned.inputs[0].shape;
  const auto rank = static_cast<std::int64_t>(x.size());
  std::int64_t axis = node.attr_int("axis", -1);
  if (axis < 0) axis += rank;
  if (rank == 0 || axis < 0 || axis >= rank || planned.outputs[0].shape != x) return std::nullopt;
  LayerNormSpec spec;
  for (std::int64_t i = 0; i < rank; ++i) {
    (i < axis ? spec.rows : spec.size) *= x[static_cast<std::size_t>(i)];
  }
  spec.scale = constant_input(planned, 1);
  spec.bias = node.has_input(2) ? constant_input(planned, 2) : nullptr;
  if (spec.scale == nullptr || spec.scale->numel() != spec.size ||
      (node.has_input(2) && (spec.bias == nullptr || spec.bias->numel() != spec.size))) {
    return std::nullopt;
  }
  spec.epsilon = node.attr_float("epsilon", 1e-5f);
  return spec;
}

std::optional<BatchNormSpec> parse_batch_norm(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  if (node.op_type != "BatchNormalization" || !node.domain.empty() || !plain_f32_node(planned) ||
      planned.outputs.size() != 1 || planned.inputs.size() != 5 || !is_runtime_input(planned, 0)) {
    return std::nullopt;
  }
  if (node.attr_int("training_mode", 0) != 0) return std::nullopt;
  const Shape& x = planned.inputs[0].shape;
  if (x.size() < 2 || x.size() > 5 || planned.outputs[0].shape != x) return std::nullopt;
  BatchNormSpec spec;
  spec.scale = constant_input(planned, 1);
  spec.shift = constant_input(planned, 2);
  spec.mean = constant_input(planned, 3);
  spec.variance = constant_input(planned, 4);
  for (const Tensor* tensor : {spec.scale, spec.shift, spec.mean, spec.variance}) {
    if (tensor == nullptr || tensor->dtype() != DType::f32 || tensor->numel() != x[1]) {
      return std::nullopt;
    }
  }
  spec.epsilon = graph::ops::BatchNormParams::epsilon_of(node);
  return spec;
}

bool is_same_shape_add(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  return node.op_type == "Add" && node.domain.empty() && plain_f32_node(planned) &&
         planned.inputs.size() == 2 && planned.outputs.size() == 1 &&
         is_runtime_input(planned, 0) && is_runtime_input(planned, 1) &&
         planned.inputs[0].shape == planned.inputs[1].shape &&
         planned.inputs[0].shape == planned.outputs[0].shape && !planned.inputs[0].shape.empty() &&
         planned.inputs[0].shape.size() <= 5;
}

std::optional<EltwiseOp> parse_gate(const PlannedNode& planned, std::int64_t opset) {
  const auto activation = parse_activation(planned, opset);
  if (!activation) return std::nullopt;
  const graph::Node& node = *planned.node;
  if (node.op_type == "Sigmoid") return EltwiseOp{algorithm::eltwise_swish, 1.0f};
  // oneDNN 2.6's hardswish is x * clip(x / 6 + 1 / 2, 0, 1): only those constants.
  if (node.op_type == "HardSigmoid" &&
      std::fabs(node.attr_float("alpha", 0.2f) - 1.0f / 6.0f) <= 1e-6f &&
      node.attr_float("beta", 0.5f) == 0.5f) {
    return EltwiseOp{algorithm::eltwise_hardswish};
  }
  return std::nullopt;
}

bool is_gating_mul(const PlannedNode& planned, const std::string& x, const std::string& gate) {
  const graph::Node& node = *planned.node;
  if (node.op_type != "Mul" || !node.domain.empty() || !plain_f32_node(planned) ||
      node.inputs.size() != 2 || planned.outputs.size() != 1 || x == gate) {
    return false;
  }
  const bool reads_both = (node.inputs[0] == x && node.inputs[1] == gate) ||
                          (node.inputs[0] == gate && node.inputs[1] == x);
  return reads_both && planned.inputs[0].shape == planned.outputs[0].shape &&
         planned.inputs[1].shape == planned.outputs[0].shape;
}

namespace {

std::optional<algorithm> binary_algorithm(const std::string& op) {
  if (op == "Add") return algorithm::binary_add;
  if (op == "Sub") return algorithm::binary_sub;
  if (op == "Mul") return algorithm::binary_mul;
  if (op == "Div") return algorithm::binary_div;
  return std::nullopt;
}

// `shape` padded with leading 1s to `rank`, if it broadcasts to `to` (nullopt otherwise).
std::optional<Shape> broadcast_dims(const Shape& shape, const Shape& to) {
  if (shape.size() > to.size()) return std::nullopt;
  Shape dims(to.size() - shape.size(), 1);
  dims.insert(dims.end(), shape.begin(), shape.end());
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] != to[i] && dims[i] != 1) return std::nullopt;
  }
  return dims;
}

}  // namespace

std::optional<BinarySpec> parse_binary(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  const auto algo = binary_algorithm(node.op_type);
  if (!algo || !node.domain.empty() || !plain_f32_node(planned) || planned.inputs.size() != 2 ||
      node.inputs.size() != 2 || planned.outputs.size() != 1) {
    return std::nullopt;
  }
  const Shape& y = planned.outputs[0].shape;
  if (y.empty() || y.size() > 5) return std::nullopt;
  const bool commutative = *algo == algorithm::binary_add || *algo == algorithm::binary_mul;
  for (std::size_t full : {std::size_t{0}, std::size_t{1}}) {
    if (full == 1 && !commutative) break;
    const std::size_t other = 1 - full;
    // The full-shape operand is computed; the other one may be a constant.
    if (!is_runtime_input(planned, full) || planned.inputs[full].shape != y) continue;
    if (!is_runtime_input(planned, other) && constant_input(planned, other) == nullptr) continue;
    if (auto dims = broadcast_dims(planned.inputs[other].shape, y)) {
      return BinarySpec{*algo, full, other, *dims};
    }
  }
  return std::nullopt;
}

namespace {

bool has_zero_pads(const PlannedNode& planned) {
  if (planned.node->attr_string("mode", "constant") != "constant") return false;
  const auto pads = constant_ints(planned, 1, "pads");  // an attribute before opset 11
  return pads && std::all_of(pads->begin(), pads->end(), [](std::int64_t pad) { return pad == 0; });
}

}  // namespace

std::optional<Dims> parse_slice_offsets(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  if (node.op_type != "Slice" || !node.domain.empty() || planned.outputs.size() != 1 ||
      planned.inputs.empty() || !is_runtime_input(planned, 0) ||
      planned.inputs[0].dtype != DType::f32 || planned.outputs[0].dtype != DType::f32 ||
      planned.outputs[0].numel() == 0) {
    return std::nullopt;
  }
  const Shape& x = planned.inputs[0].shape;
  const Shape& y = planned.outputs[0].shape;
  const auto rank = static_cast<std::int64_t>(x.size());
  if (rank < 1 || rank > 6 || y.size() != x.size()) return std::nullopt;
  const auto starts = constant_ints(planned, 1, "starts");
  if (!starts) return std::nullopt;
  std::vector<std::int64_t> axes;
  if (node.has_input(3) || node.has_attr("axes")) {
    const auto given = constant_ints(planned, 3, "axes");
    if (!given) return std::nullopt;  // axes computed at run time
    axes = *given;
  } else {
    for (std::size_t i = 0; i < starts->size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
  }
  if (node.has_input(4)) {
    const auto steps = constant_ints(planned, 4, "steps");
    if (!steps || std::any_of(steps->begin(), steps->end(), [](auto s) { return s != 1; })) {
      return std::nullopt;
    }
  }
  if (axes.size() != starts->size()) return std::nullopt;
  Dims offsets(x.size(), 0);
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const std::int64_t axis = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (axis < 0 || axis >= rank) return std::nullopt;
    const std::int64_t dim = x[static_cast<std::size_t>(axis)];
    const std::int64_t start = (*starts)[i] < 0 ? (*starts)[i] + dim : (*starts)[i];
    offsets[static_cast<std::size_t>(axis)] = std::clamp<std::int64_t>(start, 0, dim);
  }
  // The planned output shape holds the ends: the slice must fit inside the input.
  for (std::size_t axis = 0; axis < x.size(); ++axis) {
    if (offsets[axis] + y[axis] > x[axis]) return std::nullopt;
  }
  return offsets;
}

bool is_identity(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  if (!node.domain.empty() || planned.outputs.size() != 1 || planned.inputs.empty() ||
      !is_runtime_input(planned, 0) || planned.inputs[0].dtype != DType::f32 ||
      planned.outputs[0].dtype != DType::f32 || planned.outputs[0].numel() == 0 ||
      planned.inputs[0].shape != planned.outputs[0].shape) {
    return false;
  }
  if (node.op_type == "Identity") return true;
  // Pad's axes input (opset 18) only narrows which axes the zero pads apply to.
  return node.op_type == "Pad" && has_zero_pads(planned);
}

bool is_free_reshape(const PlannedNode& planned) {
  const graph::Node& node = *planned.node;
  // Reshape's shape input is int64: only the data must be f32.
  if ((node.op_type != "Flatten" && node.op_type != "Reshape") || !node.domain.empty() ||
      planned.outputs.size() != 1 || planned.inputs.empty() || !is_runtime_input(planned, 0) ||
      planned.inputs[0].dtype != DType::f32 || !all_f32(planned.outputs) ||
      planned.outputs[0].numel() == 0) {
    return false;
  }
  if (node.op_type == "Reshape" && (planned.inputs.size() != 2 || is_runtime_input(planned, 1))) {
    return false;
  }
  const Shape& in = planned.inputs[0].shape;
  const Shape& out = planned.outputs[0].shape;
  return !in.empty() && in.size() <= 5 && !out.empty() && out.size() <= 5 &&
         planned.inputs[0].numel() == planned.outputs[0].numel();
}

std::optional<std::int64_t> parse_concat_axis(const PlannedNode& node) {
  const auto rank = static_cast<std::int64_t>(node.outputs[0].shape.size());
  std::int64_t axis = node.node->attr_int("axis");
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return std::nullopt;
  return axis;
}

}  // namespace edgeperf::runtime::onednn
