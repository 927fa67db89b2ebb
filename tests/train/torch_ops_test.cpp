// Every op of the training engine against edgeperf's reference backend (the oracle): one
// small graph per case, the same random input, outputs within float rounding.
#include "torch_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "edgeperf/eval/evaluator.h"
#include "edgeperf/graph/builder.h"
#include "trainable_graph.h"

namespace edgeperf::train::detail {
namespace {

using graph::AttrValue;
using Attrs = std::map<std::string, AttrValue>;
using Ints = std::vector<std::int64_t>;

Tensor random_tensor(Shape shape, std::uint64_t seed, float low = -2.0F, float high = 2.0F) {
  Tensor tensor(DType::f32, std::move(shape));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> values(low, high);
  for (float& value : tensor.values<float>()) value = values(rng);
  return tensor;
}

Tensor int_tensor(const Ints& values) {
  return make_tensor<std::int64_t>({static_cast<std::int64_t>(values.size())}, values);
}

// An initializer input: random floats of a shape, or int64 values.
struct Extra {
  bool integer = false;
  std::vector<std::int64_t> values;  // the shape of the floats, or the integers
};
Extra floats(Shape shape) { return {false, std::move(shape)}; }
Extra ints(Ints values) { return {true, std::move(values)}; }

struct Case {
  std::string name;
  std::string op;
  Shape input;
  Attrs attrs;
  std::vector<Extra> extra;  // inputs after x, all initializers
  bool positive_input = false;
};

graph::Graph single_op_graph(const Case& c) {
  graph::GraphBuilder builder(c.name, 13);
  std::vector<graph::Dim> dims;
  for (std::int64_t d : c.input) dims.push_back(graph::Dim::fixed(d));
  std::vector<std::string> inputs = {builder.input("x", DType::f32, dims)};
  std::uint64_t seed = 100;
  for (const Extra& extra : c.extra) {
    inputs.push_back(
        extra.integer ? builder.initializer("i", int_tensor(extra.values))
                      : builder.initializer("w", random_tensor(extra.values, seed++, -1.0F, 1.0F)));
  }
  const std::string y = builder.node(c.op, inputs, c.attrs, "op");
  builder.output(y, DType::f32, {});
  return builder.build();
}

// The engine's output for `x` against the reference backend's, within float rounding.
void expect_engine_matches(const graph::Graph& model, const Tensor& x) {
  runtime::SessionOptions options;
  options.backend = runtime::BackendKind::reference;
  const Tensor expected = eval::first_output(model, {{"x", x}}, options);
  const TrainableGraph engine(model, GraphConfig{.trainable = false});
  const Tensor actual = from_torch(engine.forward(to_torch(x)), DType::f32);
  ASSERT_EQ(actual.shape(), expected.shape());
  const auto a = actual.values<float>();
  const auto e = expected.values<float>();
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_NEAR(a[i], e[i], 1e-4 * (1.0 + std::abs(e[i]))) << "element " << i;
  }
}

void expect_same(const Case& c) {
  SCOPED_TRACE(c.name);
  const Tensor x =
      c.positive_input ? random_tensor(c.input, 7, 0.1F, 3.0F) : random_tensor(c.input, 7);
  expect_engine_matches(single_op_graph(c), x);
}

std::vector<Case> cases() {
  const Shape image = {2, 4, 9, 8};
  return {
      {"conv_pads_stride",
       "Conv",
       image,
       {{"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}},
       {floats({6, 4, 3, 3}), floats({6})}},
      {"conv_asymmetric_pads", "Conv", image, {{"pads", Ints{0, 1, 2, 0}}}, {floats({5, 4, 3, 2})}},
      {"conv_same_upper",
       "Conv",
       image,
       {{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2, 2}}},
       {floats({3, 4, 3, 3})}},
      {"conv_same_lower",
       "Conv",
       image,
       {{"auto_pad", std::string("SAME_LOWER")}},
       {floats({3, 4, 2, 2})}},
      {"conv_depthwise_dilated",
       "Conv",
       image,
       {{"group", std::int64_t{4}}, {"dilations", Ints{2, 2}}, {"pads", Ints{2, 2, 2, 2}}},
       {floats({4, 1, 3, 3}), floats({4})}},
      {"conv_1d", "Conv", Shape{2, 3, 11}, {{"pads", Ints{1, 1}}}, {floats({4, 3, 3})}},
      {"maxpool",
       "MaxPool",
       image,
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}},
       {}},
      {"maxpool_ceil",
       "MaxPool",
       image,
       {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"ceil_mode", std::int64_t{1}}},
       {}},
      {"averagepool_exclude_pad",
       "AveragePool",
       image,
       {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}},
       {}},
      {"averagepool_axes_padded_differently",
       "AveragePool",
       image,
       {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 0, 1, 0}}},
       {}},
      {"averagepool_include_pad",
       "AveragePool",
       image,
       {{"kernel_shape", Ints{3, 3}},
        {"pads", Ints{1, 1, 1, 1}},
        {"count_include_pad", std::int64_t{1}}},
       {}},
      {"global_average", "GlobalAveragePool", image, {}, {}},
      {"global_max", "GlobalMaxPool", image, {}, {}},
      {"gemm_transb",
       "Gemm",
       Shape{3, 5},
       {{"transB", std::int64_t{1}}, {"alpha", 0.5F}, {"beta", 2.0F}},
       {floats({4, 5}), floats({4})}},
      {"gemm_transa", "Gemm", Shape{5, 3}, {{"transA", std::int64_t{1}}}, {floats({5, 4})}},
      {"matmul_batched", "MatMul", Shape{2, 3, 5}, {}, {floats({5, 4})}},
      {"add_per_channel", "Add", image, {}, {floats({4, 1, 1})}},
      {"mul", "Mul", image, {}, {floats({8})}},
      {"sub", "Sub", image, {}, {floats({1, 4, 1, 1})}},
      {"div", "Div", image, {}, {floats({4, 1, 1})}},
      {"pow", "Pow", image, {}, {floats({1})}, true},
      {"relu", "Relu", image, {}, {}},
      {"sigmoid", "Sigmoid", image, {}, {}},
      {"tanh", "Tanh", image, {}, {}},
      {"leaky_relu", "LeakyRelu", image, {{"alpha", 0.2F}}, {}},
      {"elu", "Elu", image, {{"alpha", 0.7F}}, {}},
      {"hard_sigmoid", "HardSigmoid", image, {{"alpha", 0.25F}, {"beta", 0.4F}}, {}},
      {"hard_swish", "HardSwish", image, {}, {}},
      {"exp", "Exp", image, {}, {}},
      {"log", "Log", image, {}, {}, true},
      {"sqrt", "Sqrt", image, {}, {}, true},
      {"abs", "Abs", image, {}, {}},
      {"neg", "Neg", image, {}, {}},
      {"erf", "Erf", image, {}, {}},
      {"softmax", "Softmax", Shape{3, 7}, {{"axis", std::int64_t{1}}}, {}},
      {"softmax_default_axis", "Softmax", Shape{3, 7}, {}, {}},
      {"log_softmax", "LogSoftmax", Shape{3, 7}, {}, {}},
      {"flatten_axis2", "Flatten", image, {{"axis", std::int64_t{2}}}, {}},
      {"reshape_zero_minus_one", "Reshape", image, {}, {ints({0, -1, 8})}},
      {"transpose", "Transpose", image, {{"perm", Ints{0, 2, 3, 1}}}, {}},
      {"concat_constant", "Concat", image, {{"axis", std::int64_t{1}}}, {floats({2, 3, 9, 8})}},
      {"squeeze_axes", "Squeeze", Shape{2, 1, 5, 1}, {}, {ints({1, 3})}},
      {"unsqueeze_axes", "Unsqueeze", Shape{2, 5}, {}, {ints({0, -1})}},
      {"pad_constant", "Pad", image, {}, {ints({0, 0, 1, 2, 0, 0, 3, 0})}},
      {"reduce_mean",
       "ReduceMean",
       image,
       {{"axes", Ints{2, 3}}, {"keepdims", std::int64_t{0}}},
       {}},
      {"slice_steps", "Slice", image, {}, {ints({1, 0}), ints({9, 8}), ints({2, 3}), ints({2, 2})}},
      {"identity", "Identity", image, {}, {}},
  };
}

TEST(TorchOps, EveryOpMatchesTheReferenceBackend) {
  for (const Case& c : cases()) expect_same(c);
}

TEST(TorchOps, BatchNormalizationWithFrozenStatistics) {
  graph::GraphBuilder builder("bn", 13);
  const std::string x = builder.input(
      "x", DType::f32,
      {graph::Dim::fixed(2), graph::Dim::fixed(4), graph::Dim::fixed(9), graph::Dim::fixed(8)});
  const std::string scale = builder.initializer("scale", random_tensor({4}, 1));
  const std::string bias = builder.initializer("bias", random_tensor({4}, 2));
  const std::string mean = builder.initializer("mean", random_tensor({4}, 3));
  const std::string var = builder.initializer("var", random_tensor({4}, 4, 0.5F, 2.0F));
  builder.output(
      builder.node("BatchNormalization", {x, scale, bias, mean, var}, {{"epsilon", 1e-3F}}, "bn"),
      DType::f32, {});
  expect_engine_matches(builder.build(), random_tensor({2, 4, 9, 8}, 7));
}

// Every part of a Split reaches its readers: the parts concatenated in another order.
TEST(TorchOps, SplitGivesEveryPart) {
  for (const bool sizes_given : {true, false}) {
    graph::GraphBuilder builder("split", 13);
    const std::string x = builder.input(
        "x", DType::f32,
        {graph::Dim::fixed(2), graph::Dim::fixed(6), graph::Dim::fixed(3), graph::Dim::fixed(2)});
    std::vector<std::string> inputs = {x};
    if (sizes_given) inputs.push_back(builder.initializer("sizes", int_tensor({1, 3, 2})));
    const std::vector<std::string> parts =
        builder.node_multi("Split", inputs, 3, {{"axis", std::int64_t{1}}}, "split");
    builder.output(
        builder.node("Concat", {parts[2], parts[0], parts[1]}, {{"axis", std::int64_t{1}}}),
        DType::f32, {});
    expect_engine_matches(builder.build(), random_tensor({2, 6, 3, 2}, 9));
  }
}

TEST(TorchOps, UnsupportedOpsAndAttributesNameTheNode) {
  const auto message = [](const Case& c) {
    try {
      const graph::Graph model = single_op_graph(c);
      const TrainableGraph engine(model, GraphConfig{.trainable = false});
      engine.forward(to_torch(random_tensor(c.input, 1)));
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("(no error)");
  };
  EXPECT_NE(message({"softsign", "Softsign", Shape{2, 3}, {}, {}})
                .find("'op' (Softsign): op Softsign is not supported"),
            std::string::npos);
  EXPECT_NE(message({"pad_reflect",
                     "Pad",
                     Shape{1, 1, 4, 4},
                     {{"mode", std::string("reflect")}},
                     {ints({0, 0, 1, 1, 0, 0, 1, 1})}})
                .find("Pad mode 'reflect' is not supported"),
            std::string::npos);
}

}  // namespace
}  // namespace edgeperf::train::detail
