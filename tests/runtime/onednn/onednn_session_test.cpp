// The plan's view of oneDNN steps: memory shared between regions.
#include <gtest/gtest.h>

#include <cmath>

#include "edgeperf/core/random.h"
#include "edgeperf/runtime/session.h"
#include "onednn_models.h"

namespace edgeperf::runtime::testing {
namespace {

// Regions run one at a time, so they share one scratch buffer: a model with two equal
// regions (split by a Floor, which runs on the reference backend) needs no more than a model with
// one. Both run on the default thread count (scratchpads depend on it), not a measured one.
TEST(OnednnBackend, RegionsShareOneTransientBuffer) {
  const auto block = [](ModelBuilder& model, const std::string& input) {
    return model.node("Relu",
                      {model.conv(model.node("Relu", {model.conv(input, 16, 16, 3)}), 16, 16, 3)});
  };
  const auto workspace = [](const graph::Graph& graph) {
    SessionOptions options;
    options.backend = BackendKind::onednn;
    options.tune_threads = false;
    Session session(graph, options);
    return session.memory_plan().kernel_workspace_bytes;
  };
  ModelBuilder one({1, 16, 16, 16});
  const std::size_t one_region = workspace(one.finish(block(one, one.x)));
  ModelBuilder two({1, 16, 16, 16});
  const std::string split = two.node("Floor", {block(two, two.x)});
  const graph::Graph two_regions = two.finish(block(two, split));
  SessionOptions options;
  options.backend = BackendKind::onednn;
  options.tune_threads = false;
  Session session(two_regions, options);
  std::size_t regions = 0;
  for (const StepInfo& step : session.steps()) regions += step.backend == "onednn";
  ASSERT_EQ(regions, 2u);
  EXPECT_GT(one_region, 0u);
  EXPECT_EQ(session.memory_plan().kernel_workspace_bytes, one_region);
}

constexpr std::int64_t kK = 256, kN = 1024;  // a 1 MiB weight

// y = x · W, x [batch, 4, K] (a transformer's tokens), W [K, N] an initializer only the
// MatMul reads.
graph::Graph matmul_graph(Tensor weights) {
  graph::GraphBuilder builder("matmul");
  const std::string x = builder.input(
      "x", DType::f32, {graph::Dim::named("batch"), graph::Dim::fixed(4), graph::Dim::fixed(kK)});
  const std::string y = builder.node("MatMul", {x, builder.initializer("W", std::move(weights))});
  builder.output(y, DType::f32, {});
  return builder.build();
}

void expect_product(Session& session, std::int64_t batch, const std::vector<float>& weights) {
  const Tensor x =
      random_tensor(DType::f32, {batch, 4, kK}, 11 + static_cast<std::uint64_t>(batch));
  const Tensor y = session.run({{"x", x}}).begin()->second;
  ASSERT_EQ(y.shape(), (Shape{batch, 4, kN}));
  const std::int64_t rows = batch * 4;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t n = 0; n < kN; n += 37) {
      double sum = 0;
      for (std::int64_t k = 0; k < kK; ++k)
        sum += double(x.data<float>()[r * kK + k]) * weights[std::size_t(k * kN + n)];
      ASSERT_NEAR(y.data<float>()[r * kN + n], sum, 1e-4 * (1 + std::abs(sum)))
          << "batch " << batch << ", row " << r << ", column " << n;
    }
  }
}

SessionOptions onednn_options() {
  SessionOptions options;
  options.backend = BackendKind::onednn;
  options.threads = 1;
  return options;
}

// A weight moved into the session is held once: packed for the MatMul, its own pages
// given back (they read as zeros). Re-planning for new batch sizes packs from it again
// after refilling it, and every plan still computes x · W.
TEST(OnednnBackend, PackedWeightTheSessionOwnsIsReleasedAndRefilledForNewPlans) {
  const Tensor weights = random_tensor(DType::f32, {kK, kN}, 5, 0.5, 1.0);
  const std::vector<float> kept(weights.values<float>().begin(), weights.values<float>().end());
  Session session(matmul_graph(weights.clone()), onednn_options());
  const std::size_t bytes = kept.size() * sizeof(float);
  EXPECT_EQ(session.memory_plan().released_initializer_bytes, bytes);
  EXPECT_EQ(session.graph().initializers.at("W").data<float>()[kK * kN / 2], 0.0f);
  expect_product(session, 1, kept);
  expect_product(session, 25, kept);  // a new plan
  EXPECT_EQ(session.plans_built(), 2u);
  EXPECT_EQ(session.memory_plan().released_initializer_bytes, bytes);
  expect_product(session, 1, kept);  // the first plan, cached
  expect_product(session, 7, kept);
  EXPECT_EQ(session.memory_plan().released_initializer_bytes, bytes);
}

// The caller keeps its graph (the session copies it, sharing the weights' bytes): nothing
// is released and the caller's weights are untouched.
TEST(OnednnBackend, WeightsSharedWithTheCallerAreNeverReleased) {
  const graph::Graph graph = matmul_graph(random_tensor(DType::f32, {kK, kN}, 6, 0.5, 1.0));
  const Tensor& weights = graph.initializers.at("W");
  const std::vector<float> kept(weights.values<float>().begin(), weights.values<float>().end());
  Session session(graph, onednn_options());
  EXPECT_EQ(session.memory_plan().released_initializer_bytes, 0u);
  expect_product(session, 3, kept);
  EXPECT_EQ(std::vector<float>(weights.values<float>().begin(), weights.values<float>().end()),
            kept);
}

TEST(OnednnBackend, ReleasingPackedWeightsCanBeTurnedOff) {
  SessionOptions options = onednn_options();
  options.release_packed_initializers = false;
  Session session(matmul_graph(random_tensor(DType::f32, {kK, kN}, 7, 0.5, 1.0)), options);
  EXPECT_EQ(session.memory_plan().released_initializer_bytes, 0u);
  EXPECT_NE(session.graph().initializers.at("W").data<float>()[kK * kN / 2], 0.0f);
}

}  // namespace
}  // namespace edgeperf::runtime::testing
