#pragma once
// Static evaluation and log formatting shared by the passes (internal to ep_passes).
// Graph queries and edits live in the graph toolkit (edgeperf/graph/editor.h).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/kernel.h"
#include "edgeperf/runtime/static_eval.h"

namespace edgeperf::passes::detail {

// "f32[64, 3, 3, 3]"
std::string describe(DType dtype, const Shape& shape);

// What is statically known about every value: descriptors and, where computable, values
// (with, per node, whether it folded and why not).
using StaticValues = runtime::StaticEvaluation;
struct EvalOptions {
  // Size given to symbolic dimensions; unset: values with symbolic shapes stay unknown.
  std::optional<std::int64_t> symbolic_size;
  std::size_t limit_bytes = std::size_t{64} << 20;
};
// The session's static evaluator (runtime::evaluate_static), tolerant: the graph must be
// topologically sorted; a node it cannot infer leaves its outputs unknown. Quantization
// nodes and widening Casts of weights are kept (folding would undo their compression).
StaticValues evaluate_statically(const graph::Graph& graph, const EvalOptions& options);

}  // namespace edgeperf::passes::detail
