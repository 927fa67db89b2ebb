#include "edgeperf/graph/editor.h"

#include <gtest/gtest.h>

#include "edgeperf/core/error.h"

namespace edgeperf::graph {
namespace {

// x -> relu "a" -> y -> relu "b" -> z (graph output); y is also read by "c" twice.
Graph chain() {
  Graph graph;
  graph.inputs.push_back(ValueInfo{"x", DType::f32, {Dim::fixed(2)}, true});
  graph.outputs.push_back(ValueInfo{"z", DType::f32, {Dim::fixed(2)}, true});
  graph.initializers.emplace("w", make_tensor<float>({2}, {1.0f, 2.0f}));
  graph.nodes.push_back(make_node("Relu", "a", {"x"}, {"y"}));
  graph.nodes.push_back(make_node("Relu", "b", {"y"}, {"z"}));
  graph.nodes.push_back(make_node("Add", "c", {"y", "y"}, {"u"}));
  return graph;
}

TEST(GraphQueries, IsOutputUseCountAndProducer) {
  const Graph graph = chain();
  EXPECT_TRUE(graph.is_output("z"));
  EXPECT_FALSE(graph.is_output("y"));
  EXPECT_EQ(graph.use_count("y"), 3u);  // input slots, not nodes
  EXPECT_EQ(graph.use_count("z"), 0u);
  EXPECT_EQ(graph.use_count("x"), 1u);
  EXPECT_EQ(graph.producer_index("z"), std::optional<std::size_t>(1));
  EXPECT_EQ(graph.producer_index("x"), std::nullopt);
  EXPECT_EQ(graph.producer_index(""), std::nullopt);
  ASSERT_NE(graph.producer_of("u"), nullptr);
  EXPECT_EQ(graph.producer_of("u")->name, "c");
  EXPECT_EQ(graph.producer_of("w"), nullptr);
}

TEST(GraphQueries, SoleConsumerExcludesGraphOutputs) {
  Graph graph = chain();
  EXPECT_TRUE(graph.has_sole_consumer("x"));
  EXPECT_FALSE(graph.has_sole_consumer("y"));
  graph.nodes.push_back(make_node("Relu", "d", {"z"}, {"v"}));
  EXPECT_EQ(graph.use_count("z"), 1u);
  EXPECT_FALSE(graph.has_sole_consumer("z"));  // the caller outside also reads it
}

TEST(GraphQueries, F32InitializerOnlyForF32) {
  Graph graph = chain();
  graph.initializers.emplace("shape", make_tensor<std::int64_t>({1}, {2}));
  EXPECT_NE(graph.f32_initializer("w"), nullptr);
  EXPECT_EQ(graph.f32_initializer("shape"), nullptr);
  EXPECT_EQ(graph.f32_initializer("y"), nullptr);
}

TEST(GraphQueries, PruneValueInfoKeepsOnlyProducedValues) {
  Graph graph = chain();
  graph.value_info.push_back(ValueInfo{"y", DType::f32, {}, false});
  graph.value_info.push_back(ValueInfo{"gone", DType::f32, {}, false});
  prune_value_info(graph);
  ASSERT_EQ(graph.value_info.size(), 1u);
  EXPECT_EQ(graph.value_info[0].name, "y");
}

TEST(FreshNames, AvoidsEveryValueNameAndEarlierHandouts) {
  const Graph graph = chain();
  FreshNames names(graph);
  EXPECT_EQ(names.take("new"), "new");
  EXPECT_EQ(names.take("new"), "new_1");
  EXPECT_EQ(names.take("new"), "new_2");
  EXPECT_EQ(names.take("x"), "x_1");  // graph input
  EXPECT_EQ(names.take("w"), "w_1");  // initializer
  EXPECT_EQ(names.take("u"), "u_1");  // node output
  EXPECT_EQ(names.take("z"), "z_1");  // graph output
  EXPECT_EQ(names.take("a"), "a");    // node names are a separate pool by default
}

TEST(FreshNames, NodeScopeAndSeparator) {
  Graph graph = chain();
  FreshNames names(graph, FreshNames::Scope::values_and_nodes);
  EXPECT_EQ(names.take("a"), "a_1");
  names.reserve("w_pruned");
  EXPECT_EQ(names.take("w_pruned", ""), "w_pruned1");
}

TEST(FreshNames, ShortNamesSkipTakenOnes) {
  Graph graph = chain();
  graph.initializers.emplace("t0", make_tensor<float>({}, {0.0f}));
  FreshNames names(graph);
  EXPECT_EQ(names.take_short(), "t1");
  EXPECT_EQ(names.take_short(), "t2");
  EXPECT_EQ(names.take("t3"), "t3");
  EXPECT_EQ(names.take_short(), "t4");
}

TEST(Editor, AddInitializerUsesAFreshName) {
  Graph graph = chain();
  Editor editor(graph);
  EXPECT_EQ(editor.add_initializer("w", make_tensor<float>({}, {3.0f})), "w_1");
  EXPECT_EQ(editor.add_initializer("w", make_tensor<float>({}, {4.0f})), "w_2");
  EXPECT_EQ(graph.initializers.at("w_2").data<float>()[0], 4.0f);
  EXPECT_EQ(graph.initializers.at("w").numel(), 2);
}

TEST(Editor, ReplaceUsesRewiresEveryInputSlot) {
  Graph graph = chain();
  Editor(graph).replace_uses("y", "x");
  EXPECT_EQ(graph.use_count("y"), 0u);
  EXPECT_EQ(graph.use_count("x"), 4u);
  EXPECT_EQ(graph.nodes[0].outputs[0], "y");  // outputs are untouched
}

TEST(Editor, EraseKeepsOrderOfTheRest) {
  Graph graph = chain();
  Editor(graph).erase({false, true, false});
  ASSERT_EQ(graph.nodes.size(), 2u);
  EXPECT_EQ(graph.nodes[0].name, "a");
  EXPECT_EQ(graph.nodes[1].name, "c");
  EXPECT_THROW(Editor(graph).erase({true}), Error);
}

TEST(Editor, MakeNodeSetsEveryField) {
  const Node node = make_node("Clip", "clip", {"x", "", "hi"}, {"y"}, {{"k", std::int64_t{2}}});
  EXPECT_EQ(node.op_type, "Clip");
  EXPECT_EQ(node.name, "clip");
  EXPECT_EQ(node.inputs, (std::vector<std::string>{"x", "", "hi"}));
  EXPECT_EQ(node.outputs, (std::vector<std::string>{"y"}));
  EXPECT_EQ(node.attr_int("k"), 2);
  EXPECT_TRUE(node.domain.empty());
}

}  // namespace
}  // namespace edgeperf::graph
