#include "edgeperf/runtime/expand_nbits_matmuls.h"

#include <gtest/gtest.h>

#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/runtime/reference.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::runtime {
namespace {

using graph::Dim;
using graph::GraphBuilder;

constexpr std::int64_t kRows = 3, kK = 40, kN = 24, kBlock = 16;
constexpr std::int64_t kBlocks = (kK + kBlock - 1) / kBlock;  // the last block is partial

struct NBitsOptions {
  bool zero_points = false;  // packed u8 zero points, else the default 8
  bool bias = false;
  bool constant_weights = true;  // B an initializer, else a graph input
};

Tensor random_bytes(Shape shape, std::uint64_t seed) {
  const Tensor values = random_tensor(DType::f32, shape, seed, 0.0, 255.99);
  Tensor bytes(DType::u8, std::move(shape));
  for (std::int64_t i = 0; i < values.numel(); ++i) {
    bytes.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(values.values<float>()[i]);
  }
  return bytes;
}

// x [3, 40] -> MatMulNBits (4 bits, blocks of 16) -> y [3, 24]; the node is the graph's
// only one, named "fc", its inputs "x", "B", "scales", "zero_points", "", "bias".
graph::Graph nbits_graph(const NBitsOptions& options) {
  GraphBuilder b("nbits");
  const std::string x = b.input("x", DType::f32, {Dim::fixed(kRows), Dim::fixed(kK)});
  const Tensor codes = random_bytes({kN, kBlocks, kBlock / 2}, 5);
  const std::string codes_name =
      options.constant_weights
          ? b.initializer("B", codes)
          : b.input("B", DType::u8, {Dim::fixed(kN), Dim::fixed(kBlocks), Dim::fixed(kBlock / 2)});
  std::vector<std::string> inputs = {
      x, codes_name,
      b.initializer("scales", random_tensor(DType::f32, {kN * kBlocks}, 6, 0.01, 0.1))};
  inputs.push_back(options.zero_points
                       ? b.initializer("zero_points", random_bytes({kN * ((kBlocks + 1) / 2)}, 7))
                       : "");
  inputs.push_back("");
  if (options.bias) inputs.push_back(b.initializer("bias", random_tensor(DType::f32, {kN}, 8)));
  while (inputs.back().empty()) inputs.pop_back();
  const std::string y =
      b.node("MatMulNBits", inputs,
             {{"K", kK}, {"N", kN}, {"bits", std::int64_t{4}}, {"block_size", kBlock}}, "fc");
  b.output(y, DType::f32, {Dim::fixed(kRows), Dim::fixed(kN)});
  graph::Graph graph = b.build();
  graph.nodes.front().domain = "com.microsoft";
  return graph;
}

// The node run alone by the reference interpreter: the oracle.
Tensor reference_output(const graph::Graph& graph, const Tensor& x) {
  const graph::Node& node = graph.nodes.front();
  std::vector<Tensor> inputs = {x};
  for (std::size_t i = 1; i < node.inputs.size(); ++i) {
    inputs.push_back(node.inputs[i].empty() ? Tensor() : graph.initializers.at(node.inputs[i]));
  }
  return evaluate_node(node, graph.opset, inputs).front();
}

std::size_t count_op(const graph::Graph& graph, const std::string& op) {
  std::size_t count = 0;
  for (const graph::Node& node : graph.nodes) count += node.op_type == op ? 1 : 0;
  return count;
}

TEST(ExpandNBitsMatMuls, ConstantWeightsBecomeAMatMulWithTheSameValues) {
  for (const NBitsOptions options :
       {NBitsOptions{false, false}, NBitsOptions{true, false}, NBitsOptions{true, true}}) {
    SCOPED_TRACE(testing::Message()
                 << "zero points " << options.zero_points << ", bias " << options.bias);
    graph::Graph graph = nbits_graph(options);
    EXPECT_EQ(expand_nbits_matmuls(graph), 1u);
    EXPECT_EQ(count_op(graph, "MatMulNBits"), 0u);
    EXPECT_EQ(count_op(graph, "MatMul"), 1u);
    EXPECT_EQ(count_op(graph, "Add"), options.bias ? 1u : 0u);
    EXPECT_EQ(graph.initializers.count("B"), 0u) << "the packed weights are dropped";
    EXPECT_EQ(graph.initializers.count("scales"), 0u);
    const Tensor x = random_tensor(DType::f32, {kRows, kK}, 1, -2.0, 2.0);
    const Tensor expected = reference_output(nbits_graph(options), x);
    for (BackendKind backend : {BackendKind::reference, BackendKind::automatic}) {
      Session session(nbits_graph(options), SessionOptions{backend, 1});
      const Tensor y = session.run({{"x", x}}).at(session.outputs().front().name);
      ASSERT_EQ(y.shape(), expected.shape());
      for (std::int64_t i = 0; i < y.numel(); ++i)
        EXPECT_NEAR(y.values<float>()[i], expected.values<float>()[i], 1e-4) << "element " << i;
    }
  }
}

TEST(ExpandNBitsMatMuls, WeightsComputedAtRunTimeStay) {
  graph::Graph graph = nbits_graph({false, false, false});
  EXPECT_FALSE(is_expandable_nbits_matmul(graph, graph.nodes.front()));
  EXPECT_EQ(expand_nbits_matmuls(graph), 0u);
  EXPECT_EQ(count_op(graph, "MatMulNBits"), 1u);
}

TEST(ExpandNBitsMatMuls, MalformedWeightsNameTheNode) {
  graph::Graph graph = nbits_graph({});
  graph.initializers.at("scales") = random_tensor(DType::f32, {kN}, 2);
  try {
    expand_nbits_matmuls(graph);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'fc'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("scales"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace edgeperf::runtime
