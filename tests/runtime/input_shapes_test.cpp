#include "edgeperf/runtime/input_shapes.h"

#include <gtest/gtest.h>

#include "edgeperf/core/error.h"
#include "edgeperf/graph/builder.h"

namespace edgeperf::runtime {
namespace {

using graph::Dim;

// Two inputs sharing the symbolic dims "batch" and "seq", and one fixed input.
graph::Graph token_graph() {
  graph::GraphBuilder builder("tokens");
  const std::string ids =
      builder.input("ids", DType::f32, {Dim::named("batch"), Dim::named("seq")});
  const std::string mask =
      builder.input("mask", DType::f32, {Dim::named("batch"), Dim::named("seq")});
  const std::string bias = builder.input("bias", DType::f32, {Dim::fixed(1), Dim::fixed(4)});
  const std::string sum = builder.node("Add", {ids, mask});
  builder.output(sum, DType::f32, {Dim::named("batch"), Dim::named("seq")});
  builder.output(builder.node("Relu", {bias}), DType::f32, {Dim::fixed(1), Dim::fixed(4)});
  return builder.build();
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(InputShapes, ANamedDimBindsEveryInputThatUsesIt) {
  const BoundInputShapes bound = require_bound_input_shapes(token_graph(), {{"ids", {2, 128}}});
  EXPECT_EQ(bound.shapes.at("mask"), (Shape{2, 128}));
  EXPECT_EQ(bound.shapes.at("bias"), (Shape{1, 4}));
  EXPECT_TRUE(bound.notes.empty());
}

TEST(InputShapes, OnlyALeadingBatchDimDefaultsAndTheNoteSaysSo) {
  const BoundInputShapes bound = bind_input_shapes(token_graph(), {});
  EXPECT_FALSE(bound.complete());
  ASSERT_EQ(bound.unbound.size(), 2u);
  EXPECT_NE(bound.unbound[0].find("input 'ids' has unbound symbolic dims seq"), std::string::npos)
      << bound.unbound[0];
  EXPECT_NE(bound.unbound[0].find("--shape ids=1xseq"), std::string::npos) << bound.unbound[0];
  EXPECT_NE(error_of([] { require_bound_input_shapes(token_graph(), {}); }).find("'ids'"),
            std::string::npos);
}

TEST(InputShapes, BatchDefaultIsReported) {
  graph::GraphBuilder builder("image");
  const std::string x = builder.input(
      "x", DType::f32, {Dim::named("N"), Dim::fixed(3), Dim::fixed(8), Dim::fixed(8)});
  builder.output(builder.node("Relu", {x}), DType::f32,
                 {Dim::named("N"), Dim::fixed(3), Dim::fixed(8), Dim::fixed(8)});
  const BoundInputShapes bound = require_bound_input_shapes(builder.build(), {});
  EXPECT_EQ(bound.shapes.at("x"), (Shape{1, 3, 8, 8}));
  ASSERT_EQ(bound.notes.size(), 1u);
  EXPECT_EQ(bound.notes[0], "input 'x': batch dim 'N' set to 1");
}

TEST(InputShapes, BadGivenShapesAreOneLineErrors) {
  const graph::Graph graph = token_graph();
  const auto expect_error = [&](const std::map<std::string, Shape>& given,
                                const std::string& expected) {
    const std::string message = error_of([&] { bind_input_shapes(graph, given); });
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  };
  expect_error({{"idz", {1, 4}}}, "the model has no input 'idz' (its inputs: ids, mask, bias)");
  expect_error({{"bias", {1, 5}}}, "the model fixes dim 1 to 4");
  expect_error({{"ids", {1, 4, 4}}}, "input 'ids' is given rank 3");
  expect_error({{"ids", {1, -4}}}, "negative dim");
  expect_error({{"ids", {1, 4}}, {"mask", {1, 5}}}, "dim 'seq' is 4 in input 'ids' but 5");
}

TEST(InputShapes, ParsesShapeSpecs) {
  EXPECT_EQ(parse_shape_spec("images=1x3x640x640"),
            (std::pair<std::string, Shape>{"images", {1, 3, 640, 640}}));
  EXPECT_EQ(parse_shape_spec("a=b=7"), (std::pair<std::string, Shape>{"a=b", {7}}));
  for (const char* bad : {"images", "=1x3", "x=", "x=1x0", "x=1x-3", "x=1xx3", "x=1x3x", "x=1.5"}) {
    EXPECT_THROW(parse_shape_spec(bad), Error) << bad;
  }
}

}  // namespace
}  // namespace edgeperf::runtime
