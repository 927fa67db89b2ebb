#include "edgeperf/graph/builder.h"

#include <fmt/format.h>

namespace edgeperf::graph {

GraphBuilder::GraphBuilder(std::string name, std::int64_t opset) {
  graph_.name = std::move(name);
  graph_.opset = opset;
}

std::string GraphBuilder::unique(const std::string& base) {
  const int count = name_counts_[base]++;
  return count == 0 ? base : fmt::format("{}_{}", base, count);
}

std::string GraphBuilder::input(const std::string& name, DType dtype, std::vector<Dim> dims) {
  const std::string value = unique(name);
  graph_.inputs.push_back(ValueInfo{value, dtype, std::move(dims), true});
  return value;
}

std::string GraphBuilder::initializer(const std::string& name, Tensor value) {
  const std::string unique_name = unique(name);
  graph_.initializers.emplace(unique_name, std::move(value));
  return unique_name;
}

std::string GraphBuilder::node(const std::string& op_type, std::vector<std::string> inputs,
                               std::map<std::string, AttrValue> attrs, const std::string& name) {
  return node_multi(op_type, std::move(inputs), 1, std::move(attrs), name).front();
}

std::vector<std::string> GraphBuilder::node_multi(const std::string& op_type,
                                                  std::vector<std::string> inputs,
                                                  std::size_t output_count,
                                                  std::map<std::string, AttrValue> attrs,
                                                  const std::string& name) {
  Node node;
  node.name = unique(name.empty() ? op_type : name);
  node.op_type = op_type;
  node.inputs = std::move(inputs);
  node.attrs = std::move(attrs);
  for (std::size_t i = 0; i < output_count; ++i) {
    node.outputs.push_back(output_count == 1 ? node.name + "_out"
                                             : fmt::format("{}_out{}", node.name, i));
  }
  std::vector<std::string> outputs = node.outputs;
  graph_.nodes.push_back(std::move(node));
  return outputs;
}

void GraphBuilder::output(const std::string& value, DType dtype, std::vector<Dim> dims) {
  graph_.outputs.push_back(ValueInfo{value, dtype, std::move(dims), true});
}

Graph GraphBuilder::build() {
  Graph graph = graph_;
  validate(graph);
  return graph;
}

}  // namespace edgeperf::graph
