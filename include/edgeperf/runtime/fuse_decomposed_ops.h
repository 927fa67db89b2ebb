#pragma once
// Exporters that predate ONNX's Gelu (opset 20) and LayerNormalization (opset 17) write
// them as chains of elementwise ops and reductions. The session rewrites those chains
// into the single ops, so a backend can run each in one pass (GELU as a post-op of the
// matmul before it, LayerNorm as one primitive). Only the runtime's copy of the graph
// changes; exported models keep their nodes.
//   GELU:      Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)   (Div or Mul by 1/sqrt 2)
//   LayerNorm: d = Sub(x, ReduceMean(x)); Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps)))
//              * gamma + beta, reductions over the last axis with keepdims
#include <cstddef>

#include "edgeperf/graph/graph.h"

namespace edgeperf::runtime {

struct DecomposedOpsFused {
  std::size_t gelu = 0;
  std::size_t layer_norm = 0;
};

DecomposedOpsFused fuse_decomposed_ops(graph::Graph& graph);

}  // namespace edgeperf::runtime
