#include "edgeperf/runtime/fuse_decomposed_ops.h"

#include <gtest/gtest.h>

#include <cmath>

#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::runtime {
namespace {

using graph::Dim;
using graph::GraphBuilder;

const Shape kShape = {2, 3, 8};

std::vector<Dim> dims() { return {Dim::fixed(2), Dim::fixed(3), Dim::fixed(8)}; }

std::string scalar(GraphBuilder& b, float value) {
  return b.initializer("c", make_tensor<float>({}, {value}));
}

// 0.5 * x * (1 + erf(x / sqrt 2)), as torch exports it; `half` replaces the 0.5.
graph::Graph decomposed_gelu(float half = 0.5f, bool multiply_by_inverse = false) {
  GraphBuilder b("gelu");
  const std::string x = b.input("x", DType::f32, dims());
  const std::string scaled = multiply_by_inverse ? b.node("Mul", {x, scalar(b, 0.70710678f)})
                                                 : b.node("Div", {x, scalar(b, 1.41421356f)});
  const std::string plus = b.node("Add", {b.node("Erf", {scaled}), scalar(b, 1.0f)});
  const std::string y = b.node("Mul", {b.node("Mul", {x, plus}), scalar(b, half)});
  b.output(y, DType::f32, dims());
  return b.build();
}

struct LayerNormOptions {
  bool centered_is_output = false;  // the Sub's result is also a graph output
  bool gamma_through_identity = false;
};

graph::Graph decomposed_layer_norm(LayerNormOptions options = {}) {
  GraphBuilder b("ln");
  const std::string x = b.input("x", DType::f32, dims());
  const std::vector<std::int64_t> last = {-1};
  const std::string mean = b.node("ReduceMean", {x}, {{"axes", last}});
  const std::string d = b.node("Sub", {x, mean});
  const std::string variance =
      b.node("ReduceMean", {b.node("Pow", {d, scalar(b, 2.0f)})}, {{"axes", last}});
  const std::string root = b.node("Sqrt", {b.node("Add", {variance, scalar(b, 1e-5f)})});
  std::string gamma = b.initializer("gamma", random_tensor(DType::f32, {8}, 3, 0.5, 1.5));
  if (options.gamma_through_identity) gamma = b.node("Identity", {gamma});
  const std::string beta = b.initializer("beta", random_tensor(DType::f32, {8}, 4));
  const std::string y = b.node("Add", {b.node("Mul", {b.node("Div", {d, root}), gamma}), beta});
  b.output(y, DType::f32, dims());
  if (options.centered_is_output) b.output(d, DType::f32, dims());
  return b.build();
}

std::size_t count_op(const graph::Graph& graph, const std::string& op) {
  std::size_t count = 0;
  for (const graph::Node& node : graph.nodes) count += node.op_type == op ? 1 : 0;
  return count;
}

Tensor run(graph::Graph graph, const Tensor& x, BackendKind backend) {
  SessionOptions options;
  options.backend = backend;
  options.threads = 1;
  Session session(std::move(graph), options);
  return session.run({{"x", x}}).at(session.outputs().front().name);
}

TEST(FuseDecomposedOps, GeluChainBecomesOneNodeWithTheSameValues) {
  for (bool inverse : {false, true}) {
    graph::Graph graph = decomposed_gelu(0.5f, inverse);
    EXPECT_EQ(fuse_decomposed_ops(graph).gelu, 1u);
    ASSERT_EQ(graph.nodes.size(), 1u);
    EXPECT_EQ(graph.nodes[0].op_type, "Gelu");
    const Tensor x = random_tensor(DType::f32, kShape, 1, -4.0, 4.0);
    for (BackendKind backend : {BackendKind::reference, BackendKind::automatic}) {
      const Tensor y = run(decomposed_gelu(0.5f, inverse), x, backend);
      for (std::int64_t i = 0; i < x.numel(); ++i) {
        const double v = x.values<float>()[i];
        EXPECT_NEAR(y.values<float>()[i], 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))), 1e-5);
      }
    }
  }
}

TEST(FuseDecomposedOps, OtherConstantsAreNotGelu) {
  graph::Graph graph = decomposed_gelu(0.6f);
  EXPECT_EQ(fuse_decomposed_ops(graph).gelu, 0u);
  EXPECT_EQ(count_op(graph, "Erf"), 1u);
}

TEST(FuseDecomposedOps, LayerNormChainBecomesOneNodeWithTheSameValues) {
  for (bool identity : {false, true}) {
    graph::Graph graph = decomposed_layer_norm({false, identity});
    EXPECT_EQ(fuse_decomposed_ops(graph).layer_norm, 1u);
    EXPECT_EQ(count_op(graph, "LayerNormalization"), 1u);
    EXPECT_EQ(count_op(graph, "ReduceMean"), 0u);
    const graph::Graph original = decomposed_layer_norm({false, identity});
    const Tensor& gamma = original.initializers.at("gamma");
    const Tensor& beta = original.initializers.at("beta");
    const Tensor x = random_tensor(DType::f32, kShape, 2, -3.0, 3.0);
    for (BackendKind backend : {BackendKind::reference, BackendKind::automatic}) {
      const Tensor y = run(original, x, backend);
      for (std::int64_t row = 0; row < 6; ++row) {
        const float* in = x.values<float>().data() + row * 8;
        double mean = 0, squares = 0;
        for (int i = 0; i < 8; ++i) mean += in[i] / 8.0;
        for (int i = 0; i < 8; ++i) squares += (in[i] - mean) * (in[i] - mean) / 8.0;
        for (int i = 0; i < 8; ++i) {
          const double want =
              (in[i] - mean) / std::sqrt(squares + 1e-5) * gamma.values<float>()[i] +
              beta.values<float>()[i];
          EXPECT_NEAR(y.values<float>()[row * 8 + i], want, 1e-4);
        }
      }
    }
  }
}

TEST(FuseDecomposedOps, LayerNormWithAnIntermediateReadElsewhereStays) {
  graph::Graph graph = decomposed_layer_norm({true, false});
  EXPECT_EQ(fuse_decomposed_ops(graph).layer_norm, 0u);
  EXPECT_EQ(count_op(graph, "ReduceMean"), 2u);
}

}  // namespace
}  // namespace edgeperf::runtime
