#include "edgeperf/graph/graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <queue>
#include <set>

#include "edgeperf/core/error.h"

namespace edgeperf::graph {

bool ValueInfo::is_static() const {
  if (!has_shape) return false;
  for (const Dim& dim : dims) {
    if (!dim.is_static()) return false;
  }
  return true;
}

Shape ValueInfo::resolved_shape(std::int64_t symbolic_size) const {
  EP_CHECK(has_shape, "value '{}' has no shape", name);
  Shape shape;
  for (const Dim& dim : dims) shape.push_back(dim.is_static() ? dim.size : symbolic_size);
  element_count(shape, "value '" + name + "'");
  return shape;
}

std::string ValueInfo::to_string() const {
  std::string text = fmt::format("{}: {}", name, dtype_name(dtype));
  if (!has_shape) return text + "[?]";
  text += "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) text += ", ";
    text += dims[i].is_static() ? std::to_string(dims[i].size)
                                : (dims[i].symbol.empty() ? "?" : dims[i].symbol);
  }
  return text + "]";
}

namespace {

template <typename T>
const T& attr_as(const Node& node, const std::string& key, const char* type_name) {
  auto found = node.attrs.find(key);
  EP_CHECK(found != node.attrs.end(), "node {}: missing attribute '{}'", node.label(), key);
  const T* value = std::get_if<T>(&found->second);
  EP_CHECK(value != nullptr, "node {}: attribute '{}' is not {}", node.label(), key, type_name);
  return *value;
}

}  // namespace

std::int64_t Node::attr_int(const std::string& key, std::int64_t fallback) const {
  return has_attr(key) ? attr_as<std::int64_t>(*this, key, "an int") : fallback;
}
std::int64_t Node::attr_int(const std::string& key) const {
  return attr_as<std::int64_t>(*this, key, "an int");
}
float Node::attr_float(const std::string& key, float fallback) const {
  if (!has_attr(key)) return fallback;
  if (const auto* as_int = std::get_if<std::int64_t>(&attrs.at(key))) {
    return static_cast<float>(*as_int);
  }
  return attr_as<float>(*this, key, "a float");
}
std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  return has_attr(key) ? attr_as<std::string>(*this, key, "a string") : fallback;
}
std::vector<std::int64_t> Node::attr_ints(const std::string& key,
                                          std::vector<std::int64_t> fallback) const {
  return has_attr(key) ? attr_as<std::vector<std::int64_t>>(*this, key, "a list of ints")
                       : fallback;
}
std::vector<float> Node::attr_floats(const std::string& key, std::vector<float> fallback) const {
  return has_attr(key) ? attr_as<std::vector<float>>(*this, key, "a list of floats") : fallback;
}
const Tensor& Node::attr_tensor(const std::string& key) const {
  return attr_as<Tensor>(*this, key, "a tensor");
}
const Graph& Node::attr_graph(const std::string& key) const {
  const SubgraphPtr& graph = attr_as<SubgraphPtr>(*this, key, "a graph");
  EP_CHECK(graph != nullptr, "node {}: attribute '{}' holds no graph", label(), key);
  return *graph;
}
std::vector<std::string> Node::captures() const {
  if (!has_attr(kCapturesAttr)) return {};
  const auto& names = attr_as<std::vector<std::string>>(*this, kCapturesAttr, "a list of strings");
  EP_CHECK(names.size() <= inputs.size(), "node {}: {} captured values but {} inputs", label(),
           names.size(), inputs.size());
  return names;
}
std::string Node::label() const {
  return fmt::format("'{}' ({})", name.empty() ? (outputs.empty() ? "?" : outputs[0]) : name,
                     op_type);
}

std::vector<std::string> free_values(const Graph& subgraph) {
  std::set<std::string> defined;
  for (const ValueInfo& input : subgraph.inputs) defined.insert(input.name);
  for (const auto& [name, tensor] : subgraph.initializers) defined.insert(name);
  std::vector<std::string> free;
  std::set<std::string> seen;
  const auto read = [&](const std::string& value) {
    if (!value.empty() && !defined.count(value) && seen.insert(value).second) {
      free.push_back(value);
    }
  };
  for (const Node& node : subgraph.nodes) {
    for (const std::string& input : node.inputs) read(input);
    for (const std::string& output : node.outputs) defined.insert(output);
  }
  for (const ValueInfo& output : subgraph.outputs) read(output.name);
  return free;
}

const ValueInfo* Graph::find_input(const std::string& value) const {
  for (const ValueInfo& input : inputs) {
    if (input.name == value) return &input;
  }
  return nullptr;
}

bool Graph::is_output(const std::string& value) const {
  return std::any_of(outputs.begin(), outputs.end(),
                     [&](const ValueInfo& output) { return output.name == value; });
}

std::size_t Graph::use_count(const std::string& value) const {
  std::size_t count = 0;
  for (const Node& node : nodes) {
    count += static_cast<std::size_t>(std::count(node.inputs.begin(), node.inputs.end(), value));
  }
  return count;
}

bool Graph::has_sole_consumer(const std::string& value) const {
  return use_count(value) == 1 && !is_output(value);
}

const Node* Graph::producer_of(const std::string& value) const {
  for (const Node& node : nodes) {
    for (const std::string& output : node.outputs) {
      if (output == value) return &node;
    }
  }
  return nullptr;
}

std::optional<std::size_t> Graph::producer_index(const std::string& value) const {
  if (value.empty()) return std::nullopt;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::vector<std::string>& produced = nodes[i].outputs;
    if (std::find(produced.begin(), produced.end(), value) != produced.end()) return i;
  }
  return std::nullopt;
}

const Tensor* Graph::f32_initializer(const std::string& value) const {
  const auto found = initializers.find(value);
  if (found == initializers.end() || found->second.dtype() != DType::f32) return nullptr;
  return &found->second;
}

std::int64_t Graph::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& [name, tensor] : initializers) {
    if (tensor.dtype() != DType::i64 || tensor.numel() > 16) count += tensor.numel();
  }
  return count;
}

std::size_t Graph::weight_bytes() const {
  std::size_t bytes = 0;
  for (const auto& [name, tensor] : initializers) bytes += tensor.nbytes();
  return bytes;
}

void topological_sort(Graph& graph) {
  std::map<std::string, std::size_t> producer;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const std::string& output : graph.nodes[i].outputs) {
      if (!output.empty()) producer.emplace(output, i);
    }
  }
  const std::size_t count = graph.nodes.size();
  std::vector<std::size_t> pending(count, 0);
  std::vector<std::vector<std::size_t>> dependents(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::set<std::size_t> seen;
    for (const std::string& input : graph.nodes[i].inputs) {
      auto found = producer.find(input);
      if (found == producer.end() || !seen.insert(found->second).second) continue;
      ++pending[i];
      dependents[found->second].push_back(i);
    }
  }
  // A min-heap on the original index keeps the sort stable.
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t i = 0; i < count; ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<Node> sorted;
  sorted.reserve(count);
  std::vector<bool> done(count, false);
  while (!ready.empty()) {
    const std::size_t index = ready.top();
    ready.pop();
    done[index] = true;
    sorted.push_back(std::move(graph.nodes[index]));
    for (std::size_t dependent : dependents[index]) {
      if (--pending[dependent] == 0) ready.push(dependent);
    }
  }
  if (sorted.size() != count) {
    for (std::size_t i = 0; i < count; ++i) {
      if (!done[i]) {
        fail("graph '{}' has a cycle through node {}", graph.name, graph.nodes[i].label());
      }
    }
  }
  graph.nodes = std::move(sorted);
}

void validate(Graph& graph) {
  std::set<std::string> defined;
  for (const ValueInfo& input : graph.inputs) {
    EP_CHECK(!input.name.empty(), "graph '{}' has an input with an empty name", graph.name);
    EP_CHECK(defined.insert(input.name).second, "graph input '{}' is declared twice", input.name);
  }
  for (const auto& [name, tensor] : graph.initializers) defined.insert(name);
  for (const Node& node : graph.nodes) {
    EP_CHECK(!node.op_type.empty(), "node '{}' has no op type", node.name);
    for (const std::string& output : node.outputs) {
      if (output.empty()) continue;
      EP_CHECK(defined.insert(output).second, "value '{}' is produced twice (again by node {})",
               output, node.label());
    }
  }
  for (const Node& node : graph.nodes) {
    for (const std::string& input : node.inputs) {
      EP_CHECK(input.empty() || defined.count(input),
               "node {} reads '{}', which is not a graph input, initializer or node output",
               node.label(), input);
    }
  }
  for (const ValueInfo& output : graph.outputs) {
    EP_CHECK(defined.count(output.name), "graph output '{}' is never produced", output.name);
  }
  topological_sort(graph);
}

void prune_value_info(Graph& graph) {
  std::set<std::string> produced;
  for (const Node& node : graph.nodes) produced.insert(node.outputs.begin(), node.outputs.end());
  std::erase_if(graph.value_info,
                [&](const ValueInfo& value) { return !produced.count(value.name); });
}

std::map<std::string, std::vector<std::size_t>> consumers_of(const Graph& graph) {
  std::map<std::string, std::vector<std::size_t>> consumers;
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const std::string& input : graph.nodes[i].inputs) {
      if (!input.empty()) consumers[input].push_back(i);
    }
  }
  return consumers;
}

}  // namespace edgeperf::graph
