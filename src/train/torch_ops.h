#pragma once
// Internal to ep_train: ONNX ops as libtorch calls (float, with autograd), and the
// conversions between edgeperf tensors and torch tensors.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::train::detail {

at::Tensor to_torch(const Tensor& tensor);  // a copy
// A read-only view of a float tensor's memory (no copy: datasets may be large); valid
// while `tensor` lives.
at::Tensor view_torch(const Tensor& tensor);
Tensor from_torch(const at::Tensor& tensor, DType dtype);

// Runs `node` on `inputs` (one per node input; undefined for an absent optional input).
// Returns its outputs: one, or one per output for Split. Throws Error naming the node for
// an op or attribute the training engine does not support.
std::vector<at::Tensor> run_op(const graph::Node& node, const std::vector<at::Tensor>& inputs);

// True when run_op knows `op_type`.
bool supports_op(const std::string& op_type);

}  // namespace edgeperf::train::detail
