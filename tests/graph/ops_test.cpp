#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "edgeperf/core/error.h"
#include "edgeperf/graph/editor.h"
#include "edgeperf/graph/ops/batch_norm.h"
#include "edgeperf/graph/ops/clip.h"
#include "edgeperf/graph/ops/constant.h"
#include "edgeperf/graph/ops/conv.h"
#include "edgeperf/graph/ops/fused_activation.h"

namespace edgeperf::graph::ops {
namespace {

// ---------------------------------------------------------------- Constant nodes

TEST(ConstantNodes, HoistedIntoInitializersExceptGraphOutputs) {
  Graph graph;
  graph.opset = 13;
  graph.inputs.push_back({"x", DType::f32, {Dim::fixed(2)}, true});
  Node weight = make_node("Constant", "w", {}, {"w"});
  weight.attrs["value"] = make_tensor<float>({2}, {0.5f, 2.0f});
  Node scalar = make_node("Constant", "s", {}, {"s"});
  scalar.attrs["value_float"] = 3.0f;
  Node ints = make_node("Constant", "i", {}, {"i"});
  ints.attrs["value_ints"] = std::vector<std::int64_t>{1, 2, 3};
  Node exported = make_node("Constant", "e", {}, {"e"});
  exported.attrs["value_int"] = std::int64_t{7};
  graph.nodes = {weight, scalar, ints, exported, make_node("Mul", "mul", {"x", "w"}, {"y"})};
  graph.outputs = {{"y", DType::f32, {Dim::fixed(2)}, true}, {"e", DType::i64, {}, true}};

  EXPECT_EQ(hoist_constant_nodes(graph), 3u);
  ASSERT_EQ(graph.nodes.size(), 2u);
  EXPECT_EQ(graph.nodes[0].name, "e");  // a graph output stays a node
  EXPECT_EQ(graph.nodes[1].op_type, "Mul");
  EXPECT_EQ(graph.initializers.at("w").values<float>()[1], 2.0f);
  EXPECT_EQ(graph.initializers.at("s").shape(), Shape{});
  EXPECT_EQ(graph.initializers.at("i").shape(), Shape{3});
  EXPECT_EQ(graph.parameter_count(), 2 + 1);  // small int64 vectors are not parameters
}

TEST(ConstantNodes, AConstantWithoutAValueIsANamedError) {
  const Node empty = make_node("Constant", "c", {}, {"c"});
  try {
    constant_node_value(empty);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("needs one of the attributes value"),
              std::string::npos);
  }
}

// ---------------------------------------------------------------- ConvAttrs

TEST(ConvAttrs, DefaultsPerSpatialDim) {
  const Node conv = make_node("Conv", "conv", {"x", "w"}, {"y"});
  const ConvAttrs attrs = ConvAttrs::read(conv, 2);
  EXPECT_EQ(attrs.group, 1);
  EXPECT_TRUE(attrs.kernel_shape.empty());
  EXPECT_EQ(attrs.strides, (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(attrs.dilations, (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(attrs.pads, (std::vector<std::int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(attrs.auto_pad, AutoPad::notset);
  EXPECT_FALSE(attrs.same_padding());
}

TEST(ConvAttrs, ReadsEveryAttribute) {
  const Node conv = make_node("Conv", "conv", {"x", "w"}, {"y"},
                              {{"group", std::int64_t{4}},
                               {"kernel_shape", std::vector<std::int64_t>{3, 5}},
                               {"strides", std::vector<std::int64_t>{2, 1}},
                               {"dilations", std::vector<std::int64_t>{1, 2}},
                               {"pads", std::vector<std::int64_t>{1, 2, 3, 4}},
                               {"auto_pad", std::string("SAME_LOWER")}});
  const ConvAttrs attrs = ConvAttrs::read(conv, 2);
  EXPECT_EQ(attrs.group, 4);
  EXPECT_EQ(attrs.kernel_shape, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(attrs.strides, (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(attrs.dilations, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(attrs.pads_begin(), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(attrs.pads_end(), (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(attrs.auto_pad, AutoPad::same_lower);
  EXPECT_TRUE(attrs.same_padding());
}

TEST(ConvAttrs, WrongLengthAndUnknownAutoPadNameTheNode) {
  const Node short_pads =
      make_node("Conv", "conv", {"x", "w"}, {"y"}, {{"pads", std::vector<std::int64_t>{1, 1}}});
  try {
    ConvAttrs::read(short_pads, 2);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "node 'conv' (Conv): attribute 'pads' has 2 values, expected 4");
  }
  const Node odd = make_node("Conv", "conv", {"x", "w"}, {"y"}, {{"auto_pad", std::string("X")}});
  EXPECT_THROW(ConvAttrs::read(odd, 2), Error);
}

// ---------------------------------------------------------------- ClipBounds

Graph clip_graph(std::int64_t opset) {
  Graph graph;
  graph.opset = opset;
  graph.initializers.emplace("lo", make_tensor<float>({}, {0.0f}));
  graph.initializers.emplace("hi", make_tensor<float>({}, {6.0f}));
  return graph;
}

TEST(ClipBounds, InputsFromOpset11) {
  const Graph graph = clip_graph(13);
  const Node clip = make_node("Clip", "clip", {"x", "lo", "hi"}, {"y"},
                              {{"min", -1.0f}});  // ignored from opset 11
  const auto bounds = std::get<ClipBounds>(ClipBounds::read(graph, clip));
  EXPECT_EQ(bounds.min, 0.0f);
  EXPECT_EQ(bounds.max, 6.0f);
  const Node max_only = make_node("Clip", "clip", {"x", "", "hi"}, {"y"});
  const auto upper = std::get<ClipBounds>(ClipBounds::read(graph, max_only));
  EXPECT_FALSE(upper.min.has_value());
  EXPECT_EQ(upper.max, 6.0f);
}

TEST(ClipBounds, AttributesBeforeOpset11) {
  const Graph graph = clip_graph(6);
  const Node clip = make_node("Clip", "clip", {"x", "lo", "hi"}, {"y"}, {{"max", 1.5f}});
  const auto bounds = std::get<ClipBounds>(ClipBounds::read(graph, clip));
  EXPECT_FALSE(bounds.min.has_value());
  EXPECT_EQ(bounds.max, 1.5f);
  EXPECT_TRUE(ClipBounds::from_attributes(clip).has_any());
  EXPECT_FALSE(ClipBounds::from_attributes(make_node("Clip", "c", {"x"}, {"y"})).has_any());
}

TEST(ClipBounds, RuntimeBoundIsAReason) {
  const Graph graph = clip_graph(13);
  const Node clip = make_node("Clip", "clip", {"x", "runtime_low"}, {"y"});
  const auto bounds = ClipBounds::read(graph, clip);
  ASSERT_TRUE(std::holds_alternative<std::string>(bounds));
  EXPECT_EQ(std::get<std::string>(bounds), "Clip min 'runtime_low' is not a constant scalar");
  const auto max = read_clip_bound(graph, clip, ClipBound::max);
  EXPECT_FALSE(std::get<std::optional<float>>(max).has_value());
}

TEST(ClipBounds, WriteFollowsTheOpset) {
  Graph old_graph = clip_graph(10);
  Editor old_editor(old_graph);
  Node old_clip = make_node("Clip", "c", {"x"}, {"y"});
  ClipBounds{0.0f, 6.0f}.write_to(old_clip, old_editor, "fused");
  EXPECT_EQ(old_clip.inputs, (std::vector<std::string>{"x"}));
  EXPECT_EQ(old_clip.attr_float("min", -1.0f), 0.0f);
  EXPECT_EQ(old_clip.attr_float("max", -1.0f), 6.0f);

  Graph graph = clip_graph(13);
  graph.initializers.emplace("fused/clip_min", make_tensor<float>({}, {9.0f}));
  Editor editor(graph);
  Node clip = make_node("Clip", "c", {"x"}, {"y"});
  ClipBounds{0.0f, 6.0f}.write_to(clip, editor, "fused");
  EXPECT_EQ(clip.inputs, (std::vector<std::string>{"x", "fused/clip_min_1", "fused/clip_max"}));
  EXPECT_FALSE(clip.has_attr("min"));
  EXPECT_EQ(graph.initializers.at("fused/clip_min_1").data<float>()[0], 0.0f);
  EXPECT_EQ(graph.initializers.at("fused/clip_max").data<float>()[0], 6.0f);
  const auto read_back = std::get<ClipBounds>(ClipBounds::read(graph, clip));
  EXPECT_EQ(read_back.min, 0.0f);
  EXPECT_EQ(read_back.max, 6.0f);
}

// ---------------------------------------------------------------- BatchNormParams

BatchNormParams two_channel_bn() {
  return BatchNormParams::from_tensors(
      make_tensor<float>({2}, {2.0f, 1.0f}), make_tensor<float>({2}, {0.5f, -1.0f}),
      make_tensor<float>({2}, {1.0f, 3.0f}), make_tensor<float>({2}, {3.0f, 0.0f}), 1.0f);
}

TEST(BatchNormParams, ScaleAndShift) {
  const BatchNormParams bn = two_channel_bn();
  ASSERT_EQ(bn.channels(), 2);
  EXPECT_DOUBLE_EQ(bn.scale[0], 1.0);  // 2 / sqrt(3 + 1)
  EXPECT_DOUBLE_EQ(bn.scale[1], 1.0);  // 1 / sqrt(0 + 1)
  EXPECT_DOUBLE_EQ(bn.shift[0], -0.5);
  EXPECT_DOUBLE_EQ(bn.shift[1], -4.0);
  EXPECT_EQ(BatchNormParams::epsilon_of(make_node("BatchNormalization", "bn", {}, {})), 1e-5f);
}

TEST(BatchNormParams, FoldIntoRowsAndColumnsMatchesTheBn) {
  const BatchNormParams bn = BatchNormParams::from_tensors(
      make_tensor<float>({2}, {0.5f, 3.0f}), make_tensor<float>({2}, {0.25f, -2.0f}),
      make_tensor<float>({2}, {0.1f, 0.7f}), make_tensor<float>({2}, {0.9f, 4.0f}), 1e-3f);
  // y[c] = sum_k w[c, k] * x[k] + b[c] with x = {1, 2, 3}; then BN per channel c.
  const std::vector<float> x = {1.0f, 2.0f, 3.0f};
  std::vector<float> rows = {1.0f, -2.0f, 0.5f, 4.0f, 0.0f, -1.0f};  // [2, 3]
  std::vector<float> bias = {0.5f, -0.25f};
  std::vector<double> expected(2);
  for (int c = 0; c < 2; ++c) {
    double y = bias[c];
    for (int k = 0; k < 3; ++k) y += rows[c * 3 + k] * x[k];
    const double s = (c == 0 ? 0.5 : 3.0) / std::sqrt((c == 0 ? 0.9 : 4.0) + 1e-3);
    expected[c] = (y - (c == 0 ? 0.1 : 0.7)) * s + (c == 0 ? 0.25 : -2.0);
  }
  std::vector<float> columns = {1.0f, 4.0f, -2.0f, 0.0f, 0.5f, -1.0f};  // the same as [3, 2]
  std::vector<float> column_bias = bias;
  bn.fold_into(rows, bias);
  bn.fold_into(columns, column_bias, ChannelLayout::columns);
  for (int c = 0; c < 2; ++c) {
    double from_rows = bias[c], from_columns = column_bias[c];
    for (int k = 0; k < 3; ++k) {
      from_rows += rows[c * 3 + k] * x[k];
      from_columns += columns[k * 2 + c] * x[k];
    }
    EXPECT_NEAR(from_rows, expected[c], 1e-5) << "channel " << c;
    EXPECT_NEAR(from_columns, expected[c], 1e-5) << "channel " << c;
  }
}

TEST(BatchNormParams, MismatchedSizesThrow) {
  const BatchNormParams bn = two_channel_bn();
  std::vector<float> weights(6), bias(3);
  EXPECT_THROW(bn.fold_into(weights, bias), Error);
  EXPECT_THROW(BatchNormParams::from_tensors(make_tensor<float>({2}, {1.0f, 1.0f}),
                                             make_tensor<float>({1}, {0.0f}),
                                             make_tensor<float>({2}, {0.0f, 0.0f}),
                                             make_tensor<float>({2}, {1.0f, 1.0f}), 1e-5f),
               Error);
}

}  // namespace
}  // namespace edgeperf::graph::ops

namespace edgeperf::graph::ops {
namespace {

// ---------------------------------------------------------------- FusedActivation

TEST(FusedActivation, FromNodeReadsParamsWithOnnxDefaults) {
  const Graph graph = clip_graph(13);
  const auto leaky = FusedActivation::from_node(graph, make_node("LeakyRelu", "a", {"x"}, {"y"}));
  ASSERT_TRUE(leaky.has_value());
  EXPECT_EQ(std::get<FusedActivation>(*leaky).params, std::vector<float>{0.01f});
  const Node hard_sigmoid = make_node("HardSigmoid", "a", {"x"}, {"y"}, {{"alpha", 0.25f}});
  const auto hs = std::get<FusedActivation>(*FusedActivation::from_node(graph, hard_sigmoid));
  EXPECT_EQ(hs.op, "HardSigmoid");
  EXPECT_EQ(hs.params, (std::vector<float>{0.25f, 0.5f}));
  const auto clip = FusedActivation::from_node(graph, make_node("Clip", "c", {"x", "lo"}, {"y"}));
  EXPECT_EQ(std::get<FusedActivation>(*clip).params,
            (std::vector<float>{0.0f, std::numeric_limits<float>::max()}));
  EXPECT_FALSE(FusedActivation::from_node(graph, make_node("Add", "a", {"x", "x"}, {"y"})));
  Node contrib = make_node("Relu", "r", {"x"}, {"y"});
  contrib.domain = "com.example";
  EXPECT_FALSE(FusedActivation::from_node(graph, contrib));
  const auto runtime_clip =
      FusedActivation::from_node(graph, make_node("Clip", "c", {"x", "", "x"}, {"y"}));
  EXPECT_TRUE(std::holds_alternative<std::string>(*runtime_clip));
}

TEST(FusedActivation, FusedConvAttributesRoundTrip) {
  Node fused = make_node("FusedConv", "f", {"x", "w"}, {"y"});
  const FusedActivation clip{"Clip", {0.0f, 6.0f}};
  clip.write_fused_conv_attrs(fused);
  EXPECT_EQ(fused.attr_string("activation", ""), "Clip");
  EXPECT_EQ(fused.attr_floats("activation_params"), (std::vector<float>{0.0f, 6.0f}));
  const FusedActivation back = FusedActivation::of_fused_conv(fused);
  EXPECT_EQ(back.op, "Clip");
  EXPECT_EQ(back.params, clip.params);
  EXPECT_TRUE(FusedActivation::of_fused_conv(make_node("FusedConv", "f", {}, {})).op.empty());
}

TEST(FusedActivation, FusedGemmUsesAlphaBetaAttributes) {
  Node fused = make_node("FusedGemm", "g", {"a", "b"}, {"y"});
  FusedActivation{"HardSigmoid", {0.3f, 0.6f}}.write_fused_gemm_attrs(fused);
  EXPECT_EQ(fused.attr_float("activation_alpha", 0.0f), 0.3f);
  EXPECT_EQ(fused.attr_float("activation_beta", 0.0f), 0.6f);
  EXPECT_EQ(FusedActivation::of_fused_gemm(fused).params, (std::vector<float>{0.3f, 0.6f}));
  Node defaults =
      make_node("FusedGemm", "g", {"a", "b"}, {"y"}, {{"activation", std::string("LeakyRelu")}});
  EXPECT_EQ(FusedActivation::of_fused_gemm(defaults).params, std::vector<float>{0.01f});
}

TEST(FusedActivation, BadFusedAttributesNameTheNode) {
  const Node unknown = make_node("FusedConv", "f", {}, {}, {{"activation", std::string("Elu")}});
  try {
    FusedActivation::of_fused_conv(unknown);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "node 'f' (FusedConv): unsupported activation 'Elu' (supported: Relu, Sigmoid, "
                 "Tanh, LeakyRelu, Clip, HardSigmoid, HardSwish)");
  }
  const Node short_params = make_node(
      "FusedConv", "f", {}, {},
      {{"activation", std::string("Clip")}, {"activation_params", std::vector<float>{1.0f}}});
  EXPECT_THROW(FusedActivation::of_fused_conv(short_params), Error);
  const Node gemm_clip = make_node("FusedGemm", "g", {}, {}, {{"activation", std::string("Clip")}});
  EXPECT_THROW(FusedActivation::of_fused_gemm(gemm_clip), Error);
}

TEST(FusedActivation, ToNodeRestoresTheStandaloneOp) {
  Graph graph = clip_graph(13);
  Editor editor(graph);
  const Node leaky = FusedActivation{"LeakyRelu", {0.2f}}.to_node(editor, "conv", "t", "y");
  EXPECT_EQ(leaky.name, "conv/LeakyRelu");
  EXPECT_EQ(leaky.op_type, "LeakyRelu");
  EXPECT_EQ(leaky.inputs, std::vector<std::string>{"t"});
  EXPECT_EQ(leaky.outputs, std::vector<std::string>{"y"});
  EXPECT_EQ(leaky.attr_float("alpha", 0.0f), 0.2f);
  const Node clip = FusedActivation{"Clip", {0.0f, 6.0f}}.to_node(editor, "conv", "t", "y");
  EXPECT_EQ(clip.inputs, (std::vector<std::string>{"t", "conv/clip_min", "conv/clip_max"}));
  const auto bounds = std::get<ClipBounds>(ClipBounds::read(graph, clip));
  EXPECT_EQ(bounds.min, 0.0f);
  EXPECT_EQ(bounds.max, 6.0f);
}

}  // namespace
}  // namespace edgeperf::graph::ops
