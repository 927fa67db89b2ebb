#pragma once
// What is known about a graph before it runs: every value's dtype and shape, and the
// values computable from initializers alone (constant subgraphs, Shape of static
// shapes). One evaluator, with the reference kernels, for the session, the graph passes
// and the tests.
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime {

// A fold computed only when something needs its values (StaticEvalOptions::defer_traced_bytes).
struct DeferredFold {
  const KernelRegistration* kernel = nullptr;
  PrepareContext context;  // of the node computing it; constants point into `constants`
  std::size_t output = 0;  // which output of that node
};

struct StaticEvaluation {
  std::map<std::string, TensorDesc> descs;
  std::map<std::string, Tensor> constants;  // initializers and folded values
  std::vector<PlannedNode> runtime_nodes;   // the nodes left to run, in graph order
  // Nodes whose output shapes depend on values known only at run time (their infer()
  // threw DataDependentShape), and every node reading their outputs, in graph order:
  // the interpreter runs them after the planned nodes. Their outputs have no descs.
  std::vector<const graph::Node*> interpreted_nodes;
  std::set<std::string> interpreted_values;       // outputs of interpreted_nodes
  std::map<std::string, FoldedFrom> folded_from;  // see LoweringInput::folded_from
  // Folds not computed yet: their entry in `constants` is a zero placeholder
  // (Tensor::read_only_zeros) until materialize() replaces it in place.
  std::map<std::string, DeferredFold> deferred;
  // Per graph node: folded to constants, or why not (empty when simply not constant).
  std::vector<bool> folded;
  std::vector<std::string> not_folded_reason;
};

struct StaticEvalOptions {
  // Folded outputs of nodes of these op types are recorded in `folded_from`.
  std::set<std::string> traced_ops;
  // Traced folds with outputs of at least this many bytes are deferred (see
  // StaticEvaluation::deferred): a provider that packs from the fold's origin never needs
  // them (the f32 weights a DequantizeLinear of int8 weights folds to, four times their
  // size). A folded node reading one computes it first. Graph outputs are never deferred.
  std::size_t defer_traced_bytes = std::numeric_limits<std::size_t>::max();
  // For graph passes: a node without a kernel, with an input not known, or whose
  // inference or evaluation fails leaves its outputs unknown instead of throwing.
  bool tolerant = false;
  // Constant nodes whose outputs would take more are kept (with a reason).
  std::size_t fold_limit_bytes = std::numeric_limits<std::size_t>::max();
  // A reason to keep a constant node unfolded, or nullopt to fold it.
  std::function<std::optional<std::string>(const graph::Node&, const PrepareContext&)> keep;
};

// The graph must be validated (topologically sorted) and use only supported ops.
// Planned nodes never read interpreted values, so the plan can run before the interpreter.
// `inputs` gives a static descriptor for every graph input (tolerant evaluations may
// leave some out). Unless tolerant, a node whose shape inference or evaluation fails
// throws an Error naming the node. The result's PlannedNodes point into `graph` and
// into the result's own `constants`.
StaticEvaluation evaluate_static(const graph::Graph& graph,
                                 const std::map<std::string, TensorDesc>& inputs,
                                 const StaticEvalOptions& options = {});

// Computes deferred value `name` in place (its Tensor object keeps its address, so
// pointers to it stay valid). No-op for a value that is not deferred.
void materialize(StaticEvaluation& known, const std::string& name);

}  // namespace edgeperf::runtime
