#pragma once
// Backends are execution providers, as in ONNX Runtime. The session holds an ordered
// provider list for its whole life (for example {sparse, onednn, reference}) and, for
// each input shape, offers the first provider every runtime node (nodes not folded to
// constants). A provider claims what it can, possibly fusing several nodes into one
// step (a conv with its activation, or a whole region that keeps blocked layouts
// between ops). Each maximal run of nodes it leaves is offered to the next provider;
// the reference provider, last, claims everything. Each provider owns its options.
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "edgeperf/runtime/initializer_releases.h"
#include "edgeperf/runtime/kernel.h"

namespace edgeperf::runtime {

// A runtime node with everything inferred about it.
struct PlannedNode {
  const graph::Node* node = nullptr;
  std::vector<TensorDesc> inputs;
  std::vector<const Tensor*> constants;  // per input, non-null when known
  std::vector<TensorDesc> outputs;
};

// How a provider lays out the 4-D activations of an image model. `automatic`: each op takes
// the layout its producer hands it where an optimized kernel reads that, and the layout
// oneDNN picks otherwise (channels-last after a 3-channel NCHW image). `blocked`: a conv that
// reads a plain NCHW input of at most 4 channels writes 16-channel blocks, which the ops
// after it keep. Which one runs faster depends on the model (depthwise convs favour blocks,
// grouped and concatenated ones channels-last); SessionOptions::tune_layout times both.
enum class ActivationLayout { automatic, blocked };
std::string layout_name(ActivationLayout layout);

// A value the session folded to a constant: the node that computed it and that node's
// inputs (each a constant; null for an absent optional input).
struct FoldedFrom {
  const graph::Node* node = nullptr;
  std::vector<const Tensor*> inputs;
};

struct LoweringInput {
  std::vector<PlannedNode> nodes;  // topological order
  // For each value: indices into `nodes` of the nodes that consume it.
  std::map<std::string, std::vector<std::size_t>> consumers;
  std::vector<std::string> graph_outputs;
  int threads = 1;
  ActivationLayout layout = ActivationLayout::automatic;
  // Set by a provider that would lower some node differently in the other layout; null:
  // nobody asks.
  bool* layout_sensitive = nullptr;
  std::int64_t opset = 13;  // of the default ONNX domain
  bool is_graph_output(const std::string& value) const;
  // Indices into `nodes` of the nodes reading `value` (none for an unread value).
  const std::vector<std::size_t>& consumers_of(const std::string& value) const;
  // Folded values computed by the op types some provider asked to look behind
  // (Backend::folds_to_trace): oneDNN packs int8 weights straight from the int8
  // initializer behind a folded DequantizeLinear instead of from its f32 result.
  std::map<std::string, FoldedFrom> folded_from;
  const FoldedFrom* folded_origin(const std::string& value) const;
  // Folded values not computed yet: their constants are zero placeholders. A provider must
  // not read their values; it may pack from their origin (Step::packed_from_origin). The
  // plan lowers again with every value computed when some step did read one.
  std::set<std::string> deferred;
  bool reads_deferred(const PlannedNode& node) const;
  // Initializers a provider may give back once it packed them for their only reader
  // (initializer_releases.h); null: none.
  InitializerReleases* releases = nullptr;
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
  // (value, consumer): the consumer, a node of this step, packed the origin of folded
  // `value` (LoweringInput::folded_from) and never read the value itself, so the value
  // may stay a deferred placeholder (StaticEvaluation::deferred).
  std::vector<std::pair<std::string, const graph::Node*>> packed_from_origin;
};

// The provider contract. A provider is created once per session; lower() runs once
// per input shape the session plans for (plans are cached by shape), so anything a
// provider tunes by timing is decided on the first lowering and remembered.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Claims nodes. Every node index appears in at most one returned step, and each
  // step must cover a contiguous run of `nodes` in topological order (keeps the
  // plan acyclic). Outputs of a step must include every covered value that is
  // consumed by an uncovered node or is a graph output.
  virtual std::vector<Step> lower(const LoweringInput& input) = 0;
  // Op types whose folded outputs this provider wants traced to their inputs
  // (LoweringInput::folded_from). The session still folds them.
  virtual std::vector<std::string> folds_to_trace() const { return {}; }
};

// The sub-problem of nodes [first, last) with indices from 0: consumers outside the
// range make their values graph outputs, so a provider exports every value read elsewhere.
LoweringInput slice(const LoweringInput& input, std::size_t first, std::size_t last);

// Lowers with providers[0], then offers each maximal run of unclaimed nodes to the
// rest of the list, in order. Steps come back in topological order; nodes no provider
// claims are left out (a list ending with the reference provider claims them all).
std::vector<Step> lower_with(const LoweringInput& input, std::span<Backend* const> providers);

struct OnednnOptions {
  // Our own int8 kernels (3x3 depthwise u8, RGB input quantization) inside oneDNN
  // regions; false: oneDNN's primitives only, for A/B comparisons.
  bool own_int8_kernels = true;
};
std::unique_ptr<Backend> make_onednn_backend(OnednnOptions options = {});
// Claims every node, one reference kernel each: the last provider of every list.
std::unique_ptr<Backend> make_reference_backend();

}  // namespace edgeperf::runtime
