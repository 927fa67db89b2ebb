#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/prune/channel.h"
#include "edgeperf/runtime/model_stats.h"
#include "edgeperf/runtime/session.h"
#include "edgeperf/zoo/zoo.h"

namespace edgeperf::prune {
namespace {

using graph::Dim;
using graph::GraphBuilder;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Builds small conv nets with seeded weights. Channels listed in `zeroed` get all-zero
// filters and biases: they then carry exact zeros, and pruning them must change nothing.
class NetBuilder {
 public:
  explicit NetBuilder(std::vector<std::int64_t> input_chw) : builder_("net") {
    std::vector<Dim> dims{Dim::named("batch")};
    for (std::int64_t size : input_chw) dims.push_back(Dim::fixed(size));
    input_ = builder_.input("x", DType::f32, dims);
  }

  const std::string& input() const { return input_; }

  std::string conv(const std::string& x, std::int64_t in, std::int64_t out, const std::string& name,
                   std::vector<std::int64_t> zeroed = {}, std::int64_t group = 1) {
    Tensor weight = random_tensor(DType::f32, {out, in / group, 3, 3}, ++seed_, 0.1, 1.0);
    Tensor bias = random_tensor(DType::f32, {out}, ++seed_, 0.1, 0.5);
    for (std::int64_t channel : zeroed) zero_channel(weight, bias, channel);
    const std::string w = builder_.initializer(name + ".weight", weight);
    const std::string b = builder_.initializer(name + ".bias", bias);
    return builder_.node("Conv", {x, w, b},
                         {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
                          {"pads", std::vector<std::int64_t>{1, 1, 1, 1}},
                          {"group", group}},
                         name);
  }

  std::string batch_norm(const std::string& x, std::int64_t channels, const std::string& name) {
    std::vector<std::string> inputs{x};
    for (const char* param : {"scale", "bias", "mean", "var"}) {
      inputs.push_back(builder_.initializer(
          name + "." + param, random_tensor(DType::f32, {channels}, ++seed_, 0.5, 1.5)));
    }
    return builder_.node("BatchNormalization", inputs, {{"epsilon", 1e-5f}}, name);
  }

  std::string gemm(const std::string& x, std::int64_t in, std::int64_t out, const std::string& name,
                   bool trans_b = true) {
    const Shape shape = trans_b ? Shape{out, in} : Shape{in, out};
    const std::string w =
        builder_.initializer(name + ".weight", random_tensor(DType::f32, shape, ++seed_));
    const std::string b =
        builder_.initializer(name + ".bias", random_tensor(DType::f32, {out}, ++seed_));
    return builder_.node("Gemm", {x, w, b}, {{"transB", std::int64_t{trans_b ? 1 : 0}}}, name);
  }

  std::string op(const std::string& op_type, std::vector<std::string> inputs,
                 std::map<std::string, graph::AttrValue> attrs = {}) {
    return builder_.node(op_type, std::move(inputs), std::move(attrs));
  }

  std::string constant(const std::string& name, Tensor value) {
    return builder_.initializer(name, std::move(value));
  }

  graph::Graph finish(const std::string& output, std::vector<std::int64_t> dims) {
    std::vector<Dim> output_dims{Dim::named("batch")};
    for (std::int64_t size : dims) output_dims.push_back(Dim::fixed(size));
    builder_.output(output, DType::f32, output_dims);
    return builder_.build();
  }

 private:
  static void zero_channel(Tensor& weight, Tensor& bias, std::int64_t channel) {
    const std::int64_t per_channel = weight.numel() / weight.dim(0);
    float* row = weight.data<float>() + channel * per_channel;
    std::fill(row, row + per_channel, 0.0f);
    bias.data<float>()[channel] = 0.0f;
  }

  GraphBuilder builder_;
  std::string input_;
  std::uint64_t seed_ = 100;
};

runtime::SessionOptions reference_options() {
  runtime::SessionOptions options;
  options.backend = runtime::BackendKind::reference;
  options.threads = 1;
  return options;
}

std::map<std::string, Tensor> run_model(const graph::Graph& model, std::int64_t batch = 2) {
  runtime::Session session(model, reference_options());
  return session.run(runtime::random_inputs(session, 7, batch));
}

// Every output of the pruned model matches the original within `tolerance`.
void expect_same_outputs(const graph::Graph& original, const graph::Graph& pruned,
                         double tolerance) {
  const auto expected = run_model(original);
  const auto actual = run_model(pruned);
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto& [name, tensor] : expected) {
    const Tensor& other = actual.at(name);
    ASSERT_EQ(tensor.shape(), other.shape()) << name;
    double worst = 0;
    for (std::int64_t i = 0; i < tensor.numel(); ++i) {
      worst = std::max(
          worst, static_cast<double>(std::abs(tensor.data<float>()[i] - other.data<float>()[i])));
    }
    EXPECT_LE(worst, tolerance) << name;
  }
}

const Shape& initializer_shape(const graph::Graph& model, const std::string& name) {
  return model.initializers.at(name).shape();
}

const graph::Node& node_named(const graph::Graph& model, const std::string& name) {
  for (const graph::Node& node : model.nodes) {
    if (node.name == name) return node;
  }
  throw Error("no node " + name);
}

ChannelPruneResult prune(const graph::Graph& model, double ratio,
                         std::set<std::string> exclude = {}) {
  ChannelPruneOptions options;
  options.ratio = ratio;
  options.exclude = std::move(exclude);
  return prune_channels(model, options);
}

TEST(ChannelPrune, ConvBnReluConvDropsLowestNormChannels) {
  NetBuilder net({3, 6, 6});
  std::string y = net.conv(net.input(), 3, 8, "conv1", {2, 5});
  y = net.batch_norm(y, 8, "bn1");
  y = net.op("Relu", {y});
  y = net.conv(y, 8, 4, "conv2");
  const graph::Graph model = net.finish(y, {4, 6, 6});

  const ChannelPruneResult result = prune(model, 0.25);
  EXPECT_EQ(initializer_shape(result.model, "conv1.weight"), (Shape{6, 3, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv1.bias"), (Shape{6}));
  for (const char* param : {"bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"}) {
    EXPECT_EQ(initializer_shape(result.model, param), (Shape{6})) << param;
  }
  EXPECT_EQ(initializer_shape(result.model, "conv2.weight"), (Shape{4, 6, 3, 3}));
  // The zeroed (lowest-norm) channels 2 and 5 are the ones gone: the rest are unchanged.
  const Tensor& before = model.initializers.at("bn1.scale");
  const Tensor& after = result.model.initializers.at("bn1.scale");
  const std::vector<std::int64_t> kept{0, 1, 3, 4, 6, 7};
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(after.data<float>()[i], before.data<float>()[kept[i]]);
  }
  EXPECT_EQ(run_model(result.model).begin()->second.shape(), (Shape{2, 4, 6, 6}));
  EXPECT_THAT(result.log, ::testing::Contains(HasSubstr("8 -> 6 channels")));
  EXPECT_THAT(result.log, ::testing::Contains(HasSubstr("graph output")));
}

TEST(ChannelPrune, L1AndL2RankFiltersDifferently) {
  NetBuilder net({1, 4, 4});
  std::string y = net.conv(net.input(), 1, 4, "conv1");
  y = net.conv(net.op("Relu", {y}), 4, 2, "conv2");
  graph::Graph model = net.finish(y, {2, 4, 4});
  // Channel 0: nine weights of 0.3 (L1 2.7, L2 0.9). Channel 1: one weight of 2 (L1 2,
  // L2 2). Channels 2 and 3: nine weights of 1 (L1 9, L2 3).
  Tensor weight(DType::f32, {4, 1, 3, 3});
  float* w = weight.data<float>();
  std::fill(w, w + 9, 0.3f);
  w[9 + 4] = 2.0f;
  std::fill(w + 18, w + 36, 1.0f);
  model.initializers["conv1.weight"] = weight;
  const Tensor& bias = model.initializers.at("conv1.bias");
  ChannelPruneOptions options;
  options.ratio = 0.25;
  options.norm = ChannelNorm::l1;
  const Tensor l1_bias = prune_channels(model, options).model.initializers.at("conv1.bias");
  options.norm = ChannelNorm::l2;
  const Tensor l2_bias = prune_channels(model, options).model.initializers.at("conv1.bias");
  EXPECT_EQ(l1_bias.to_doubles(), (std::vector<double>{bias.data<float>()[0], bias.data<float>()[2],
                                                       bias.data<float>()[3]}));
  EXPECT_EQ(l2_bias.to_doubles(), (std::vector<double>{bias.data<float>()[1], bias.data<float>()[2],
                                                       bias.data<float>()[3]}));
}

TEST(ChannelPrune, ZeroChannelsPruneToTheSameOutputs) {
  // conv1 -> Relu -> depthwise -> Relu -> conv2 -> Flatten -> Gemm, with the channels to
  // be pruned zeroed first: the pruned model computes exactly the same function.
  NetBuilder net({2, 4, 4});
  std::string y = net.conv(net.input(), 2, 8, "conv1", {1, 6});
  y = net.op("Relu", {y});
  y = net.conv(y, 8, 8, "dw", {1, 6}, 8);
  y = net.op("Relu", {y});
  y = net.conv(y, 8, 4, "conv2", {3});
  y = net.op("Flatten", {y}, {{"axis", std::int64_t{1}}});
  y = net.gemm(y, 4 * 16, 5, "fc");
  const graph::Graph model = net.finish(y, {5});

  const ChannelPruneResult result = prune(model, 0.25);
  EXPECT_EQ(initializer_shape(result.model, "conv1.weight"), (Shape{6, 2, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "dw.weight"), (Shape{6, 1, 3, 3}));
  EXPECT_EQ(node_named(result.model, "dw").attr_int("group"), 6);
  EXPECT_EQ(initializer_shape(result.model, "conv2.weight"), (Shape{3, 6, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "fc.weight"), (Shape{5, 3 * 16}));
  expect_same_outputs(model, result.model, 1e-5);
}

TEST(ChannelPrune, PruningNonZeroChannelsChangesOutputs) {
  // The equivalence test above can fail: without zeroed channels the outputs differ.
  NetBuilder net({2, 4, 4});
  std::string y = net.conv(net.input(), 2, 8, "conv1");
  y = net.op("Relu", {y});
  y = net.conv(y, 8, 4, "conv2");
  const graph::Graph model = net.finish(y, {4, 4, 4});
  const auto expected = run_model(model);
  const auto actual = run_model(prune(model, 0.25).model);
  const Tensor& a = expected.begin()->second;
  const Tensor& b = actual.begin()->second;
  double worst = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    worst = std::max(worst, static_cast<double>(std::abs(a.data<float>()[i] - b.data<float>()[i])));
  }
  EXPECT_GT(worst, 1e-3);
}

TEST(ChannelPrune, ResidualAddSharesOneMask) {
  NetBuilder net({3, 5, 5});
  const std::string a = net.conv(net.input(), 3, 8, "conv_a", {0, 4});
  std::string b = net.op("Relu", {a});
  b = net.conv(b, 8, 8, "conv_b", {0, 4});
  std::string sum = net.op("Add", {a, b});
  sum = net.op("Relu", {sum});
  const std::string c = net.conv(sum, 8, 3, "conv_c");
  const graph::Graph model = net.finish(c, {3, 5, 5});

  const ChannelPruneResult result = prune(model, 0.25);
  EXPECT_EQ(initializer_shape(result.model, "conv_a.weight"), (Shape{6, 3, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv_b.weight"), (Shape{6, 6, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv_c.weight"), (Shape{3, 6, 3, 3}));
  EXPECT_THAT(result.log, ::testing::Contains(AllOf(HasSubstr("conv_a"), HasSubstr("conv_b"),
                                                    HasSubstr("8 -> 6"))));
  expect_same_outputs(model, result.model, 1e-5);
}

TEST(ChannelPrune, SqueezeExciteGateJoinsTheGroup) {
  // y = relu(conv1(x)); gate = sigmoid(conv_e(relu(conv_r(gap(y))))); conv_out(y * gate):
  // the Mul ties conv1's and conv_e's channels into one group.
  NetBuilder net({3, 4, 4});
  const std::string y = net.op("Relu", {net.conv(net.input(), 3, 8, "conv1", {1, 6})});
  std::string gate = net.conv(net.op("GlobalAveragePool", {y}), 8, 2, "conv_r");
  gate = net.op("Sigmoid", {net.conv(net.op("Relu", {gate}), 2, 8, "conv_e", {1, 6})});
  const std::string out = net.conv(net.op("Mul", {y, gate}), 8, 3, "conv_out");
  const graph::Graph model = net.finish(out, {3, 4, 4});

  const ChannelPruneResult result = prune(model, 0.25, {"conv_r"});
  EXPECT_EQ(initializer_shape(result.model, "conv1.weight"), (Shape{6, 3, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv_r.weight"), (Shape{2, 6, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv_e.weight"), (Shape{6, 2, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv_out.weight"), (Shape{3, 6, 3, 3}));
  expect_same_outputs(model, result.model, 1e-5);
}

TEST(ChannelPrune, ScalarFromAConstantNodeTiesNoChannels) {
  NetBuilder net({3, 4, 4});
  const std::string three = net.op("Constant", {}, {{"value", make_tensor<float>({}, {3.0f})}});
  std::string y = net.op("Add", {net.conv(net.input(), 3, 8, "conv1"), three});
  y = net.conv(net.op("Relu", {y}), 8, 2, "conv2");
  const graph::Graph model = net.finish(y, {2, 4, 4});
  EXPECT_EQ(initializer_shape(prune(model, 0.5).model, "conv2.weight"), (Shape{2, 4, 3, 3}));
}

TEST(ChannelPrune, ResidualWithGraphInputIsKept) {
  // x + conv(x): the channels meet the graph input's, which cannot change.
  NetBuilder net({4, 5, 5});
  const std::string y = net.conv(net.input(), 4, 4, "conv");
  const std::string sum = net.op("Add", {net.input(), y});
  const graph::Graph model = net.finish(sum, {4, 5, 5});
  try {
    prune(model, 0.5);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("no prunable Conv/Gemm layer"));
  }
}

TEST(ChannelPrune, ConcatMapsChannelOffsets) {
  NetBuilder net({3, 4, 4});
  const std::string a = net.conv(net.input(), 3, 4, "conv_a", {0, 3});
  const std::string b = net.conv(net.input(), 3, 6, "conv_b", {1, 2, 5});
  const std::string cat = net.op("Concat", {a, b}, {{"axis", std::int64_t{1}}});
  const std::string y = net.conv(net.op("Relu", {cat}), 10, 3, "conv_c");
  const graph::Graph model = net.finish(y, {3, 4, 4});

  const ChannelPruneResult result = prune(model, 0.5);
  EXPECT_EQ(initializer_shape(result.model, "conv_a.weight"), (Shape{2, 3, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv_b.weight"), (Shape{3, 3, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv_c.weight"), (Shape{3, 5, 3, 3}));
  expect_same_outputs(model, result.model, 1e-5);
}

TEST(ChannelPrune, DepthwiseChainWithBatchNorm) {
  NetBuilder net({3, 6, 6});
  std::string y = net.conv(net.input(), 3, 8, "expand");
  y = net.op("Relu", {net.batch_norm(y, 8, "bn1")});
  y = net.conv(y, 8, 8, "dw", {}, 8);
  y = net.op("Relu", {net.batch_norm(y, 8, "bn2")});
  y = net.conv(y, 8, 4, "project");
  const graph::Graph model = net.finish(y, {4, 6, 6});

  const ChannelPruneResult result = prune(model, 0.5);
  EXPECT_EQ(initializer_shape(result.model, "expand.weight"), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "dw.weight"), (Shape{4, 1, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "dw.bias"), (Shape{4}));
  EXPECT_EQ(node_named(result.model, "dw").attr_int("group"), 4);
  EXPECT_EQ(initializer_shape(result.model, "bn2.var"), (Shape{4}));
  EXPECT_EQ(initializer_shape(result.model, "project.weight"), (Shape{4, 4, 3, 3}));
  EXPECT_EQ(run_model(result.model).begin()->second.shape(), (Shape{2, 4, 6, 6}));
}

TEST(ChannelPrune, ReshapeThenGemmWithoutTransposeFollowsChannels) {
  NetBuilder net({1, 4, 4});
  std::string y = net.conv(net.input(), 1, 4, "conv", {0, 2});
  y = net.op("Relu", {y});
  const std::string shape = net.constant("shape", make_tensor<std::int64_t>({2}, {0, 64}));
  y = net.op("Reshape", {y, shape});
  y = net.gemm(y, 64, 3, "fc", /*trans_b=*/false);
  const graph::Graph model = net.finish(y, {3});

  const ChannelPruneResult result = prune(model, 0.5);
  EXPECT_EQ(initializer_shape(result.model, "fc.weight"), (Shape{32, 3}));
  EXPECT_EQ(result.model.initializers.at("shape").to_int64s(), (std::vector<std::int64_t>{0, 32}));
  expect_same_outputs(model, result.model, 1e-5);
}

TEST(ChannelPrune, GemmChainPrunesHiddenFeatures) {
  NetBuilder net({16});
  std::string y = net.gemm(net.input(), 16, 10, "fc1");
  y = net.op("Relu", {y});
  y = net.gemm(y, 10, 4, "fc2");
  const graph::Graph model = net.finish(y, {4});
  const ChannelPruneResult result = prune(model, 0.3);
  EXPECT_EQ(initializer_shape(result.model, "fc1.weight"), (Shape{7, 16}));
  EXPECT_EQ(initializer_shape(result.model, "fc1.bias"), (Shape{7}));
  EXPECT_EQ(initializer_shape(result.model, "fc2.weight"), (Shape{4, 7}));
}

TEST(ChannelPrune, SharedInitializerIsCopiedNotChanged) {
  // Two branches read one per-channel constant; only the pruned branch gets a slice.
  NetBuilder net({3, 4, 4});
  const std::string scale =
      net.constant("scale", random_tensor(DType::f32, {4, 1, 1}, 5, 0.5, 1.5));
  const std::string a = net.op("Mul", {net.conv(net.input(), 3, 4, "conv_a"), scale});
  const std::string b = net.op("Mul", {net.conv(net.input(), 3, 4, "conv_b"), scale});
  const std::string y =
      net.op("Concat", {net.conv(a, 4, 2, "head"), b}, {{"axis", std::int64_t{1}}});
  const graph::Graph model = net.finish(y, {6, 4, 4});
  const ChannelPruneResult result = prune(model, 0.5);
  EXPECT_EQ(initializer_shape(result.model, "conv_a.weight"), (Shape{2, 3, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv_b.weight"), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "scale"), (Shape{4, 1, 1}));
  EXPECT_EQ(run_model(result.model).begin()->second.shape(), (Shape{2, 6, 4, 4}));
}

TEST(ChannelPrune, ExcludedLayerKeepsItsChannels) {
  NetBuilder net({3, 4, 4});
  std::string y = net.conv(net.input(), 3, 8, "conv1");
  y = net.conv(net.op("Relu", {y}), 8, 8, "conv2");
  y = net.conv(net.op("Relu", {y}), 8, 2, "conv3");
  const graph::Graph model = net.finish(y, {2, 4, 4});
  const ChannelPruneResult result = prune(model, 0.5, {"conv1"});
  EXPECT_EQ(initializer_shape(result.model, "conv1.weight"), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(initializer_shape(result.model, "conv2.weight"), (Shape{4, 8, 3, 3}));
  EXPECT_THAT(result.log, ::testing::Contains(HasSubstr("excluded")));
}

void expect_error(const graph::Graph& model, double ratio, std::set<std::string> exclude,
                  const std::string& message) {
  try {
    prune(model, ratio, std::move(exclude));
    ADD_FAILURE() << "expected an error containing: " << message;
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(message));
    EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos);
  }
}

TEST(ChannelPrune, BadInputGivesOneLineErrors) {
  NetBuilder net({3, 4, 4});
  std::string y = net.conv(net.input(), 3, 2, "conv1");
  y = net.conv(net.op("Relu", {y}), 2, 2, "conv2");
  const graph::Graph model = net.finish(y, {2, 4, 4});
  expect_error(model, 1.0, {}, "outside [0, 1)");
  expect_error(model, -0.1, {}, "outside [0, 1)");
  expect_error(model, std::nan(""), {}, "outside [0, 1)");
  expect_error(model, 0.8, {}, "would remove all 2 output channels of 'conv1' (Conv)");
  expect_error(model, 0.3, {"nope"}, "excluded node 'nope'");
  expect_error(model, 0.3, {"conv1"}, "no prunable Conv/Gemm layer");

  NetBuilder linear({8});
  const graph::Graph classifier = linear.finish(linear.gemm(linear.input(), 8, 3, "fc"), {3});
  expect_error(classifier, 0.3, {}, "no prunable Conv/Gemm layer");
}

std::int64_t macs_of(const graph::Graph& model) {
  return runtime::model_stats(runtime::Session(model, reference_options())).macs;
}

TEST(ChannelPruneZoo, MobileNetV2LosesAQuarterOfItsMacs) {
  const graph::Graph model = zoo::build_zoo_model("mobilenet_v2");
  const ChannelPruneResult result = prune(model, 0.3);
  const std::int64_t before = macs_of(model);
  const std::int64_t after = macs_of(result.model);
  EXPECT_LE(static_cast<double>(after), 0.75 * static_cast<double>(before));
  ASSERT_EQ(result.model.outputs.size(), model.outputs.size());
  EXPECT_EQ(result.model.outputs[0].to_string(), model.outputs[0].to_string());
  EXPECT_NO_THROW(onnx_io::serialize_model(result.model));  // runs onnx::checker
}

TEST(ChannelPruneZoo, ChannelMultipleRoundsKeptCounts) {
  const graph::Graph model = zoo::build_zoo_model("mobilenet_v2");
  ChannelPruneOptions options;
  options.ratio = 0.3;
  options.channel_multiple = 8;
  const ChannelPruneResult result = prune_channels(model, options);
  int pruned_convs = 0;
  for (const graph::Node& node : result.model.nodes) {
    if (node.op_type != "Conv") continue;
    const std::int64_t before =
        model.initializers.at(node_named(model, node.name).inputs[1]).dim(0);
    const std::int64_t after = result.model.initializers.at(node.inputs[1]).dim(0);
    EXPECT_EQ(after % 8, 0) << node.name << ": " << before << " -> " << after;
    pruned_convs += after < before ? 1 : 0;
  }
  EXPECT_GT(pruned_convs, 40);
  EXPECT_LE(static_cast<double>(macs_of(result.model)), 0.75 * static_cast<double>(macs_of(model)));
  options.channel_multiple = 0;
  EXPECT_THROW(prune_channels(model, options), Error);
}

TEST(ChannelPruneZoo, SmallModelsRunAfterPruning) {
  for (const char* name : {"resnet18", "ds_cnn", "digits_cnn"}) {
    SCOPED_TRACE(name);
    const graph::Graph model = zoo::build_zoo_model(name);
    const ChannelPruneResult result = prune(model, 0.3);
    EXPECT_LT(macs_of(result.model), macs_of(model));
    EXPECT_NO_THROW(onnx_io::serialize_model(result.model));
    if (std::string(name) != "resnet18") {
      EXPECT_EQ(run_model(result.model).begin()->second.shape(),
                run_model(model).begin()->second.shape());
    }
  }
}

TEST(ChannelPruneZoo, DigitsFixtureFromTorch) {
  const graph::Graph model =
      onnx_io::load_model(std::string(EP_SOURCE_DIR) + "/models/fixtures/digits_cnn.onnx");
  const ChannelPruneResult result = prune(model, 0.3);
  EXPECT_LT(macs_of(result.model), macs_of(model));
  EXPECT_EQ(run_model(result.model).begin()->second.shape(), (Shape{2, 10}));
}

}  // namespace
}  // namespace edgeperf::prune
