#pragma once
// Parses ONNX nodes into the parameters the oneDNN primitives need. Each parser
// returns nullopt when the node uses something this backend does not handle; such
// nodes stay on the reference backend.
#include <dnnl.hpp>
#include <optional>
#include <vector>

#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime::onednn {

using Dims = dnnl::memory::dims;

struct EltwiseOp {
  dnnl::algorithm algorithm;
  float alpha = 0.0f;
  float beta = 0.0f;
};

struct ConvSpec {
  const Tensor* weights = nullptr;  // [OC, IC/group, KH, KW]
  const Tensor* bias = nullptr;     // [OC] or nullptr
  std::int64_t group = 1;
  Dims strides, dilations, pad_left, pad_right;  // dilations in oneDNN form (onnx - 1)
};

struct PoolSpec {
  dnnl::algorithm algorithm;
  Dims kernel, strides, dilations, pad_left, pad_right;
  bool keep_dims = true;  // false: a ReduceMean/ReduceMax that drops the pooled axes
};

struct GemmSpec {
  const Tensor* weights = nullptr;  // B
  bool weights_transposed = false;  // true: B is [N, K]
  const Tensor* bias = nullptr;     // [N] or [1, N], or nullptr
};

struct BatchNormSpec {
  const Tensor* scale = nullptr;
  const Tensor* shift = nullptr;
  const Tensor* mean = nullptr;
  const Tensor* variance = nullptr;
  float epsilon = 1e-5f;
};

// Activation nodes (Relu, Clip, ...) as one or more eltwise operations.
std::optional<std::vector<EltwiseOp>> parse_activation(const PlannedNode& node, std::int64_t opset);
std::optional<ConvSpec> parse_conv(const PlannedNode& node);
// Group, strides, dilations and pads of a conv-like node (Conv, QLinearConv) whose
// weights are spec.weights; nullopt when oneDNN's output size would differ from y.
std::optional<ConvSpec> parse_conv_geometry(const graph::Node& node, const Shape& x, const Shape& y,
                                            ConvSpec spec);
// MaxPool, AveragePool, their Global forms, and ReduceMean/ReduceMax over exactly the
// spatial axes of a 4-D input (a global pool, keepdims or not).
std::optional<PoolSpec> parse_pool(const PlannedNode& node);
std::optional<GemmSpec> parse_gemm(const PlannedNode& node);  // Gemm and 2-D MatMul
// A Concat's axis, made non-negative; nullopt when out of the output's rank.
std::optional<std::int64_t> parse_concat_axis(const PlannedNode& node);
std::optional<BatchNormSpec> parse_batch_norm(const PlannedNode& node);

// MatMul of rank 3 to 5 (numpy batching), or 2-D MatMul whose B is computed. The dims
// are the row-major views oneDNN works on: A and B padded with leading 1s to C's rank,
// or, for constant 2-D weights, A's and C's batch dims folded into their rows.
struct MatMulSpec {
  Shape a_dims, b_dims, c_dims;
  const Tensor* b_constant = nullptr;
};
std::optional<MatMulSpec> parse_matmul(const PlannedNode& node);

// Softmax / LogSoftmax over `axis` of the row-major view `dims` (before opset 13 the
// input is coerced to 2-D at the attribute's axis).
struct SoftmaxSpec {
  Shape dims;
  int axis = 0;
  bool log = false;
};
std::optional<SoftmaxSpec> parse_softmax(const PlannedNode& node, std::int64_t opset);

// LayerNormalization over the trailing axes from `axis`, viewed row-major as
// [rows, size], with a constant f32 scale (and bias) of `size` elements.
struct LayerNormSpec {
  std::int64_t rows = 1, size = 1;
  const Tensor* scale = nullptr;
  const Tensor* bias = nullptr;  // may be nullptr
  float epsilon = 1e-5f;
};
std::optional<LayerNormSpec> parse_layer_norm(const PlannedNode& node);
bool is_same_shape_add(const PlannedNode& node);
// The gate g of x * g(x) as the activation of x it amounts to: Sigmoid (swish) and
// HardSigmoid with HardSwish's constants (hardswish).
std::optional<EltwiseOp> parse_gate(const PlannedNode& node, std::int64_t opset);
// A Mul reading exactly `x` and `gate`, shaped like x.
bool is_gating_mul(const PlannedNode& node, const std::string& x, const std::string& gate);

// Add, Sub, Mul, Div whose output is shaped like one operand (`full`) and whose other
// operand broadcasts to it (numpy rules: missing leading dims or dims of 1).
struct BinarySpec {
  dnnl::algorithm algorithm;
  std::size_t full = 0;   // input slot shaped like the output (oneDNN's src0)
  std::size_t other = 1;  // input slot that broadcasts (src1)
  Shape other_dims;       // `other`'s shape padded with leading 1s to the output's rank
};
std::optional<BinarySpec> parse_binary(const PlannedNode& node);
// A Slice with unit steps and constant starts/ends/axes: the offset of the output's
// first element in the input, per axis (the output's dims are its planned shape).
std::optional<Dims> parse_slice_offsets(const PlannedNode& node);

// A node that passes its f32 input through unchanged: Identity, and a constant-mode Pad
// whose pads are all zero (PyTorch exports AvgPool2d with one).
bool is_identity(const PlannedNode& node);
bool is_free_reshape(const PlannedNode& node);  // Flatten / Reshape with a constant shape

}  // namespace edgeperf::runtime::onednn
