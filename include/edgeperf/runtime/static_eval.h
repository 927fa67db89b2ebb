#pragma once
// What is known about a graph before it runs: every value's dtype and shape, and the
// values computable from initializers alone (constant subgraphs, Shape of static
// shapes). One evaluator, with the reference kernels, for the session and the tests.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime {

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
};

// The graph must be validated (topologically sorted) and use only supported ops.
// Planned nodes never read interpreted values, so the plan can run before the interpreter.
// `inputs` gives a static descriptor for every graph input. A node whose shape
// inference or evaluation fails throws an Error naming the node. The result's
// PlannedNodes point into `graph` and into the result's own `constants`.
// Folded outputs of nodes whose op type is in `traced_ops` are recorded in `folded_from`.
StaticEvaluation evaluate_static(const graph::Graph& graph,
                                 const std::map<std::string, TensorDesc>& inputs,
                                 const std::set<std::string>& traced_ops = {});

}  // namespace edgeperf::runtime
