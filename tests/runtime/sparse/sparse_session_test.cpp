// The session with the sparse backend: which steps it picks under auto/off/force, and
// outputs equal to the reference and dense paths.
#include <gtest/gtest.h>

#include <algorithm>

#include "edgeperf/graph/builder.h"
#include "edgeperf/runtime/session.h"
#include "sparse_test_util.h"

namespace edgeperf::runtime {
namespace {

using graph::Dim;
using testing::sparse_weights;

std::vector<Dim> fixed(const Shape& shape) {
  std::vector<Dim> dims;
  for (std::int64_t size : shape) dims.push_back(Dim::fixed(size));
  return dims;
}

// Conv 1x1 (optional bias, stride) -> BatchNormalization -> Relu.
graph::Graph conv_bn_relu(double density, std::int64_t stride, bool bias) {
  graph::GraphBuilder builder("conv_bn_relu");
  const std::int64_t in = 24, out = 40;
  const std::string x = builder.input("x", DType::f32, fixed({2, in, 13, 11}));
  std::vector<std::string> inputs = {
      x, builder.initializer("w", sparse_weights({out, in, 1, 1}, density, 31, in, {3}))};
  if (bias) inputs.push_back(builder.initializer("b", random_tensor(DType::f32, {out}, 32)));
  std::string y = builder.node("Conv", inputs,
                               {{"strides", std::vector<std::int64_t>{stride, stride}}}, "conv");
  y = builder.node("BatchNormalization",
                   {y, builder.initializer("scale", random_tensor(DType::f32, {out}, 33, 0.5, 1.5)),
                    builder.initializer("shift", random_tensor(DType::f32, {out}, 34)),
                    builder.initializer("mean", random_tensor(DType::f32, {out}, 35)),
                    builder.initializer("var", random_tensor(DType::f32, {out}, 36, 0.5, 2.0))},
                   {{"epsilon", 1e-5f}}, "bn");
  y = builder.node("Relu", {y}, {}, "relu");
  builder.output(y, DType::f32, {});
  return builder.build();
}

// Gemm (transB, alpha, beta, bias [N] or [1, N]) and MatMul, batch 3.
graph::Graph fully_connected(double density, bool trans_b, bool row_bias, bool matmul) {
  graph::GraphBuilder builder("fc");
  const std::int64_t k = 70, n = 45;
  const std::string a = builder.input("a", DType::f32, fixed({3, k}));
  const Shape b_shape = trans_b ? Shape{n, k} : Shape{k, n};
  const std::string b = builder.initializer(
      "b", sparse_weights(b_shape, density, 41, trans_b ? k : n, {trans_b ? 2 : 5}));
  std::string y;
  if (matmul) {
    y = builder.node("MatMul", {a, b}, {}, "matmul");
  } else {
    const Shape c_shape = row_bias ? Shape{1, n} : Shape{n};
    y = builder.node("Gemm",
                     {a, b, builder.initializer("c", random_tensor(DType::f32, c_shape, 42))},
                     {{"transB", std::int64_t{trans_b}}, {"alpha", 0.75f}, {"beta", 1.5f}}, "gemm");
  }
  builder.output(y, DType::f32, {});
  return builder.build();
}

// A conv stem, a sparse 1x1 conv branch added back onto it, pooling, then an FC head:
// the dense backend runs the nodes around the sparse steps.
graph::Graph mixed_model(double density) {
  graph::GraphBuilder builder("mixed");
  const std::string x = builder.input("x", DType::f32, fixed({1, 3, 16, 16}));
  std::string stem =
      builder.node("Conv",
                   {x, builder.initializer("w0", random_tensor(DType::f32, {16, 3, 3, 3}, 51)),
                    builder.initializer("b0", random_tensor(DType::f32, {16}, 52))},
                   {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}}, "stem");
  stem = builder.node("Relu", {stem}, {}, "stem_relu");
  std::string branch = builder.node(
      "Conv", {stem, builder.initializer("w1", sparse_weights({16, 16, 1, 1}, density, 53))}, {},
      "pointwise");
  branch = builder.node("Relu", {branch}, {}, "pointwise_relu");
  std::string y = builder.node("Add", {stem, branch}, {}, "residual");
  y = builder.node("GlobalAveragePool", {y}, {}, "pool");
  y = builder.node("Flatten", {y}, {}, "flatten");
  y = builder.node("Gemm",
                   {y, builder.initializer("w2", sparse_weights({10, 16}, density, 54)),
                    builder.initializer("b2", random_tensor(DType::f32, {10}, 55))},
                   {{"transB", std::int64_t{1}}}, "head");
  builder.output(y, DType::f32, {});
  return builder.build();
}

struct Result {
  Tensor output;
  std::vector<StepInfo> steps;
};

Result run(const graph::Graph& graph, SparseMode mode, BackendKind backend, int threads = 2) {
  SessionOptions options;
  options.sparse = mode;
  options.backend = backend;
  options.threads = threads;
  Session session(graph, options);
  const auto outputs = session.run(random_inputs(session, 9));
  return Result{outputs.begin()->second, session.steps()};
}

int count_sparse_steps(const std::vector<StepInfo>& steps) {
  return static_cast<int>(std::count_if(
      steps.begin(), steps.end(), [](const StepInfo& step) { return step.backend == "sparse"; }));
}

void expect_close(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.shape(), expected.shape());
  for (std::int64_t i = 0; i < actual.numel(); ++i) {
    ASSERT_NEAR(actual.data<float>()[i], expected.data<float>()[i], 1e-4) << "at element " << i;
  }
}

// Runs the graph under force, off and auto, checks each against the reference backend,
// and returns the number of sparse steps under force.
int check_all_modes(const graph::Graph& graph) {
  const Result reference = run(graph, SparseMode::off, BackendKind::reference);
  const Result forced = run(graph, SparseMode::force, BackendKind::automatic);
  const Result off = run(graph, SparseMode::off, BackendKind::automatic);
  const Result automatic = run(graph, SparseMode::automatic, BackendKind::automatic);
  expect_close(forced.output, reference.output);
  expect_close(off.output, reference.output);
  expect_close(forced.output, off.output);
  expect_close(automatic.output, reference.output);
  EXPECT_EQ(count_sparse_steps(off.steps), 0);
  EXPECT_EQ(count_sparse_steps(reference.steps), 0);
  return count_sparse_steps(forced.steps);
}

TEST(SparseSession, ConvBatchNormReluFusedUnderForce) {
  for (double density : {0.0, 0.05, 0.2, 0.5, 1.0}) {
    for (std::int64_t stride : {1, 2}) {
      for (bool bias : {false, true}) {
        SCOPED_TRACE(::testing::Message()
                     << "density " << density << " stride " << stride << " bias " << bias);
        const graph::Graph graph = conv_bn_relu(density, stride, bias);
        EXPECT_EQ(check_all_modes(graph), 1);
        const Result forced = run(graph, SparseMode::force, BackendKind::automatic);
        ASSERT_EQ(forced.steps.size(), 1u);
        EXPECT_EQ(forced.steps[0].ops,
                  (std::vector<std::string>{"Conv", "BatchNormalization", "Relu"}));
        EXPECT_NE(forced.steps[0].label.find("density"), std::string::npos);
      }
    }
  }
}

TEST(SparseSession, FullyConnectedVariants) {
  for (double density : {0.0, 0.2, 1.0}) {
    for (bool trans_b : {false, true}) {
      for (bool row_bias : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "density " << density << " transB " << trans_b
                                          << " [1, N] bias " << row_bias);
        EXPECT_EQ(check_all_modes(fully_connected(density, trans_b, row_bias, false)), 1);
      }
    }
    EXPECT_EQ(check_all_modes(fully_connected(density, false, false, true)), 1);
  }
}

TEST(SparseSession, DenseNodesAroundSparseSteps) {
  for (double density : {0.05, 0.5}) {
    SCOPED_TRACE(::testing::Message() << "density " << density);
    EXPECT_EQ(check_all_modes(mixed_model(density)), 2);  // pointwise conv and head
  }
}

TEST(SparseSession, SingleThreadMatches) {
  const graph::Graph graph = mixed_model(0.2);
  const Result reference = run(graph, SparseMode::off, BackendKind::reference, 1);
  expect_close(run(graph, SparseMode::force, BackendKind::automatic, 1).output, reference.output);
}

TEST(SparseSession, AutoSkipsDenseWeights) {
  const Result automatic =
      run(conv_bn_relu(1.0, 1, true), SparseMode::automatic, BackendKind::automatic);
  EXPECT_EQ(count_sparse_steps(automatic.steps), 0);
}

TEST(SparseSession, AutoLabelsCarryMeasuredTimes) {
  const Result automatic =
      run(conv_bn_relu(0.05, 1, true), SparseMode::automatic, BackendKind::automatic);
  for (const StepInfo& step : automatic.steps) {
    if (step.backend == "sparse") {
      EXPECT_NE(step.label.find("ms vs onednn"), std::string::npos);
    }
  }
}

TEST(SparseSession, UnsupportedConvsStayDense) {
  graph::GraphBuilder builder("conv3x3");
  const std::string x = builder.input("x", DType::f32, fixed({1, 4, 8, 8}));
  const std::string y =
      builder.node("Conv", {x, builder.initializer("w", sparse_weights({6, 4, 3, 3}, 0.1, 61))},
                   {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}}, "conv3x3");
  const std::string z =
      builder.node("Conv", {y, builder.initializer("w1", sparse_weights({6, 6, 1, 1}, 0.1, 62))},
                   {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}}, "padded1x1");
  builder.output(z, DType::f32, {});
  EXPECT_EQ(check_all_modes(builder.build()), 0);
}

// x [1, 4, 256] · W1 (dense, 1 MiB, which a session that owns it releases once packed),
// reshaped to [4, 1024], then a sparse FC: under auto the sparse backend times the dense
// backend on a window that includes the first MatMul.
graph::Graph dense_matmul_then_sparse_fc() {
  graph::GraphBuilder builder("dense_then_sparse");
  const std::string x = builder.input("x", DType::f32, fixed({1, 4, 256}));
  std::string y = builder.node(
      "MatMul", {x, builder.initializer("w1", random_tensor(DType::f32, {256, 1024}, 61))}, {},
      "dense");
  y = builder.node("Reshape", {y, builder.initializer("shape", [] {
                                 Tensor shape(DType::i64, {2});
                                 shape.data<std::int64_t>()[0] = 4;
                                 shape.data<std::int64_t>()[1] = 1024;
                                 return shape;
                               }())});
  y = builder.node("MatMul", {y, builder.initializer("w2", sparse_weights({1024, 64}, 0.05, 62))},
                   {}, "sparse");
  builder.output(y, DType::f32, {});
  return builder.build();
}

// The dense steps the sparse backend only times must not give back the weight the steps
// it keeps read: the session that owns its graph computes what the reference does.
TEST(SparseSession, TimedDenseTrialsLeaveReleasableWeightsInPlace) {
  const graph::Graph graph = dense_matmul_then_sparse_fc();
  const Result reference = run(graph, SparseMode::off, BackendKind::reference);
  graph::Graph owned = graph;
  for (auto& [name, tensor] : owned.initializers) tensor = tensor.clone();
  SessionOptions options;
  options.sparse = SparseMode::automatic;
  options.threads = 1;
  Session session(std::move(owned), options);
  const auto outputs = session.run(random_inputs(session, 9));
  expect_close(outputs.begin()->second, reference.output);
  // Released where oneDNN packed it (not where its MatMul is a reference implementation,
  // as on aarch64 without SVE).
  const std::vector<StepInfo> steps = session.steps();
  const auto dense = std::find_if(steps.begin(), steps.end(), [](const StepInfo& step) {
    return std::count(step.node_names.begin(), step.node_names.end(), "dense") > 0;
  });
  ASSERT_NE(dense, steps.end());
  EXPECT_EQ(session.memory_plan().released_initializer_bytes,
            dense->backend == "onednn" ? 256u * 1024u * 4u : 0u)
      << "the dense MatMul ran on " << dense->backend;
}

TEST(SparseMode, ParsesNames) {
  EXPECT_EQ(parse_sparse_mode("auto"), SparseMode::automatic);
  EXPECT_EQ(parse_sparse_mode("off"), SparseMode::off);
  EXPECT_EQ(parse_sparse_mode("force"), SparseMode::force);
  EXPECT_EQ(sparse_mode_name(SparseMode::force), "force");
  EXPECT_THROW(parse_sparse_mode("always"), Error);
}

}  // namespace
}  // namespace edgeperf::runtime
