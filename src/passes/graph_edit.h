#pragma once
// Static evaluation and log formatting shared by the passes (internal to ep_passes).
// Graph queries and edits live in the graph toolkit (edgeperf/graph/editor.h).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/kernel.h"

namespace edgeperf::passes::detail {

// "f32[64, 3, 3, 3]"
std::string describe(DType dtype, const Shape& shape);
std::string describe_bytes(std::size_t bytes);  // "1.5 MiB"

// What is statically known about every value: descriptors and, where computable, values.
struct StaticValues {
  std::map<std::string, runtime::TensorDesc> descs;
  std::map<std::string, Tensor> constants;
  // Per node (graph order): folded to constants, or why not (empty when simply not constant).
  std::vector<bool> folded;
  std::vector<std::string> not_folded_reason;
};
struct EvalOptions {
  // Size given to symbolic dimensions; unset: values with symbolic shapes stay unknown.
  std::optional<std::int64_t> symbolic_size;
  std::size_t limit_bytes = std::size_t{64} << 20;
};
// Shape inference and constant evaluation with the reference kernels. The graph must be
// topologically sorted. Never throws for a node it cannot infer: its outputs stay unknown.
StaticValues evaluate_statically(const graph::Graph& graph, const EvalOptions& options);

}  // namespace edgeperf::passes::detail
