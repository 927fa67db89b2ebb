#pragma once
// ONNX Runtime's contrib fusions (com.microsoft FusedConv and FusedGemm, as written by
// `edgeperf optimize`) rewritten into standard ops: Conv/Gemm (+ Add for FusedConv's sum
// input Z) + the activation node. The session runs this first; its oneDNN lowering then
// fuses them again into post-ops.
#include "edgeperf/graph/graph.h"

namespace edgeperf::runtime {

// True for the nodes expand_fused_ops rewrites.
bool is_expandable_fused_op(const graph::Node& node);
// Rewrites every such node in place; returns how many. Throws Error naming the node when
// its activation is unknown or its parameters are malformed.
std::size_t expand_fused_ops(graph::Graph& graph);

}  // namespace edgeperf::runtime
