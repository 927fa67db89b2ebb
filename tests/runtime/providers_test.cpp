// The provider chain: each provider is offered only the runs of nodes the ones before
// it left, as a self-contained sub-problem, and the reference provider takes the rest.
#include <gtest/gtest.h>

#include "edgeperf/graph/builder.h"
#include "edgeperf/runtime/backend.h"
#include "edgeperf/runtime/static_eval.h"

namespace edgeperf::runtime {
namespace {

using graph::Dim;

// x -> Relu -> Relu -> ... (`length` nodes) -> y
graph::Graph relu_chain(int length) {
  graph::GraphBuilder builder("chain");
  std::string value = builder.input("x", DType::f32, {Dim::fixed(4)});
  for (int i = 0; i < length; ++i) value = builder.node("Relu", {value});
  builder.output(value, DType::f32, {Dim::fixed(4)});
  return builder.build();
}

LoweringInput lowering_of(const graph::Graph& graph, const StaticEvaluation& known) {
  LoweringInput input;
  input.nodes = known.runtime_nodes;
  for (std::size_t i = 0; i < input.nodes.size(); ++i) {
    for (const std::string& value : input.nodes[i].node->inputs)
      input.consumers[value].push_back(i);
  }
  for (const graph::ValueInfo& output : graph.outputs) input.graph_outputs.push_back(output.name);
  return input;
}

// Claims the nodes at the given positions of what it is offered, one step for all;
// remembers what it was offered.
class ClaimingProvider final : public Backend {
 public:
  explicit ClaimingProvider(std::vector<std::size_t> claim) : claim_(std::move(claim)) {}
  std::string name() const override { return "claiming"; }
  std::vector<Step> lower(const LoweringInput& input) override {
    offered.push_back(input);
    if (claim_.empty()) return {};
    Step step;
    step.nodes = claim_;
    step.backend = name();
    step.outputs = {input.nodes[claim_.back()].node->outputs[0]};
    std::vector<Step> steps;
    steps.push_back(std::move(step));
    return steps;
  }
  std::vector<LoweringInput> offered;

 private:
  std::vector<std::size_t> claim_;
};

TEST(Providers, EachRunLeftOverGoesToTheNextProvider) {
  const graph::Graph graph = relu_chain(5);
  const StaticEvaluation known = evaluate_static(graph, {{"x", TensorDesc{DType::f32, {4}}}});
  const LoweringInput input = lowering_of(graph, known);
  ClaimingProvider first({1, 2});
  std::unique_ptr<Backend> reference = make_reference_backend();
  Backend* const providers[] = {&first, reference.get()};
  const std::vector<Step> steps = lower_with(input, providers);

  ASSERT_EQ(steps.size(), 4u);  // [0] reference, [1,2] claiming, [3] and [4] reference
  EXPECT_EQ(steps[0].backend, "reference");
  EXPECT_EQ(steps[0].nodes, (std::vector<std::size_t>{0}));
  EXPECT_EQ(steps[1].backend, "claiming");
  EXPECT_EQ(steps[1].nodes, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(steps[2].nodes, (std::vector<std::size_t>{3}));  // shifted back from the slice
  EXPECT_EQ(steps[3].nodes, (std::vector<std::size_t>{4}));
  EXPECT_EQ(steps[3].backend, "reference");
}

TEST(Providers, ASliceExportsValuesReadOutsideIt) {
  const graph::Graph graph = relu_chain(5);
  const StaticEvaluation known = evaluate_static(graph, {{"x", TensorDesc{DType::f32, {4}}}});
  const LoweringInput input = lowering_of(graph, known);
  ClaimingProvider first({1, 2});
  ClaimingProvider second({});  // claims nothing: sees both leftover runs
  std::unique_ptr<Backend> reference = make_reference_backend();
  Backend* const providers[] = {&first, &second, reference.get()};
  lower_with(input, providers);

  ASSERT_EQ(second.offered.size(), 2u);
  const LoweringInput& head = second.offered[0];
  ASSERT_EQ(head.nodes.size(), 1u);
  EXPECT_EQ(head.nodes[0].node, input.nodes[0].node);
  const std::string& head_output = input.nodes[0].node->outputs[0];  // read by node 1
  EXPECT_NE(std::find(head.graph_outputs.begin(), head.graph_outputs.end(), head_output),
            head.graph_outputs.end());
  const LoweringInput& tail = second.offered[1];
  ASSERT_EQ(tail.nodes.size(), 2u);
  EXPECT_EQ(tail.nodes[0].node, input.nodes[3].node);
  EXPECT_EQ(tail.consumers.at(input.nodes[3].node->outputs[0]), (std::vector<std::size_t>{1}));
}

TEST(Providers, AProviderClaimingANodeTwiceIsAnError) {
  const graph::Graph graph = relu_chain(3);
  const StaticEvaluation known = evaluate_static(graph, {{"x", TensorDesc{DType::f32, {4}}}});
  ClaimingProvider twice({1, 1});
  Backend* const providers[] = {&twice};
  EXPECT_THROW(lower_with(lowering_of(graph, known), providers), Error);
}

TEST(StaticEval, FoldsConstantsAndNamesTheNodeOnBadShapes) {
  graph::GraphBuilder builder("fold");
  const std::string x = builder.input("x", DType::f32, {Dim::fixed(3)});
  const std::string one = builder.initializer("one", make_tensor<float>({3}, {1.0f, 1.0f, 1.0f}));
  const std::string two = builder.node("Add", {one, one});
  const std::string y = builder.node("Mul", {x, two}, {}, "scale");
  builder.output(y, DType::f32, {Dim::fixed(3)});
  const graph::Graph graph = builder.build();
  const StaticEvaluation known = evaluate_static(graph, {{"x", TensorDesc{DType::f32, {3}}}});
  ASSERT_EQ(known.runtime_nodes.size(), 1u);
  EXPECT_EQ(known.runtime_nodes[0].node->name, "scale");
  EXPECT_FLOAT_EQ(known.constants.at(two).values<float>()[0], 2.0f);
  EXPECT_EQ(known.runtime_nodes[0].constants[1], &known.constants.at(two));
  try {
    evaluate_static(graph, {{"x", TensorDesc{DType::f32, {2, 5}}}});
    FAIL() << "a shape that does not broadcast must fail";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("scale"), std::string::npos) << error.what();
  }
}

// x + DequantizeLinear(w_q, scale): the dequantized weights fold to a constant; a
// provider that asked to trace DequantizeLinear sees where they came from.
graph::Graph dequantized_weights() {
  graph::GraphBuilder builder("dq");
  const std::string x = builder.input("x", DType::f32, {Dim::fixed(4)});
  const std::string q = builder.initializer("w_q", make_tensor<std::int8_t>({4}, {-2, -1, 1, 2}));
  const std::string scale = builder.initializer("scale", make_tensor<float>({}, {0.5f}));
  const std::string w = builder.node("DequantizeLinear", {q, scale});
  builder.output(builder.node("Add", {x, w}), DType::f32, {Dim::fixed(4)});
  return builder.build();
}

TEST(StaticEvaluation, TracedFoldsRecordTheirInputs) {
  const graph::Graph graph = dequantized_weights();
  const std::map<std::string, TensorDesc> inputs{{"x", TensorDesc{DType::f32, {4}}}};
  const StaticEvaluation plain = evaluate_static(graph, inputs);
  EXPECT_TRUE(plain.folded_from.empty());
  ASSERT_EQ(plain.runtime_nodes.size(), 1u);  // the Add; the DequantizeLinear folded
  EXPECT_TRUE(plain.folded[0]);

  StaticEvalOptions options;
  options.traced_ops = {"DequantizeLinear"};
  const StaticEvaluation traced = evaluate_static(graph, inputs, options);
  const std::string& w = graph.nodes[0].outputs[0];
  ASSERT_EQ(traced.folded_from.count(w), 1u);
  const FoldedFrom& origin = traced.folded_from.at(w);
  EXPECT_EQ(origin.node, &graph.nodes[0]);
  ASSERT_EQ(origin.inputs.size(), 2u);
  EXPECT_EQ(origin.inputs[0]->values<std::int8_t>()[3], 2);
  EXPECT_EQ(traced.constants.at(w).values<float>()[3], 1.0f);
}

// Graph passes evaluate tolerantly: an unknown input leaves the nodes after it unknown,
// where the session would need it.
TEST(StaticEvaluation, TolerantEvaluationSkipsWhatItCannotKnow) {
  const graph::Graph graph = dequantized_weights();
  StaticEvalOptions options;
  options.tolerant = true;
  options.fold_limit_bytes = 8;  // the 16-byte dequantized weights stay
  const StaticEvaluation known = evaluate_static(graph, {}, options);
  EXPECT_FALSE(known.folded[0]);
  EXPECT_NE(known.not_folded_reason[0].find("folding cap"), std::string::npos);
  EXPECT_TRUE(known.runtime_nodes.size() == 1u);  // the DequantizeLinear; the Add is unknown
  EXPECT_EQ(known.descs.count(graph.nodes[1].outputs[0]), 0u);
  EXPECT_THROW(evaluate_static(graph, {}), std::exception);
}

}  // namespace
}  // namespace edgeperf::runtime
