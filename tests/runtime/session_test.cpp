#include "edgeperf/runtime/session.h"

#include <gtest/gtest.h>

#include <cmath>

#include "edgeperf/graph/builder.h"
#include "edgeperf/runtime/model_stats.h"

namespace edgeperf::runtime {
namespace {

using graph::Dim;
using graph::GraphBuilder;

// y = Relu(x + 1) * 2, with the "+1" and "*2" coming from a folded subgraph.
graph::Graph small_graph() {
  GraphBuilder builder("small");
  const std::string x = builder.input("x", DType::f32, {Dim::named("batch"), Dim::fixed(3)});
  const std::string one = builder.initializer("one", make_tensor<float>({1}, {1.0f}));
  const std::string two = builder.node("Add", {one, one});  // folded at load time
  const std::string sum = builder.node("Add", {x, one});
  const std::string relu = builder.node("Relu", {sum});
  const std::string y = builder.node("Mul", {relu, two});
  builder.output(y, DType::f32, {Dim::named("batch"), Dim::fixed(3)});
  return builder.build();
}

TEST(Session, RunsAndFoldsConstants) {
  Session session(small_graph(), SessionOptions{BackendKind::reference, 1});
  const auto outputs = session.run({{"x", make_tensor<float>({1, 3}, {-3.0f, 0.0f, 2.0f})}});
  const Tensor& y = outputs.begin()->second;
  EXPECT_EQ(y.shape(), (Shape{1, 3}));
  EXPECT_FLOAT_EQ(y.values<float>()[0], 0.0f);
  EXPECT_FLOAT_EQ(y.values<float>()[1], 2.0f);
  EXPECT_FLOAT_EQ(y.values<float>()[2], 6.0f);
  EXPECT_EQ(session.steps().size(), 3u);  // the constant Add was folded
}

TEST(Session, ReplansForANewBatchSize) {
  Session session(small_graph(), SessionOptions{BackendKind::reference, 1});
  const auto outputs = session.run({{"x", Tensor(DType::f32, {4, 3})}});
  EXPECT_EQ(outputs.begin()->second.shape(), (Shape{4, 3}));
}

TEST(Session, RejectsWrongInputs) {
  Session session(small_graph(), SessionOptions{BackendKind::reference, 1});
  EXPECT_THROW(session.run({{"nope", Tensor(DType::f32, {1, 3})}}), Error);
  EXPECT_THROW(session.run({{"x", Tensor(DType::i64, {1, 3})}}), Error);
  EXPECT_THROW(session.run({{"x", Tensor(DType::f32, {1, 4})}}), Error);
  EXPECT_THROW(session.run({}), Error);
}

TEST(Session, ABadShapeKeepsThePreviousPlan) {
  Session session(small_graph(), SessionOptions{BackendKind::reference, 1});
  EXPECT_THROW(session.run({{"x", Tensor(DType::f32, {2, 5})}}), Error);
  const auto outputs = session.run({{"x", make_tensor<float>({1, 3}, {1.0f, 2.0f, 3.0f})}});
  EXPECT_FLOAT_EQ(outputs.begin()->second.values<float>()[2], 8.0f);
}

TEST(Session, NaNAndInfFlowThrough) {
  Session session(small_graph(), SessionOptions{BackendKind::reference, 1});
  const auto outputs = session.run({{"x", make_tensor<float>({1, 3}, {NAN, INFINITY, -INFINITY})}});
  const auto values = outputs.begin()->second.values<float>();
  EXPECT_TRUE(std::isnan(values[0]));
  EXPECT_TRUE(std::isinf(values[1]));
  EXPECT_EQ(values[2], 0.0f);
}

TEST(Session, UnsupportedOpsAreAllListedAtLoad) {
  GraphBuilder builder("bad");
  const std::string x = builder.input("x", DType::f32, {Dim::fixed(3)});
  const std::string a = builder.node("FancyOp", {x}, {}, "first_fancy");
  const std::string b = builder.node("FancyOp", {a}, {}, "second_fancy");
  const std::string c = builder.node("OtherOp", {b}, {}, "other");
  builder.output(c, DType::f32, {Dim::fixed(3)});
  try {
    Session session(builder.build());
    FAIL() << "expected an error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("FancyOp"), std::string::npos) << message;
    EXPECT_NE(message.find("first_fancy"), std::string::npos) << message;
    EXPECT_NE(message.find("second_fancy"), std::string::npos) << message;
    EXPECT_NE(message.find("OtherOp"), std::string::npos) << message;
  }
}

TEST(Session, ArenaReusesMemoryAlongAChain) {
  GraphBuilder builder("chain");
  std::string value = builder.input("x", DType::f32, {Dim::fixed(1000)});
  for (int i = 0; i < 8; ++i) value = builder.node("Relu", {value});
  builder.output(value, DType::f32, {Dim::fixed(1000)});
  Session session(builder.build(), SessionOptions{BackendKind::reference, 1});
  const MemoryPlanInfo memory = session.memory_plan();
  EXPECT_EQ(memory.activation_bytes_total, 8 * 4000u);
  EXPECT_LE(memory.arena_bytes, 2 * 4032u);
}

TEST(Session, ThreadsAreHonoured) {
  Session session(small_graph(), SessionOptions{BackendKind::reference, 3});
  EXPECT_EQ(session.threads(), 3);
  EXPECT_GE(physical_core_count(), 1);
}

// A plan small enough to time is built for one thread too and runs on whichever count
// measured faster; the choice follows its own timings and the results do not depend on it.
TEST(Session, SmallPlanRunsOnTheThreadCountThatMeasuredFaster) {
  Session tuned(small_graph(), SessionOptions{BackendKind::automatic, 2});
  const ThreadChoice& choice = tuned.thread_choice();
  EXPECT_EQ(tuned.threads(), 2);
  EXPECT_EQ(choice.requested, 2);
  ASSERT_GT(choice.requested_ms, 0.0);
  ASSERT_GT(choice.single_ms, 0.0);
  EXPECT_EQ(choice.used, choice.single_ms < 0.95 * choice.requested_ms ? 1 : 2) << choice.reason;
  const auto outputs = tuned.run({{"x", make_tensor<float>({1, 3}, {-3.0f, 0.0f, 2.0f})}});
  EXPECT_FLOAT_EQ(outputs.begin()->second.values<float>()[2], 6.0f);
}

TEST(Session, ThreadTuningCanBeTurnedOffAndSkipsSlowPlans) {
  SessionOptions off{BackendKind::automatic, 2};
  off.tune_threads = false;
  const ThreadChoice untimed = Session(small_graph(), off).thread_choice();
  EXPECT_EQ(untimed.used, 2);
  EXPECT_EQ(untimed.requested_ms, 0.0);

  SessionOptions slow{BackendKind::automatic, 2};
  slow.max_tuned_plan_ms = 0.0;  // every plan is "too slow" to time on one thread too
  const ThreadChoice timed_once = Session(small_graph(), slow).thread_choice();
  EXPECT_EQ(timed_once.used, 2);
  EXPECT_GT(timed_once.requested_ms, 0.0);
  EXPECT_EQ(timed_once.single_ms, 0.0);
  EXPECT_NE(timed_once.reason.find("over the 0 ms"), std::string::npos) << timed_once.reason;

  const ThreadChoice one =
      Session(small_graph(), SessionOptions{BackendKind::automatic, 1}).thread_choice();
  EXPECT_EQ(one.used, 1);
  EXPECT_EQ(one.single_ms, 0.0);
}

// The seeded timing inputs are not valid for every model: indices into a one-row table
// fail on any 1. The session then keeps the requested threads and says why; valid
// inputs still run.
TEST(Session, PlanThatFailsOnTimingInputsKeepsTheRequestedThreads) {
  GraphBuilder builder("lookup");
  const std::string table = builder.initializer("table", make_tensor<float>({1, 2}, {5, 6}));
  const std::string ids = builder.input("ids", DType::i64, {Dim::fixed(16)});
  const std::string y = builder.node("Gather", {table, ids});
  builder.output(y, DType::f32, {Dim::fixed(16), Dim::fixed(2)});
  Session session(builder.build(), SessionOptions{BackendKind::reference, 2});
  const ThreadChoice& choice = session.thread_choice();
  EXPECT_EQ(choice.used, 2);
  EXPECT_EQ(choice.requested_ms, 0.0);
  EXPECT_NE(choice.reason.find("not timed"), std::string::npos) << choice.reason;
  const auto outputs = session.run({{"ids", Tensor(DType::i64, {16})}});
  EXPECT_FLOAT_EQ(outputs.begin()->second.values<float>()[1], 6.0f);
}

// y = Relu(x + 1) * 2 for a batch of `rows` rows of 1, 2, 3.
Tensor batch_of(std::int64_t rows) {
  Tensor x(DType::f32, {rows, 3});
  for (std::int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = float(i % 3 + 1);
  return x;
}

void expect_small_graph_output(Session& session, std::int64_t rows) {
  const auto outputs = session.run({{"x", batch_of(rows)}});
  const Tensor& y = outputs.at(session.outputs()[0].name);
  ASSERT_EQ(y.shape(), (Shape{rows, 3}));
  for (std::int64_t i = 0; i < y.numel(); ++i) {
    EXPECT_FLOAT_EQ(y.values<float>()[i], 2.0f * float(i % 3 + 2)) << "row count " << rows;
  }
}

TEST(Session, AlternatingShapesReuseTheirPlans) {
  Session session(small_graph(), SessionOptions{BackendKind::automatic, 1});
  EXPECT_EQ(session.plans_built(), 1u);
  expect_small_graph_output(session, 320);
  expect_small_graph_output(session, 640);
  expect_small_graph_output(session, 320);
  expect_small_graph_output(session, 640);
  EXPECT_EQ(session.plans_built(), 3u);   // the first plan, then one per new shape
  expect_small_graph_output(session, 1);  // the construction-time plan is cached too
  EXPECT_EQ(session.plans_built(), 3u);
  EXPECT_EQ(session.value_descs().at("x").shape, (Shape{1, 3}));
}

TEST(Session, PlanCacheDropsTheLeastRecentlyUsedShape) {
  SessionOptions options{BackendKind::reference, 1};
  options.plan_cache_size = 2;
  Session session(small_graph(), options);  // batch 1
  expect_small_graph_output(session, 2);
  expect_small_graph_output(session, 1);  // cached
  EXPECT_EQ(session.plans_built(), 2u);
  expect_small_graph_output(session, 3);  // evicts batch 2, the least recent
  expect_small_graph_output(session, 1);  // still cached
  EXPECT_EQ(session.plans_built(), 3u);
  expect_small_graph_output(session, 2);  // built again
  EXPECT_EQ(session.plans_built(), 4u);
}

TEST(Session, ABadShapeBuildsNoPlan) {
  Session session(small_graph(), SessionOptions{BackendKind::reference, 1});
  EXPECT_THROW(session.run({{"x", Tensor(DType::f32, {2, 5})}}), Error);
  EXPECT_EQ(session.plans_built(), 1u);
  EXPECT_EQ(session.inputs()[0].resolved_shape(), (Shape{1, 3}));
}

}  // namespace
}  // namespace edgeperf::runtime

namespace edgeperf::runtime {
namespace {

// y = Relu(Conv3x3(x)) on an image whose height and width the model leaves open.
graph::Graph open_image_graph() {
  GraphBuilder builder("open_image");
  const std::string x = builder.input(
      "x", DType::f32, {Dim::named("N"), Dim::fixed(3), Dim::named("H"), Dim::named("W")});
  Tensor weights(DType::f32, {4, 3, 3, 3});
  for (std::int64_t i = 0; i < weights.numel(); ++i)
    weights.data<float>()[i] = float(i % 7) * 0.05f - 0.1f;
  const std::string w = builder.initializer("w", std::move(weights));
  const std::string conv = builder.node("Conv", {x, w},
                                        {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
                                         {"pads", std::vector<std::int64_t>{1, 1, 1, 1}}});
  const std::string y = builder.node("Relu", {conv});
  builder.output(y, DType::f32, {Dim::named("N"), Dim::fixed(4), Dim::named("H"), Dim::named("W")});
  return builder.build();
}

Tensor image(std::int64_t size) {
  Tensor x(DType::f32, {1, 3, size, size});
  for (std::int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = float(i % 11) * 0.1f;
  return x;
}

TEST(SessionOpenDims, UnboundImageDimsWaitForTheFirstRun) {
  Session session(open_image_graph(), SessionOptions{BackendKind::reference, 1});
  EXPECT_EQ(session.plans_built(), 0u);
  ASSERT_TRUE(session.unbound_inputs().has_value());
  EXPECT_NE(session.unbound_inputs()->find("input 'x' has unbound symbolic dims H, W"),
            std::string::npos)
      << *session.unbound_inputs();
  EXPECT_THROW(session.inputs(), Error);
  const auto outputs = session.run({{"x", image(8)}});
  EXPECT_EQ(outputs.begin()->second.shape(), (Shape{1, 4, 8, 8}));
  EXPECT_FALSE(session.unbound_inputs().has_value());
}

TEST(SessionOpenDims, ThreeTwentyThenSixFortyThenThreeTwentyPlansTwice) {
  for (BackendKind backend : {BackendKind::automatic, BackendKind::reference}) {
    Session session(open_image_graph(), SessionOptions{backend, 1});
    session.run({{"x", image(320)}});
    session.run({{"x", image(640)}});
    const auto again = session.run({{"x", image(320)}});
    EXPECT_EQ(session.plans_built(), 2u) << backend_name(backend);
    EXPECT_EQ(again.begin()->second.shape(), (Shape{1, 4, 320, 320}));
  }
}

TEST(SessionOpenDims, GivenShapesBindThePlanAtConstruction) {
  SessionOptions options{BackendKind::reference, 1};
  options.input_shapes["x"] = {2, 3, 16, 24};
  Session session(open_image_graph(), options);
  EXPECT_EQ(session.plans_built(), 1u);
  EXPECT_EQ(session.outputs()[0].resolved_shape(), (Shape{2, 4, 16, 24}));
}

}  // namespace
}  // namespace edgeperf::runtime
