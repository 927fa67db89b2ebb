#pragma once
// What is known about a graph before it runs: every value's dtype and shape, and the
// values computable from initializers alone (constant subgraphs, Shape of static
// shapes). One evaluator, with the reference kernels, for the session and the tests.
#include <map>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime {

struct StaticEvaluation {
  std::map<std::string, TensorDesc> descs;
  std::map<std::string, Tensor> constants;  // initializers and folded values
  std::vector<PlannedNode> runtime_nodes;   // the nodes left to run, in graph order
};

// The graph must be validated (topologically sorted) and use only supported ops.
// `inputs` gives a static descriptor for every graph input. A node whose shape
// inference or evaluation fails throws an Error naming the node. The result's
// PlannedNodes point into `graph` and into the result's own `constants`.
StaticEvaluation evaluate_static(const graph::Graph& graph,
                                 const std::map<std::string, TensorDesc>& inputs);

}  // namespace edgeperf::runtime
