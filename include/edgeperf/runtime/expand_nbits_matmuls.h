#pragma once
// Weight-only quantized matmuls (com.microsoft MatMulNBits, as `edgeperf quantize --mode
// int4-weight` writes for MatMul/Gemm layers) whose weights are initializers, rewritten at
// load into MatMul(A, W) with W their f32 weights, plus an Add of the bias if the node has
// one. The session runs this first: the matmul then runs where any MatMul with constant
// weights runs (oneDNN, fused with the ops after it) rather than on the reference
// backend, as the INT4 variant's conv weights already are, being folded at load.
#include <cstddef>

#include "edgeperf/graph/graph.h"

namespace edgeperf::runtime {

// True for the nodes expand_nbits_matmuls rewrites.
bool is_expandable_nbits_matmul(const graph::Graph& graph, const graph::Node& node);
// Rewrites every such node in place; returns how many. Throws Error naming the node when
// its weights are malformed.
std::size_t expand_nbits_matmuls(graph::Graph& graph);

}  // namespace edgeperf::runtime
