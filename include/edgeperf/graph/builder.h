#pragma once
// A small builder for constructing graphs in code (model zoo, tests).
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::graph {

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string name, std::int64_t opset = 13);

  // Declares a runtime input; returns its value name.
  std::string input(const std::string& name, DType dtype, std::vector<Dim> dims);
  // Adds an initializer; returns its value name (unique-ified when taken).
  std::string initializer(const std::string& name, Tensor value);
  // Adds a node with one output; returns the output value name.
  std::string node(const std::string& op_type, std::vector<std::string> inputs,
                   std::map<std::string, AttrValue> attrs = {}, const std::string& name = "");
  // Adds a node with several outputs; returns their names.
  std::vector<std::string> node_multi(const std::string& op_type, std::vector<std::string> inputs,
                                      std::size_t output_count,
                                      std::map<std::string, AttrValue> attrs = {},
                                      const std::string& name = "");
  void output(const std::string& value, DType dtype, std::vector<Dim> dims);

  // Validates and returns the graph.
  Graph build();

 private:
  std::string unique(const std::string& base);
  Graph graph_;
  std::map<std::string, int> name_counts_;
};

}  // namespace edgeperf::graph
