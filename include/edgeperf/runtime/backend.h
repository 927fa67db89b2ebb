#pragma once
// A backend lowers the graph's runtime nodes into executable steps. The session
// offers every node that is not folded to a constant; the backend claims what it
// can, possibly fusing several nodes into one step (a conv with its activation,
// or a whole region that keeps blocked layouts between ops). Unclaimed nodes
// become reference steps.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgeperf/runtime/kernel.h"

namespace edgeperf::runtime {

// A runtime node with everything inferred about it.
struct PlannedNode {
  const graph::Node* node = nullptr;
  std::vector<TensorDesc> inputs;
  std::vector<const Tensor*> constants;  // per input, non-null when known
  std::vector<TensorDesc> outputs;
};

struct LoweringInput {
  std::vector<PlannedNode> nodes;  // topological order
  // For each value: indices into `nodes` of the nodes that consume it.
  std::map<std::string, std::vector<std::size_t>> consumers;
  std::vector<std::string> graph_outputs;
  int threads = 1;
  bool own_int8_kernels = true;  // SessionOptions::own_int8_kernels
  // The whole graph, for backends that look behind folded constants (the int8
  // weights and scales of a DequantizeLinear the session folded). May be null.
  const graph::Graph* graph = nullptr;
};

// One executable unit. `inputs` are values it reads (runtime values only: the
// kernel keeps the constants it needs), `outputs` the values it writes that
// anything outside the step reads. `nodes` lists the indices of the nodes covered.
struct Step {
  std::unique_ptr<Kernel> kernel;
  std::vector<std::string> inputs;
  std::vector<TensorDesc> input_descs;
  std::vector<std::string> outputs;
  std::vector<TensorDesc> output_descs;
  std::vector<std::size_t> nodes;
  std::string backend;  // "reference", "onednn"
  std::string label;    // e.g. "Conv+Relu 'conv1'"
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Claims nodes. Every node index appears in at most one returned step, and each
  // step must cover a contiguous run of `nodes` in topological order (keeps the
  // plan acyclic). Outputs of a step must include every covered value that is
  // consumed by an uncovered node or is a graph output.
  virtual std::vector<Step> lower(const LoweringInput& input) = 0;
};

std::unique_ptr<Backend> make_onednn_backend();

}  // namespace edgeperf::runtime
