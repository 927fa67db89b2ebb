#pragma once
// Small graph-editing helpers shared by the passes (internal to ep_passes).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/kernel.h"

namespace edgeperf::passes::detail {

bool is_graph_output(const graph::Graph& graph, const std::string& value);
bool is_graph_input(const graph::Graph& graph, const std::string& value);
// Number of node input slots that read `value`.
std::size_t use_count(const graph::Graph& graph, const std::string& value);
// True when exactly one node input slot reads `value` and it is not a graph output.
bool has_sole_consumer(const graph::Graph& graph, const std::string& value);
// Index of the node producing `value`, if any.
std::optional<std::size_t> producer_index(const graph::Graph& graph, const std::string& value);
// Replaces every node input reading `from` by `to`.
void replace_uses(graph::Graph& graph, const std::string& from, const std::string& to);
// A value name no input, initializer or node output uses yet, derived from `base`.
std::string unique_value_name(const graph::Graph& graph, const std::string& base);
// Erases nodes whose flag is set.
void erase_nodes(graph::Graph& graph, const std::vector<bool>& erase);
// Drops value_info hints for values that no node produces any more.
void prune_value_info(graph::Graph& graph);
// The initializer named `value` when it is f32, else nullptr.
const Tensor* f32_initializer(const graph::Graph& graph, const std::string& value);
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
