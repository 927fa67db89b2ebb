#pragma once
// edgeperf's graph IR: an ONNX-shaped dataflow graph with named values.
// Values are identified by name; an empty input name means "optional input absent".
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "edgeperf/core/dtype.h"
#include "edgeperf/core/tensor.h"

namespace edgeperf::graph {

// A dimension is either a static size or a symbol (e.g. "batch").
struct Dim {
  std::int64_t size = -1;  // >= 0 when static
  std::string symbol;      // set when symbolic (or unknown, when empty and size < 0)
  bool is_static() const { return size >= 0; }
  static Dim fixed(std::int64_t value) { return Dim{value, {}}; }
  static Dim named(std::string name) { return Dim{-1, std::move(name)}; }
  bool operator==(const Dim&) const = default;
};

struct ValueInfo {
  std::string name;
  DType dtype = DType::f32;
  std::vector<Dim> dims;
  bool has_shape = false;  // false: rank unknown

  bool is_static() const;
  // Static shape with every symbolic dimension replaced by `symbolic_size`.
  Shape resolved_shape(std::int64_t symbolic_size = 1) const;
  std::string to_string() const;  // "x: f32[batch, 3, 224, 224]"
};

struct Graph;
// A GRAPH attribute (If's then_branch and else_branch). Shared and never modified in
// place: a pass that changes a subgraph replaces the pointer.
using SubgraphPtr = std::shared_ptr<const Graph>;

using AttrValue = std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>,
                               std::vector<float>, std::vector<std::string>, Tensor, SubgraphPtr>;

// A subgraph reads values of the enclosing graphs by name. So that ordering, dead-code
// elimination and renaming passes see those reads, the importer appends the values to
// the node's inputs (after the op's own) and records, under this attribute, the names
// the subgraphs use for them, in the same order. Export undoes both.
inline constexpr const char* kCapturesAttr = "edgeperf.captures";

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" for the default ONNX domain
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, AttrValue> attrs;

  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
  bool has_input(std::size_t index) const {
    return index < inputs.size() && !inputs[index].empty();
  }
  // Typed attribute access; a wrong type throws Error naming the node and attribute.
  std::int64_t attr_int(const std::string& key, std::int64_t fallback) const;
  std::int64_t attr_int(const std::string& key) const;
  float attr_float(const std::string& key, float fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<std::int64_t> attr_ints(const std::string& key,
                                      std::vector<std::int64_t> fallback = {}) const;
  std::vector<float> attr_floats(const std::string& key, std::vector<float> fallback = {}) const;
  const Tensor& attr_tensor(const std::string& key) const;
  const Graph& attr_graph(const std::string& key) const;
  // The names the node's subgraphs read from enclosing graphs (see kCapturesAttr);
  // they are bound to the node's last captures().size() inputs.
  std::vector<std::string> captures() const;
  // Inputs of the op itself, without the captured values.
  std::size_t own_input_count() const { return inputs.size() - captures().size(); }
  // "'conv1' (Conv)", used in every error message about a node.
  std::string label() const;
};

struct Graph {
  std::string name = "graph";
  std::int64_t opset = 13;
  std::string producer = "edgeperf";
  // The model's metadata_props (exporters put class names, task, input size there);
  // kept through every pass and written back on export.
  std::map<std::string, std::string> metadata;
  std::vector<ValueInfo> inputs;  // runtime inputs only (never initializers)
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> value_info;  // optional shape hints for intermediates
  std::map<std::string, Tensor> initializers;
  std::vector<Node> nodes;  // topologically sorted after topological_sort()/validate()

  const ValueInfo* find_input(const std::string& value) const;
  bool is_output(const std::string& value) const;
  // Number of node input slots that read `value`.
  std::size_t use_count(const std::string& value) const;
  // True when exactly one node input slot reads `value` and it is not a graph output.
  bool has_sole_consumer(const std::string& value) const;
  const Node* producer_of(const std::string& value) const;
  // Index into `nodes` of the node producing `value`; nullopt for "" and unproduced values.
  std::optional<std::size_t> producer_index(const std::string& value) const;
  // The initializer named `value` when it is f32, else nullptr.
  const Tensor* f32_initializer(const std::string& value) const;
  std::int64_t parameter_count() const;  // elements in floating/integer initializers
  std::size_t weight_bytes() const;
};

// Sorts nodes so every value is produced before it is consumed (stable: keeps the
// original order where it is already valid). Throws Error naming a node on a cycle.
void topological_sort(Graph& graph);

// Checks structural soundness: unique value producers, every consumed value defined
// (graph input, initializer or node output), graph outputs produced, no cycles.
// Sorts the graph topologically. Throws Error naming the first problem found.
void validate(Graph& graph);

// Drops value_info hints for values that no node produces any more.
void prune_value_info(Graph& graph);

// Values a subgraph reads without defining them (its inputs, initializers and node
// outputs define values), in first-read order: what it captures from enclosing graphs.
std::vector<std::string> free_values(const Graph& subgraph);

// Values consumed by each node, keyed by value name -> consuming node indices.
std::map<std::string, std::vector<std::size_t>> consumers_of(const Graph& graph);

}  // namespace edgeperf::graph
