#pragma once
// Constant nodes: weights that Paddle2ONNX and tf2onnx write as nodes rather than
// initializers. Import turns them into initializers, so folding, fusion, counts,
// quantization and pruning see one kind of weight.
#include <cstddef>
#include <optional>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::graph::ops {

// The tensor a Constant node holds (value, value_float(s), value_int(s)); a one-line
// error naming the node when it holds none of them or a form edgeperf cannot represent.
Tensor constant_node_value(const Node& constant);

// Replaces each default-domain Constant node by an initializer of the same name,
// except where its output is a graph output (an initializer cannot be one in every
// runtime). Returns how many nodes were replaced.
std::size_t hoist_constant_nodes(Graph& graph);

}  // namespace edgeperf::graph::ops
