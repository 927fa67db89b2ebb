// The quantize pipeline: each mode's graph layout, that the result runs in our runtime
// close to the float model, the input checks, and mixed precision on an outlier layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "edgeperf/core/random.h"
#include "edgeperf/eval/metrics.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/quant/quality.h"
#include "edgeperf/quant/quantize.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::quant {
namespace {

using graph::Dim;
using eval::sqnr_db;
using Samples = std::vector<std::map<std::string, Tensor>>;

class ListSource final : public SampleSource {
 public:
  explicit ListSource(Samples samples) : samples_(std::move(samples)) {}
  std::optional<std::map<std::string, Tensor>> next() override {
    if (next_ >= samples_.size()) return std::nullopt;
    return samples_[next_++];
  }

 private:
  Samples samples_;
  std::size_t next_ = 0;
};

Samples random_samples(const Shape& shape, int count, std::uint64_t seed) {
  Samples samples;
  for (int i = 0; i < count; ++i) {
    samples.push_back(
        {{"x", random_tensor(DType::f32, shape, seed + static_cast<std::uint64_t>(i))}});
  }
  return samples;
}

// x[B, 16] -> Gemm 32 (transB) -> Relu -> Gemm 8 (transB) -> y. With `outlier`, fc2
// reads hidden unit 0 (always 0: zero weights, bias -1, Relu) through that huge weight:
// the float model ignores it, but a per-tensor int8 scale for fc2 rounds every other fc2
// weight to 0, while fc1 and the activations quantize as usual.
graph::Graph small_mlp(float outlier = 0.0F) {
  graph::GraphBuilder builder("mlp");
  const std::string x = builder.input("x", DType::f32, {Dim::named("batch"), Dim::fixed(16)});
  Tensor w1_value = random_tensor(DType::f32, {32, 16}, 1, -0.5, 0.5);
  Tensor b1_value = random_tensor(DType::f32, {32}, 2, -0.1, 0.1);
  Tensor w2_value = random_tensor(DType::f32, {8, 32}, 3, -0.5, 0.5);
  if (outlier != 0.0F) {
    std::fill_n(w1_value.data<float>(), 16, 0.0F);
    b1_value.data<float>()[0] = -1.0F;
    for (std::int64_t row = 0; row < 8; ++row) w2_value.data<float>()[row * 32] = outlier;
  }
  const std::string w1 = builder.initializer("w1", w1_value);
  const std::string b1 = builder.initializer("b1", b1_value);
  const std::string w2 = builder.initializer("w2", w2_value);
  const std::string b2 = builder.initializer("b2", random_tensor(DType::f32, {8}, 4, -0.1, 0.1));
  const std::string h = builder.node("Gemm", {x, w1, b1}, {{"transB", std::int64_t{1}}}, "fc1");
  const std::string r = builder.node("Relu", {h}, {}, "relu1");
  const std::string y = builder.node("Gemm", {r, w2, b2}, {{"transB", std::int64_t{1}}}, "fc2");
  builder.output(y, DType::f32, {Dim::named("batch"), Dim::fixed(8)});
  return builder.build();
}

// x[B, 2, 6, 6] -> Conv 4 3x3 -> Relu -> Flatten -> MatMul [64, 5] -> y
graph::Graph small_cnn() {
  graph::GraphBuilder builder("cnn");
  const std::string x = builder.input(
      "x", DType::f32, {Dim::named("batch"), Dim::fixed(2), Dim::fixed(6), Dim::fixed(6)});
  const std::string w =
      builder.initializer("w", random_tensor(DType::f32, {4, 2, 3, 3}, 5, -0.5, 0.5));
  const std::string b = builder.initializer("b", random_tensor(DType::f32, {4}, 6, -0.1, 0.1));
  const std::string m = builder.initializer("m", random_tensor(DType::f32, {64, 5}, 7, -0.5, 0.5));
  const std::string c =
      builder.node("Conv", {x, w, b}, {{"kernel_shape", std::vector<std::int64_t>{3, 3}}}, "conv");
  const std::string r = builder.node("Relu", {c}, {}, "relu");
  const std::string f = builder.node("Flatten", {r}, {{"axis", std::int64_t{1}}}, "flatten");
  const std::string y = builder.node("MatMul", {f, m}, {}, "matmul");
  builder.output(y, DType::f32, {Dim::named("batch"), Dim::fixed(5)});
  return builder.build();
}

std::size_t count_ops(const graph::Graph& model, const std::string& op) {
  return static_cast<std::size_t>(
      std::count_if(model.nodes.begin(), model.nodes.end(),
                    [&](const graph::Node& n) { return n.op_type == op; }));
}

Tensor run(const graph::Graph& model, const Tensor& x) {
  runtime::SessionOptions options;
  options.backend = runtime::BackendKind::reference;
  options.threads = 1;
  runtime::Session session(model, options);
  return session.run({{"x", x}}).begin()->second;
}

// The quantized model survives an ONNX round trip (checker included) and runs within
// `min_sqnr` dB of the float model.
void expect_close_to_float(const graph::Graph& float_model, const graph::Graph& quantized,
                           const Shape& input_shape, double min_sqnr) {
  const graph::Graph reloaded =
      onnx_io::load_model_from_bytes(onnx_io::serialize_model(quantized), "quantized");
  const Tensor x = random_tensor(DType::f32, input_shape, 99);
  const Tensor expected = run(float_model, x);
  const Tensor actual = run(reloaded, x);
  ASSERT_EQ(expected.shape(), actual.shape());
  for (float v : actual.values<float>()) ASSERT_TRUE(std::isfinite(v));
  EXPECT_GT(sqnr_db(expected, actual), min_sqnr);
}

QuantizeOptions static_options(bool per_channel) {
  QuantizeOptions options;
  options.mode = QuantMode::static_int8;
  options.per_channel = per_channel;
  return options;
}

TEST(QuantPipeline, StaticQdqLayoutMatchesOrtAndRunsClose) {
  const graph::Graph model = small_mlp();
  ListSource source(random_samples({1, 16}, 32, 10));
  const QuantizeResult result = quantize_model(model, static_options(true), &source);
  const graph::Graph& q = result.model;
  EXPECT_EQ(count_ops(q, "Relu"), 0U);  // folded into fc1's uint8 output range
  EXPECT_EQ(count_ops(q, "Gemm"), 2U);
  // x and fc1 out (relu range): two Q/DQ pairs (the graph output stays float); two
  // weights and two biases behind DequantizeLinear.
  EXPECT_EQ(count_ops(q, "QuantizeLinear"), 2U);
  EXPECT_EQ(count_ops(q, "DequantizeLinear"), 6U);
  std::size_t int8_weights = 0, int32_biases = 0;
  for (const auto& [name, tensor] : q.initializers) {
    int8_weights += tensor.dtype() == DType::i8 && tensor.numel() > 8;
    int32_biases += tensor.dtype() == DType::i32;
  }
  EXPECT_EQ(q.initializers.count("w1") + q.initializers.count("w2"), 0U);  // float weights gone
  EXPECT_EQ(int8_weights, 2U);
  EXPECT_EQ(int32_biases, 2U);  // zero points of int32 biases are left out (0)
  for (const graph::Node& node : q.nodes) {
    if (node.op_type == "DequantizeLinear" && node.has_attr("axis")) {
      EXPECT_EQ(node.attr_int("axis"), 0);  // Gemm transB=1: output channels are rows
    }
  }
  EXPECT_EQ(q.outputs.at(0).name, model.outputs.at(0).name);
  ASSERT_EQ(result.layers.size(), 2U);
  EXPECT_EQ(result.layers[0].precision, "int8");
  EXPECT_GT(result.layers[0].sqnr_db, 25.0);
  expect_close_to_float(model, q, {4, 16}, 20.0);
}

TEST(QuantPipeline, StaticPerTensorCnnWithFlattenPassthrough) {
  const graph::Graph model = small_cnn();
  ListSource source(random_samples({1, 2, 6, 6}, 16, 20));
  const QuantizeResult result = quantize_model(model, static_options(false), &source);
  EXPECT_EQ(count_ops(result.model, "Flatten"), 1U);
  EXPECT_EQ(count_ops(result.model, "Relu"), 0U);
  // Flatten runs between DQ and Q with its input's parameters.
  expect_close_to_float(model, result.model, {3, 2, 6, 6}, 18.0);
}

// Conv -> Clip(0, 6) -> Conv: the ReLU6 folds into the first Conv's output range (as
// ORT's quantizer does), so each Conv sits between DequantizeLinear and QuantizeLinear.
TEST(QuantPipeline, StaticFoldsRelu6Clip) {
  graph::GraphBuilder builder("relu6");
  const std::string x =
      builder.input("x", DType::f32, {Dim::fixed(1), Dim::fixed(2), Dim::fixed(6), Dim::fixed(6)});
  const std::string w1 =
      builder.initializer("w1", random_tensor(DType::f32, {4, 2, 3, 3}, 5, -0.5, 0.5));
  const std::string w2 =
      builder.initializer("w2", random_tensor(DType::f32, {3, 4, 1, 1}, 6, -0.5, 0.5));
  const std::string low = builder.initializer("low", make_tensor<float>({}, {0.0F}));
  const std::string high = builder.initializer("high", make_tensor<float>({}, {6.0F}));
  const std::string c1 =
      builder.node("Conv", {x, w1}, {{"kernel_shape", std::vector<std::int64_t>{3, 3}}}, "conv1");
  const std::string clipped = builder.node("Clip", {c1, low, high}, {}, "relu6");
  const std::string y = builder.node("Conv", {clipped, w2},
                                     {{"kernel_shape", std::vector<std::int64_t>{1, 1}}}, "conv2");
  builder.output(y, DType::f32, {Dim::fixed(1), Dim::fixed(3), Dim::fixed(4), Dim::fixed(4)});
  const graph::Graph model = builder.build();
  ListSource source(random_samples({1, 2, 6, 6}, 16, 30));
  const QuantizeResult result = quantize_model(model, static_options(true), &source);
  EXPECT_EQ(count_ops(result.model, "Clip"), 0U);
  EXPECT_EQ(count_ops(result.model, "QuantizeLinear"), 2U);  // x and the Clip's output
  expect_close_to_float(model, result.model, {1, 2, 6, 6}, 18.0);
}

TEST(QuantPipeline, QOperatorUsesQLinearOps) {
  const graph::Graph model = small_cnn();
  ListSource source(random_samples({1, 2, 6, 6}, 16, 20));
  QuantizeOptions options = static_options(true);
  options.format = QuantFormat::qoperator;
  const QuantizeResult result = quantize_model(model, options, &source);
  EXPECT_EQ(count_ops(result.model, "QLinearConv"), 1U);
  EXPECT_EQ(count_ops(result.model, "QLinearMatMul"), 1U);
  EXPECT_EQ(count_ops(result.model, "Conv"), 0U);
  expect_close_to_float(model, result.model, {3, 2, 6, 6}, 18.0);
}

TEST(QuantPipeline, DynamicUsesIntegerOps) {
  const graph::Graph model = small_cnn();
  QuantizeOptions options;
  options.mode = QuantMode::dynamic;
  options.per_channel = true;
  const QuantizeResult result = quantize_model(model, options, nullptr);
  EXPECT_EQ(count_ops(result.model, "ConvInteger"), 1U);
  EXPECT_EQ(count_ops(result.model, "MatMulInteger"), 1U);
  EXPECT_EQ(count_ops(result.model, "DynamicQuantizeLinear"), 2U);
  expect_close_to_float(model, result.model, {3, 2, 6, 6}, 18.0);
}

TEST(QuantPipeline, Fp16StoresHalfWeightsBehindCasts) {
  const graph::Graph model = small_mlp();
  QuantizeOptions options;
  options.mode = QuantMode::fp16;
  const QuantizeResult result = quantize_model(model, options, nullptr);
  EXPECT_EQ(count_ops(result.model, "Cast"), 3U);  // b2 (8 values) is too small to bother
  for (const auto& [name, tensor] : result.model.initializers) {
    EXPECT_EQ(tensor.dtype(), name == "b2" ? DType::f32 : DType::f16) << name;
  }
  EXPECT_EQ(result.model.outputs.at(0).dtype, DType::f32);
  expect_close_to_float(model, result.model, {4, 16}, 50.0);
}

TEST(QuantPipeline, Int4UsesMatMulNBitsAndDequantizeInt4) {
  for (const graph::Graph& model : {small_mlp(), small_cnn()}) {
    QuantizeOptions options;
    options.mode = QuantMode::int4_weight;
    options.int4_group_size = 16;
    const QuantizeResult result = quantize_model(model, options, nullptr);
    std::size_t nbits = 0, dequantize = 0;
    for (const graph::Node& node : result.model.nodes) {
      nbits += node.op_type == "MatMulNBits" && node.domain == "com.microsoft";
      dequantize += node.op_type == "DequantizeInt4" && node.domain == "edgeperf";
    }
    EXPECT_EQ(nbits + dequantize, 2U) << model.name;
    const Shape shape = model.name == "mlp" ? Shape{4, 16} : Shape{3, 2, 6, 6};
    expect_close_to_float(model, result.model, shape, 12.0);
  }
}

TEST(QuantPipeline, ExcludedLayerStaysFloat) {
  const graph::Graph model = small_mlp();
  ListSource source(random_samples({1, 16}, 8, 10));
  QuantizeOptions options = static_options(false);
  options.exclude = {"fc2"};
  const QuantizeResult result = quantize_model(model, options, &source);
  ASSERT_EQ(result.layers.size(), 2U);
  EXPECT_EQ(result.layers[1].precision, "fp32");
  EXPECT_EQ(result.model.initializers.at("w2").dtype(), DType::f32);
}

TEST(QuantPipeline, RejectsBadRequests) {
  const graph::Graph model = small_mlp();
  QuantizeOptions options = static_options(false);
  options.exclude = {"fc9", "nope"};
  ListSource source(random_samples({1, 16}, 4, 10));
  try {
    quantize_model(model, options, &source);
    FAIL() << "unknown --exclude names accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'fc9', 'nope'"), std::string::npos) << error.what();
  }
  EXPECT_THROW(quantize_model(model, static_options(false), nullptr), Error);  // no calibration
  ListSource empty({});
  EXPECT_THROW(quantize_model(model, static_options(false), &empty), Error);

  ListSource calib(random_samples({1, 16}, 4, 10));
  const QuantizeResult once = quantize_model(model, static_options(false), &calib);
  ListSource again(random_samples({1, 16}, 4, 10));
  try {
    quantize_model(once.model, static_options(false), &again);
    FAIL() << "an already quantized model was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("already quantized"), std::string::npos);
  }
}

TEST(QuantPipeline, AllZeroWeightChannelGivesNoNaN) {
  graph::Graph model = small_mlp();
  Tensor w1 = model.initializers.at("w1").clone();
  std::fill_n(w1.data<float>(), 16, 0.0F);  // output channel 0
  model.initializers["w1"] = w1;
  for (QuantMode mode : {QuantMode::static_int8, QuantMode::dynamic, QuantMode::int4_weight}) {
    QuantizeOptions options = static_options(true);
    options.mode = mode;
    options.int4_group_size = 16;
    ListSource source(random_samples({1, 16}, 8, 10));
    const QuantizeResult result = quantize_model(model, options, &source);
    expect_close_to_float(model, result.model, {4, 16}, 10.0);
  }
}

// fc2 has one huge weight: with per-tensor scales every other fc2 weight rounds to 0,
// so quantizing fc2 breaks the model while fc1 quantizes well.
TEST(QuantPipeline, MixedPrecisionKeepsExactlyTheOutlierLayerFloat) {
  const graph::Graph model = small_mlp(/*outlier=*/400.0F);
  const Samples calibration = random_samples({1, 16}, 32, 10);
  const Tensor x = random_tensor(DType::f32, {256, 16}, 77);
  const Tensor reference = run(model, x);
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < 256; ++i) {
    const float* row = reference.data<float>() + i * 8;
    labels.push_back(std::max_element(row, row + 8) - row);
  }
  const auto accuracy = [&](const graph::Graph& candidate) {
    const Tensor logits = run(candidate, x);
    int correct = 0;
    for (std::int64_t i = 0; i < 256; ++i) {
      const float* row = logits.data<float>() + i * 8;
      correct += (std::max_element(row, row + 8) - row) == labels[static_cast<std::size_t>(i)];
    }
    return 100.0 * correct / 256.0;
  };
  const auto build = [&](const std::set<std::string>& float_layers) {
    QuantizeOptions options = static_options(false);
    options.equalize = false;
    options.exclude = float_layers;
    ListSource source(calibration);
    return quantize_model(model, options, &source).model;
  };
  const std::vector<MixedPrecisionDecision> decisions =
      choose_mixed_precision({"fc1", "fc2"}, build, accuracy, 1.0);
  std::set<std::string> kept;
  std::string explained;
  for (const MixedPrecisionDecision& decision : decisions) {
    if (decision.kept_float) kept.insert(decision.node);
    explained +=
        decision.node + ": " + std::to_string(decision.sensitivity) + " " + decision.reason + "; ";
  }
  EXPECT_EQ(kept, std::set<std::string>{"fc2"}) << explained;
  EXPECT_LE(100.0 - accuracy(build(kept)), 1.0);
}

}  // namespace
}  // namespace edgeperf::quant
