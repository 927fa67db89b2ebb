#pragma once
// The reference backend: plain C++ for every supported op. It is the oracle the
// other backends are tested against, and it defines shape inference for all ops.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>
#include <string_view>

#include "edgeperf/runtime/kernel.h"

namespace edgeperf::runtime {

std::span<const KernelRegistration> reference_kernels();
// Registry keys are op types for the default ONNX domain and "<domain>.<op_type>"
// otherwise ("com.microsoft.MatMulNBits").
std::string registry_key(const graph::Node& node);
// nullptr when the op is not supported. By registry key, or for a node.
const KernelRegistration* find_reference_kernel(std::string_view key);
const KernelRegistration* find_reference_kernel(const graph::Node& node);

// The interpreter: runs a node with every input known (absent optional inputs are
// empty Tensors), with reference kernels. Shapes come from the values, so it runs ops
// whose output shapes depend on data (NonZero, NonMaxSuppression, If). Errors name the node.
std::vector<Tensor> evaluate_node(const graph::Node& node, std::int64_t opset,
                                  std::span<const Tensor> inputs);
// Runs a subgraph node by node and returns its outputs in order. `scope` holds the
// values it reads from enclosing graphs.
std::vector<Tensor> evaluate_subgraph(const graph::Graph& subgraph, std::int64_t opset,
                                      const std::map<std::string, Tensor>& scope);

// The f32 weights [K, N] of a com.microsoft MatMulNBits node (Y = A @ weights + bias) from
// its B, scales and zero points (an empty Tensor when it has none). Errors name the node.
Tensor dequantize_matmul_nbits(const graph::Node& node, const Tensor& b, const Tensor& scales,
                               const Tensor& zero_points);

}  // namespace edgeperf::runtime
