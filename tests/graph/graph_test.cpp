#include <gtest/gtest.h>

#include "edgeperf/graph/builder.h"
#include "edgeperf/graph/editor.h"

namespace edgeperf::graph {
namespace {

Graph two_node_graph() {
  Graph graph;
  graph.inputs.push_back(ValueInfo{"x", DType::f32, {Dim::fixed(2)}, true});
  graph.outputs.push_back(ValueInfo{"z", DType::f32, {Dim::fixed(2)}, true});
  graph.nodes.push_back(make_node("Relu", "second", {"y"}, {"z"}));
  graph.nodes.push_back(make_node("Relu", "first", {"x"}, {"y"}));
  return graph;
}

TEST(Graph, TopologicalSortOrdersProducersFirst) {
  Graph graph = two_node_graph();
  validate(graph);
  EXPECT_EQ(graph.nodes[0].name, "first");
  EXPECT_EQ(graph.nodes[1].name, "second");
}

TEST(Graph, CycleIsReportedWithANodeName) {
  Graph graph = two_node_graph();
  graph.nodes[1].inputs = {"z"};  // first reads second's output: a cycle
  try {
    validate(graph);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("cycle"), std::string::npos);
  }
}

TEST(Graph, MissingInitializerIsNamed) {
  Graph graph = two_node_graph();
  graph.nodes[1].inputs = {"x", "missing_weight"};
  try {
    validate(graph);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("missing_weight"), std::string::npos);
  }
}

TEST(Graph, DuplicateProducerAndUnproducedOutputAreRejected) {
  Graph graph = two_node_graph();
  graph.nodes[0].outputs = {"y"};
  EXPECT_THROW(validate(graph), Error);
  graph = two_node_graph();
  graph.outputs[0].name = "nowhere";
  EXPECT_THROW(validate(graph), Error);
}

TEST(GraphBuilder, BuildsAValidatedGraphWithUniqueNames) {
  GraphBuilder builder("b");
  const std::string x = builder.input("x", DType::f32, {Dim::named("batch"), Dim::fixed(4)});
  const std::string a = builder.node("Relu", {x});
  const std::string b = builder.node("Relu", {a});
  builder.output(b, DType::f32, {Dim::named("batch"), Dim::fixed(4)});
  Graph graph = builder.build();
  ASSERT_EQ(graph.nodes.size(), 2u);
  EXPECT_NE(graph.nodes[0].name, graph.nodes[1].name);
  EXPECT_EQ(graph.inputs[0].resolved_shape(3), (Shape{3, 4}));
  EXPECT_EQ(graph.inputs[0].to_string(), "x: f32[batch, 4]");
}

TEST(Node, AttributeTypeMismatchNamesNodeAndAttribute) {
  Node node = make_node("Conv", "c", {}, {});
  node.attrs["group"] = std::string("two");
  try {
    node.attr_int("group", 1);
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'c' (Conv)"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("group"), std::string::npos);
  }
}

}  // namespace
}  // namespace edgeperf::graph
