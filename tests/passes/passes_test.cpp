#include "edgeperf/passes/passes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/runtime/expand_fused_ops.h"
#include "edgeperf/runtime/session.h"
#include "edgeperf/zoo/zoo.h"

namespace edgeperf::passes {
namespace {

using graph::Dim;
using graph::GraphBuilder;

Tensor random_f32(Shape shape, std::uint64_t seed, double low = -1.0, double high = 1.0) {
  return random_tensor(DType::f32, shape, seed, low, high);
}

std::vector<Dim> dims(std::initializer_list<std::int64_t> sizes) {
  std::vector<Dim> result;
  for (std::int64_t size : sizes) result.push_back(Dim::fixed(size));
  return result;
}

std::size_t count_ops(const graph::Graph& graph, const std::string& op) {
  return std::count_if(graph.nodes.begin(), graph.nodes.end(),
                       [&](const graph::Node& node) { return node.op_type == op; });
}

const graph::Node& only_node(const graph::Graph& graph, const std::string& op) {
  const auto found = std::find_if(graph.nodes.begin(), graph.nodes.end(),
                                  [&](const graph::Node& node) { return node.op_type == op; });
  EXPECT_NE(found, graph.nodes.end()) << "no " << op;
  return *found;
}

bool log_mentions(const OptimizeResult& result, const std::string& text, bool changed) {
  return std::any_of(result.log.begin(), result.log.end(), [&](const LogEntry& entry) {
    return entry.changed == changed && entry.message.find(text) != std::string::npos;
  });
}

// Runs both graphs in edgeperf (both backends) on the same random inputs; outputs must
// agree within 1e-4 * max(1, max|original|). Also round-trips the optimized graph
// through ONNX serialization, which runs onnx::checker.
void expect_same_outputs(const graph::Graph& original, const graph::Graph& optimized) {
  const graph::Graph reloaded =
      onnx_io::load_model_from_bytes(onnx_io::serialize_model(optimized), "optimized");
  for (auto backend : {runtime::BackendKind::reference, runtime::BackendKind::automatic}) {
    runtime::SessionOptions options;
    options.backend = backend;
    options.threads = 1;
    runtime::Session before(original, options);
    runtime::Session after(reloaded, options);
    const auto inputs = runtime::random_inputs(before, 7);
    const auto expected = before.run(inputs);
    const auto actual = after.run(inputs);
    ASSERT_EQ(expected.size(), actual.size());
    for (const auto& [name, reference] : expected) {
      ASSERT_TRUE(actual.count(name)) << "missing output " << name;
      const Tensor& got = actual.at(name);
      ASSERT_EQ(got.shape(), reference.shape()) << name;
      const std::vector<double> a = got.to_doubles(), b = reference.to_doubles();
      double scale = 1.0;
      for (double v : b) scale = std::max(scale, std::abs(v));
      for (std::size_t i = 0; i < a.size(); ++i) {
        ASSERT_NEAR(a[i], b[i], 1e-4 * scale) << name << "[" << i << "]";
      }
    }
  }
}

OptimizeResult run_passes(const graph::Graph& graph, std::vector<std::string> names,
                          Target target = Target::portable) {
  OptimizeOptions options;
  options.passes = std::move(names);
  options.target = target;
  return optimize(graph, options);
}

// --- constant folding -------------------------------------------------------------

// Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): a shape subgraph.
graph::Graph shape_chain_graph(std::vector<Dim> input_dims) {
  GraphBuilder builder("shape_chain");
  const std::string x = builder.input("x", DType::f32, input_dims);
  const std::string shape = builder.node("Shape", {x});
  const std::string index = builder.initializer("index", make_tensor<std::int64_t>({}, {0}));
  const std::string batch = builder.node("Gather", {shape, index}, {{"axis", std::int64_t{0}}});
  const std::string axes = builder.initializer("axes", make_tensor<std::int64_t>({1}, {0}));
  const std::string batch_1d = builder.node("Unsqueeze", {batch, axes});
  const std::string rest = builder.initializer("rest", make_tensor<std::int64_t>({1}, {-1}));
  const std::string target = builder.node("Concat", {batch_1d, rest}, {{"axis", std::int64_t{0}}});
  const std::string y = builder.node("Reshape", {x, target});
  builder.output(y, DType::f32, {input_dims[0], Dim::named("features")});
  return builder.build();
}

TEST(FoldConstants, StaticShapeChainBecomesAnInitializer) {
  const graph::Graph graph = shape_chain_graph(dims({2, 3, 4}));
  const OptimizeResult result = run_passes(graph, {"fold-constants", "dce"});
  EXPECT_EQ(result.graph.nodes.size(), 1u);
  const graph::Node& reshape = only_node(result.graph, "Reshape");
  const Tensor& target = result.graph.initializers.at(reshape.inputs[1]);
  EXPECT_EQ(target.to_int64s(), (std::vector<std::int64_t>{2, -1}));
  EXPECT_EQ(result.graph.initializers.size(),
            1u);  // index/axes/rest were only read by folded nodes
  EXPECT_TRUE(log_mentions(result, "(Shape) folded", true));
  expect_same_outputs(graph, result.graph);
}

TEST(FoldConstants, SymbolicShapeChainStays) {
  const graph::Graph graph = shape_chain_graph({Dim::named("batch"), Dim::fixed(3)});
  const OptimizeResult result = run_passes(graph, {"fold-constants", "dce"});
  EXPECT_EQ(result.graph.nodes.size(), graph.nodes.size());
  EXPECT_EQ(count_ops(result.graph, "Shape"), 1u);
}

TEST(FoldConstants, ConstantNodesAndArithmeticFold) {
  GraphBuilder builder("arith");
  const std::string x = builder.input("x", DType::f32, dims({1, 4}));
  graph::AttrValue value = make_tensor<float>({4}, {1, 2, 3, 4});
  const std::string c = builder.node("Constant", {}, {{"value", value}});
  const std::string two = builder.initializer("two", make_tensor<float>({1}, {2.0f}));
  const std::string scaled = builder.node("Mul", {c, two});
  const std::string y = builder.node("Add", {x, scaled});
  builder.output(y, DType::f32, dims({1, 4}));
  const graph::Graph graph = builder.build();
  const OptimizeResult result = run_passes(graph, {});
  ASSERT_EQ(result.graph.nodes.size(), 1u);
  const graph::Node& add = only_node(result.graph, "Add");
  EXPECT_EQ(result.graph.initializers.at(add.inputs[1]).to_doubles(),
            (std::vector<double>{2, 4, 6, 8}));
  expect_same_outputs(graph, result.graph);
}

TEST(FoldConstants, RespectsTheSizeCap) {
  GraphBuilder builder("big");
  const std::string x = builder.input("x", DType::f32, dims({64, 64}));
  const std::string shape = builder.initializer("shape", make_tensor<std::int64_t>({2}, {64, 64}));
  const std::string filled = builder.node("ConstantOfShape", {shape}, {}, "fill");
  const std::string y = builder.node("Add", {x, filled});
  builder.output(y, DType::f32, dims({64, 64}));
  const graph::Graph graph = builder.build();
  OptimizeOptions options;
  options.passes = {"fold-constants"};
  options.fold_limit_bytes = 1024;  // 64 * 64 * 4 bytes is 16 KiB
  const OptimizeResult capped = optimize(graph, options);
  EXPECT_EQ(count_ops(capped.graph, "ConstantOfShape"), 1u);
  EXPECT_TRUE(log_mentions(capped, "folding cap", false));
  options.fold_limit_bytes = 1 << 20;
  const OptimizeResult folded = optimize(graph, options);
  EXPECT_EQ(count_ops(folded.graph, "ConstantOfShape"), 0u);
}

// --- BatchNormalization folding ----------------------------------------------------

std::vector<std::string> bn_params(GraphBuilder& builder, std::int64_t channels,
                                   std::uint64_t seed) {
  return {builder.initializer("scale", random_f32({channels}, seed, 0.5, 1.5)),
          builder.initializer("shift", random_f32({channels}, seed + 1)),
          builder.initializer("mean", random_f32({channels}, seed + 2)),
          builder.initializer("var", random_f32({channels}, seed + 3, 0.2, 2.0))};
}

graph::Graph conv_bn_graph(std::int64_t group, bool with_bias) {
  const std::int64_t channels = 8;
  GraphBuilder builder("conv_bn");
  const std::string x = builder.input(
      "x", DType::f32, {Dim::named("batch"), Dim::fixed(channels), Dim::fixed(6), Dim::fixed(6)});
  std::vector<std::string> inputs{
      x, builder.initializer("W", random_f32({channels, channels / group, 3, 3}, 11))};
  if (with_bias) inputs.push_back(builder.initializer("B", random_f32({channels}, 12)));
  const std::string conv = builder.node(
      "Conv", inputs, {{"group", group}, {"pads", std::vector<std::int64_t>{1, 1, 1, 1}}}, "conv");
  std::vector<std::string> bn_inputs{conv};
  for (const std::string& p : bn_params(builder, channels, 20)) bn_inputs.push_back(p);
  const std::string y = builder.node("BatchNormalization", bn_inputs, {}, "bn");
  builder.output(y, DType::f32,
                 {Dim::named("batch"), Dim::fixed(channels), Dim::fixed(6), Dim::fixed(6)});
  return builder.build();
}

TEST(FoldBatchNorm, IntoConvWithoutBias) {
  const graph::Graph graph = conv_bn_graph(1, false);
  const OptimizeResult result = run_passes(graph, {"fold-batchnorm", "dce"});
  ASSERT_EQ(result.graph.nodes.size(), 1u);
  const graph::Node& conv = only_node(result.graph, "Conv");
  EXPECT_EQ(conv.inputs.size(), 3u);  // gained a bias
  EXPECT_EQ(conv.outputs[0], graph.outputs[0].name);
  EXPECT_TRUE(log_mentions(result, "'bn' (BatchNormalization) folded into 'conv' (Conv)", true));
  expect_same_outputs(graph, result.graph);
}

TEST(FoldBatchNorm, IntoDepthwiseConvWithBias) {
  const graph::Graph graph = conv_bn_graph(8, true);
  const OptimizeResult result = run_passes(graph, {"fold-batchnorm", "dce"});
  ASSERT_EQ(result.graph.nodes.size(), 1u);
  EXPECT_TRUE(log_mentions(result, "group 8", true));
  expect_same_outputs(graph, result.graph);
}

TEST(FoldBatchNorm, IntoGroupedConv) {
  const graph::Graph graph = conv_bn_graph(2, true);
  const OptimizeResult result = run_passes(graph, {"fold-batchnorm"});
  EXPECT_EQ(count_ops(result.graph, "BatchNormalization"), 0u);
  expect_same_outputs(graph, result.graph);
}

TEST(FoldBatchNorm, NotWhenTheConvOutputHasOtherReaders) {
  GraphBuilder builder("shared");
  const std::string x = builder.input("x", DType::f32, dims({1, 4, 5, 5}));
  const std::string conv =
      builder.node("Conv", {x, builder.initializer("W", random_f32({4, 4, 1, 1}, 3))}, {}, "conv");
  std::vector<std::string> bn_inputs{conv};
  for (const std::string& p : bn_params(builder, 4, 40)) bn_inputs.push_back(p);
  const std::string bn = builder.node("BatchNormalization", bn_inputs, {}, "bn");
  const std::string y = builder.node("Add", {bn, conv});
  builder.output(y, DType::f32, dims({1, 4, 5, 5}));
  const graph::Graph graph = builder.build();
  const OptimizeResult result = run_passes(graph, {"fold-batchnorm"});
  EXPECT_EQ(count_ops(result.graph, "BatchNormalization"), 1u);
  EXPECT_TRUE(log_mentions(result, "has other readers", false));
  expect_same_outputs(graph, result.graph);
}

graph::Graph gemm_bn_graph(bool trans_b, bool with_c) {
  GraphBuilder builder("gemm_bn");
  const std::string x = builder.input("x", DType::f32, {Dim::named("batch"), Dim::fixed(5)});
  const Shape b_shape = trans_b ? Shape{6, 5} : Shape{5, 6};
  std::vector<std::string> inputs{x, builder.initializer("B", random_f32(b_shape, 50))};
  if (with_c) inputs.push_back(builder.initializer("C", random_f32({6}, 51)));
  const std::string gemm = builder.node(
      "Gemm", inputs, {{"transB", std::int64_t{trans_b}}, {"alpha", 0.5f}, {"beta", 2.0f}}, "gemm");
  std::vector<std::string> bn_inputs{gemm};
  for (const std::string& p : bn_params(builder, 6, 60)) bn_inputs.push_back(p);
  const std::string y = builder.node("BatchNormalization", bn_inputs, {}, "bn");
  builder.output(y, DType::f32, {Dim::named("batch"), Dim::fixed(6)});
  return builder.build();
}

TEST(FoldBatchNorm, IntoGemmRespectingTransB) {
  for (bool trans_b : {false, true}) {
    for (bool with_c : {false, true}) {
      const graph::Graph graph = gemm_bn_graph(trans_b, with_c);
      const OptimizeResult result = run_passes(graph, {"fold-batchnorm", "dce"});
      ASSERT_EQ(result.graph.nodes.size(), 1u) << trans_b << with_c;
      EXPECT_EQ(only_node(result.graph, "Gemm").attr_int("transB", 0), trans_b ? 1 : 0);
      expect_same_outputs(graph, result.graph);
    }
  }
}

// --- activation fusion ---------------------------------------------------------------

// Conv -> activation (built by `add_activation`) -> output.
template <typename AddActivation>
graph::Graph conv_activation_graph(AddActivation add_activation, std::int64_t opset = 13) {
  GraphBuilder builder("conv_act", opset);
  const std::string x = builder.input(
      "x", DType::f32, {Dim::named("batch"), Dim::fixed(3), Dim::fixed(8), Dim::fixed(8)});
  const std::string conv = builder.node("Conv",
                                        {x, builder.initializer("W", random_f32({4, 3, 3, 3}, 70)),
                                         builder.initializer("B", random_f32({4}, 71))},
                                        {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}}, "conv");
  const std::string y = add_activation(builder, conv);
  builder.output(y, DType::f32, {Dim::named("batch"), Dim::fixed(4), Dim::fixed(8), Dim::fixed(8)});
  return builder.build();
}

TEST(FuseActivation, ConvRelu) {
  const graph::Graph graph = conv_activation_graph(
      [](GraphBuilder& b, const std::string& in) { return b.node("Relu", {in}, {}, "relu"); });
  const OptimizeResult result = run_passes(graph, {"fuse-activation", "dce"});
  ASSERT_EQ(result.graph.nodes.size(), 1u);
  const graph::Node& fused = result.graph.nodes[0];
  EXPECT_EQ(fused.op_type, "FusedConv");
  EXPECT_EQ(fused.domain, "com.microsoft");
  EXPECT_EQ(fused.attr_string("activation", ""), "Relu");
  EXPECT_EQ(fused.outputs[0], graph.outputs[0].name);
  expect_same_outputs(graph, result.graph);
}

TEST(FuseActivation, ConvClipWithConstantBounds) {
  const graph::Graph graph = conv_activation_graph([](GraphBuilder& b, const std::string& in) {
    return b.node("Clip", {in, b.initializer("lo", make_tensor<float>({}, {0.0f})),
                           b.initializer("hi", make_tensor<float>({}, {0.5f}))});
  });
  const OptimizeResult result = run_passes(graph, {"fuse-activation", "dce"});
  ASSERT_EQ(result.graph.nodes.size(), 1u);
  EXPECT_EQ(result.graph.nodes[0].attr_floats("activation_params"),
            (std::vector<float>{0.0f, 0.5f}));
  expect_same_outputs(graph, result.graph);
}

TEST(FuseActivation, ClipWithRuntimeMinStays) {
  GraphBuilder builder("runtime_clip");
  const std::string x = builder.input("x", DType::f32, dims({1, 3, 4, 4}));
  const std::string low = builder.input("low", DType::f32, {});
  const std::string conv =
      builder.node("Conv", {x, builder.initializer("W", random_f32({2, 3, 1, 1}, 80))}, {}, "conv");
  const std::string y = builder.node("Clip", {conv, low}, {}, "clip");
  builder.output(y, DType::f32, dims({1, 2, 4, 4}));
  const graph::Graph graph = builder.build();
  const OptimizeResult result = run_passes(graph, {});
  EXPECT_EQ(count_ops(result.graph, "Clip"), 1u);
  EXPECT_TRUE(log_mentions(result, "Clip min 'low' is not a constant", false));
  expect_same_outputs(graph, result.graph);
}

TEST(FuseActivation, HardSwishOnlyForTheEdgeperfTarget) {
  const graph::Graph graph = conv_activation_graph(
      [](GraphBuilder& b, const std::string& in) { return b.node("HardSwish", {in}); });
  const OptimizeResult portable = run_passes(graph, {"fuse-activation"});
  EXPECT_EQ(count_ops(portable.graph, "HardSwish"), 1u);
  EXPECT_TRUE(log_mentions(portable, "--target edgeperf", false));
  const OptimizeResult native = run_passes(graph, {"fuse-activation"}, Target::edgeperf);
  ASSERT_EQ(native.graph.nodes.size(), 1u);
  EXPECT_EQ(native.graph.nodes[0].attr_string("activation", ""), "HardSwish");
  expect_same_outputs(graph, native.graph);
}

TEST(FuseActivation, LeakyReluAndSigmoidAndHardSigmoid) {
  for (std::string op : {"LeakyRelu", "Sigmoid", "HardSigmoid", "Tanh"}) {
    const graph::Graph graph = conv_activation_graph([&](GraphBuilder& b, const std::string& in) {
      std::map<std::string, graph::AttrValue> attrs;
      if (op == "LeakyRelu") attrs["alpha"] = 0.2f;
      if (op == "HardSigmoid") attrs["alpha"] = 0.3f;
      return b.node(op, {in}, attrs);
    });
    const OptimizeResult result = run_passes(graph, {"fuse-activation"});
    ASSERT_EQ(result.graph.nodes.size(), 1u) << op;
    expect_same_outputs(graph, result.graph);
  }
}

TEST(FuseActivation, ConvAddReluUsesTheSumInput) {
  GraphBuilder builder("residual");
  const std::vector<Dim> shape{Dim::named("batch"), Dim::fixed(4), Dim::fixed(5), Dim::fixed(5)};
  const std::string x = builder.input("x", DType::f32, shape);
  const std::string conv =
      builder.node("Conv", {x, builder.initializer("W", random_f32({4, 4, 3, 3}, 90))},
                   {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}}, "conv");
  const std::string sum = builder.node("Add", {x, conv}, {}, "add");
  const std::string y = builder.node("Relu", {sum}, {}, "relu");
  builder.output(y, DType::f32, shape);
  const graph::Graph graph = builder.build();
  const OptimizeResult result = run_passes(graph, {"fuse-activation"});
  ASSERT_EQ(result.graph.nodes.size(), 1u);
  const graph::Node& fused = result.graph.nodes[0];
  ASSERT_EQ(fused.inputs.size(), 4u);
  EXPECT_EQ(fused.inputs[2], "");
  EXPECT_EQ(fused.inputs[3], x);
  expect_same_outputs(graph, result.graph);
}

TEST(FuseActivation, LinearResidualConvAddUsesTheSumInputWithoutActivation) {
  GraphBuilder builder("linear_residual");
  const std::vector<Dim> shape{Dim::named("batch"), Dim::fixed(4), Dim::fixed(5), Dim::fixed(5)};
  const std::string x = builder.input("x", DType::f32, shape);
  const std::string conv =
      builder.node("Conv", {x, builder.initializer("W", random_f32({4, 4, 1, 1}, 95))}, {}, "conv");
  const std::string y = builder.node("Add", {conv, x}, {}, "add");
  builder.output(y, DType::f32, shape);
  const graph::Graph graph = builder.build();
  const OptimizeResult result = run_passes(graph, {"fuse-activation"});
  ASSERT_EQ(result.graph.nodes.size(), 1u);
  const graph::Node& fused = result.graph.nodes[0];
  EXPECT_EQ(fused.op_type, "FusedConv");
  EXPECT_FALSE(fused.has_attr("activation"));
  EXPECT_EQ(fused.inputs.at(3), x);
  EXPECT_TRUE(log_mentions(result, "without activation", true));
  expect_same_outputs(graph, result.graph);
}

TEST(FuseActivation, AddWithBroadcastStaysUnfused) {
  GraphBuilder builder("broadcast");
  const std::string x = builder.input("x", DType::f32, dims({1, 4, 5, 5}));
  const std::string conv =
      builder.node("Conv", {x, builder.initializer("W", random_f32({4, 4, 1, 1}, 91))});
  const std::string sum =
      builder.node("Add", {conv, builder.initializer("bias", random_f32({4, 1, 1}, 92))});
  const std::string y = builder.node("Relu", {sum});
  builder.output(y, DType::f32, dims({1, 4, 5, 5}));
  const graph::Graph graph = builder.build();
  const OptimizeResult result = run_passes(graph, {"fuse-activation"});
  EXPECT_EQ(result.graph.nodes.size(), 3u);
}

TEST(FuseActivation, GemmLeakyReluAndNotClip) {
  for (std::string op : {"LeakyRelu", "Clip"}) {
    GraphBuilder builder("gemm_act");
    const std::string x = builder.input("x", DType::f32, {Dim::named("batch"), Dim::fixed(5)});
    const std::string gemm = builder.node("Gemm",
                                          {x, builder.initializer("B", random_f32({3, 5}, 93)),
                                           builder.initializer("C", random_f32({3}, 94))},
                                          {{"transB", std::int64_t{1}}}, "gemm");
    std::map<std::string, graph::AttrValue> attrs;
    if (op == "LeakyRelu") attrs["alpha"] = 0.25f;
    const std::string y = builder.node(op, {gemm}, attrs, "act");
    builder.output(y, DType::f32, {Dim::named("batch"), Dim::fixed(3)});
    const graph::Graph graph = builder.build();
    const OptimizeResult result = run_passes(graph, {"fuse-activation"});
    if (op == "Clip") {
      EXPECT_EQ(result.graph.nodes.size(), 2u);
      EXPECT_TRUE(log_mentions(result, "no Clip", false));
    } else {
      ASSERT_EQ(result.graph.nodes.size(), 1u);
      EXPECT_EQ(result.graph.nodes[0].op_type, "FusedGemm");
      EXPECT_FLOAT_EQ(result.graph.nodes[0].attr_float("activation_alpha", 0.0f), 0.25f);
    }
    expect_same_outputs(graph, result.graph);
  }
}

// --- Identity / Dropout ----------------------------------------------------------------

TEST(RemoveIdentity, IdentityFeedingAGraphOutputKeepsTheName) {
  GraphBuilder builder("identity_out");
  const std::string x = builder.input("x", DType::f32, dims({2, 3}));
  const std::string relu = builder.node("Relu", {x});
  const std::string id = builder.node("Identity", {relu}, {}, "id");
  const std::string z = builder.node("Neg", {relu});
  builder.output(id, DType::f32, dims({2, 3}));
  builder.output(z, DType::f32, dims({2, 3}));
  const graph::Graph graph = builder.build();
  const OptimizeResult result = run_passes(graph, {"remove-identity"});
  EXPECT_EQ(count_ops(result.graph, "Identity"), 0u);
  EXPECT_EQ(only_node(result.graph, "Relu").outputs[0], id);
  EXPECT_EQ(only_node(result.graph, "Neg").inputs[0], id);
  EXPECT_EQ(result.graph.outputs[0].name, id);
  expect_same_outputs(graph, result.graph);
}

TEST(RemoveIdentity, IdentityFromInputToOutputStays) {
  GraphBuilder builder("passthrough");
  const std::string x = builder.input("x", DType::f32, dims({2}));
  builder.output(builder.node("Identity", {x}), DType::f32, dims({2}));
  const OptimizeResult result = run_passes(builder.build(), {"remove-identity"});
  EXPECT_EQ(result.graph.nodes.size(), 1u);
  EXPECT_TRUE(log_mentions(result, "kept", false));
}

TEST(RemoveIdentity, DropoutWithoutAndWithItsMaskUsed) {
  for (bool mask_used : {false, true}) {
    GraphBuilder builder("dropout");
    const std::string x = builder.input("x", DType::f32, dims({2, 3}));
    const std::vector<std::string> out = builder.node_multi("Dropout", {x}, 2, {}, "drop");
    const std::string y = builder.node("Relu", {out[0]});
    builder.output(y, DType::f32, dims({2, 3}));
    if (mask_used) builder.output(out[1], DType::boolean, dims({2, 3}));
    const graph::Graph graph = builder.build();
    const OptimizeResult result = run_passes(graph, {"remove-identity"});
    EXPECT_EQ(count_ops(result.graph, "Dropout"), mask_used ? 1u : 0u);
    if (mask_used) {
      EXPECT_TRUE(log_mentions(result, "mask output", false));
    }
    expect_same_outputs(graph, result.graph);
  }
}

TEST(RemoveIdentity, DropoutInTrainingModeStays) {
  GraphBuilder builder("training_dropout");
  const std::string x = builder.input("x", DType::f32, dims({2, 3}));
  const std::string ratio = builder.initializer("ratio", make_tensor<float>({}, {0.0f}));
  const std::string mode = builder.initializer("mode", make_tensor<bool>({}, {true}));
  builder.output(builder.node("Dropout", {x, ratio, mode}, {}, "drop"), DType::f32, dims({2, 3}));
  const OptimizeResult result = run_passes(builder.build(), {"remove-identity"});
  EXPECT_EQ(count_ops(result.graph, "Dropout"), 1u);
  EXPECT_TRUE(log_mentions(result, "training_mode is true", false));
}

TEST(FuseActivation, ConvOutputWithTwoReadersStays) {
  GraphBuilder builder("two_readers");
  const std::string x = builder.input("x", DType::f32, dims({1, 2, 3, 3}));
  const std::string conv =
      builder.node("Conv", {x, builder.initializer("W", random_f32({2, 2, 1, 1}, 5))});
  builder.output(builder.node("Relu", {conv}), DType::f32, dims({1, 2, 3, 3}));
  builder.output(conv, DType::f32, dims({1, 2, 3, 3}));
  const graph::Graph graph = builder.build();
  const OptimizeResult result = run_passes(graph, {});
  EXPECT_EQ(count_ops(result.graph, "Relu"), 1u);
  EXPECT_EQ(count_ops(result.graph, "FusedConv"), 0u);
  expect_same_outputs(graph, result.graph);
}

// --- dead code ---------------------------------------------------------------------------

TEST(DeadCode, RemovesUnreachableNodesAndInitializers) {
  GraphBuilder builder("dead");
  const std::string x = builder.input("x", DType::f32, dims({2}));
  const std::string unused = builder.initializer("unused", random_f32({100}, 1));
  builder.node("Neg", {x}, {}, "dangling");
  builder.node("Sqrt", {unused}, {}, "dangling_too");
  builder.output(builder.node("Relu", {x}), DType::f32, dims({2}));
  const graph::Graph graph = builder.build();
  const OptimizeResult result = run_passes(graph, {"dce"});
  EXPECT_EQ(result.graph.nodes.size(), 1u);
  EXPECT_TRUE(result.graph.initializers.empty());
  EXPECT_EQ(result.passes.at(0).changes, 3u);
  EXPECT_TRUE(log_mentions(result, "'dangling' (Neg) removed", true));
}

// --- optimize(), whole models, bad input ------------------------------------------------

TEST(Optimize, UnknownPassIsAOneLineError) {
  GraphBuilder builder("g");
  builder.output(builder.node("Relu", {builder.input("x", DType::f32, dims({1}))}), DType::f32,
                 dims({1}));
  try {
    run_passes(builder.build(), {"dce", "fold-everything"});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("unknown pass 'fold-everything'"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
  EXPECT_THROW(parse_target("gpu"), Error);
}

TEST(Optimize, ZooModelsShrinkAndMatch) {
  for (const std::string name : {"ds_cnn", "fc_autoencoder"}) {
    const graph::Graph graph = zoo::build_zoo_model(name, 3);
    const OptimizeResult result = optimize(graph);
    EXPECT_LT(result.nodes_after, result.nodes_before) << name;
    EXPECT_EQ(count_ops(result.graph, "BatchNormalization"), 0u) << name;
    expect_same_outputs(graph, result.graph);
    EXPECT_NE(format_report(result).find("nodes"), std::string::npos);
  }
}

// --- the runtime's expansion of the contrib ops -------------------------------------------

TEST(ExpandFusedOps, RejectsUnknownActivationsAndBadParameterCounts) {
  graph::Graph graph = conv_activation_graph(
      [](GraphBuilder& b, const std::string& in) { return b.node("Relu", {in}); });
  graph = run_passes(graph, {"fuse-activation"}).graph;
  graph::Graph unknown = graph;
  unknown.nodes[0].attrs["activation"] = std::string("Swish");
  EXPECT_THROW(runtime::expand_fused_ops(unknown), Error);
  graph::Graph bad_params = graph;
  bad_params.nodes[0].attrs["activation"] = std::string("LeakyRelu");
  EXPECT_THROW(runtime::expand_fused_ops(bad_params), Error);
  EXPECT_THROW(runtime::Session(bad_params, {}), Error);
  graph::Graph good = graph;
  EXPECT_EQ(runtime::expand_fused_ops(good), 1u);
  EXPECT_EQ(good.nodes.size(), 2u);
  EXPECT_NO_THROW(runtime::check_supported_ops(graph));
}

}  // namespace
}  // namespace edgeperf::passes
