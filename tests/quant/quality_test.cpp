// Quality tools: cross-layer equalization, bias correction, per-layer SQNR, mixed precision.
#include "edgeperf/quant/quality.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "edgeperf/core/random.h"
#include "edgeperf/eval/metrics.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::quant {
namespace {

using graph::Dim;
using eval::sqnr_db;
using Ints = std::vector<std::int64_t>;

runtime::SessionOptions reference_options() {
  runtime::SessionOptions options;
  options.backend = runtime::BackendKind::reference;
  options.threads = 1;
  return options;
}

Tensor run_single_output(const graph::Graph& model, const Tensor& x) {
  runtime::Session session(model, reference_options());
  return session.run({{"x", x}}).begin()->second;
}

// Scales channel c (along axis 0) of `weight` by factors[c].
Tensor scale_channels(Tensor weight, const std::vector<float>& factors) {
  const std::int64_t inner = weight.numel() / weight.dim(0);
  float* w = weight.data<float>();
  for (std::int64_t i = 0; i < weight.numel(); ++i)
    w[i] *= factors[static_cast<std::size_t>(i / inner)];
  return weight;
}

Tensor fake_quantized(const Tensor& weight, std::int64_t axis) {
  const QuantParams params = weight_params(weight, axis, QuantType::int8_sym);
  return dequantize_tensor(quantize_tensor(weight, params), params);
}

// conv1 (3 -> 4 channels, wildly different ranges) -> activation -> depthwise conv2.
graph::Graph depthwise_pair(const std::string& activation) {
  graph::GraphBuilder builder("pair");
  const std::string x =
      builder.input("x", DType::f32, {Dim::fixed(1), Dim::fixed(3), Dim::fixed(8), Dim::fixed(8)});
  const std::string w1 = builder.initializer(
      "w1", scale_channels(random_tensor(DType::f32, {4, 3, 3, 3}, 1), {0.02F, 1.0F, 8.0F, 40.0F}));
  const std::string b1 =
      builder.initializer("b1", make_tensor<float>({4}, {0.01F, 0.2F, 1.0F, 5.0F}));
  const std::string w2 = builder.initializer(
      "w2", scale_channels(random_tensor(DType::f32, {4, 1, 3, 3}, 2), {20.0F, 1.0F, 0.1F, 0.02F}));
  std::string h = builder.node("Conv", {x, w1, b1}, {{"pads", Ints{1, 1, 1, 1}}}, "conv1");
  if (activation == "Relu") h = builder.node("Relu", {h}, {}, "act");
  if (activation == "LeakyRelu") h = builder.node("LeakyRelu", {h}, {{"alpha", 0.1F}}, "act");
  if (activation == "Clip") {
    const std::string low = builder.initializer("low", make_tensor<float>({}, {0.0F}));
    const std::string high = builder.initializer("high", make_tensor<float>({}, {6.0F}));
    h = builder.node("Clip", {h, low, high}, {}, "act");
  }
  const std::string y = builder.node(
      "Conv", {h, w2}, {{"pads", Ints{1, 1, 1, 1}}, {"group", std::int64_t{4}}}, "conv2");
  builder.output(y, DType::f32, {Dim::fixed(1), Dim::fixed(4), Dim::fixed(8), Dim::fixed(8)});
  return builder.build();
}

graph::Graph with_fake_quantized_weights(graph::Graph model, std::int64_t axis) {
  for (const char* name : {"w1", "w2"}) {
    model.initializers[name] = fake_quantized(model.initializers.at(name), axis);
  }
  return model;
}

double max_abs_difference(const Tensor& a, const Tensor& b) {
  double worst = 0.0;
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    worst = std::max(worst,
                     std::fabs(static_cast<double>(a.values<float>()[i]) - b.values<float>()[i]));
  }
  return worst;
}

double weight_sqnr(const graph::Graph& model, const char* name) {
  const Tensor& w = model.initializers.at(name);
  return sqnr_db(w, fake_quantized(w, -1));
}

TEST(CrossLayerEqualization, ImprovesPerTensorQuantizationAndKeepsTheFloatOutput) {
  const graph::Graph original = depthwise_pair("Relu");
  graph::Graph equalized = original;
  const EqualizationReport report = equalize_cross_layer(equalized);
  ASSERT_EQ(report.pairs.size(), 1u);
  EXPECT_EQ(report.pairs[0].first, "conv1");
  EXPECT_EQ(report.pairs[0].second, "conv2");
  EXPECT_EQ(report.pairs[0].activation, "Relu");
  EXPECT_GT(report.pairs[0].first_spread_before, 100.0);
  EXPECT_LT(report.pairs[0].first_spread_after, report.pairs[0].first_spread_before / 10.0);

  const Tensor x = random_tensor(DType::f32, {1, 3, 8, 8}, 5);
  const Tensor before = run_single_output(original, x);
  const Tensor after = run_single_output(equalized, x);
  double magnitude = 0.0;
  for (const float value : before.values<float>())
    magnitude = std::max<double>(magnitude, std::fabs(value));
  EXPECT_LE(max_abs_difference(before, after), 1e-5 * std::max(1.0, magnitude));

  EXPECT_GT(weight_sqnr(equalized, "w1"), weight_sqnr(original, "w1"));
  EXPECT_GT(weight_sqnr(equalized, "w2"), weight_sqnr(original, "w2"));
  const double output_sqnr_before =
      sqnr_db(before, run_single_output(with_fake_quantized_weights(original, -1), x));
  const double output_sqnr_after =
      sqnr_db(before, run_single_output(with_fake_quantized_weights(equalized, -1), x));
  RecordProperty("output_sqnr_db_before", std::to_string(output_sqnr_before));
  RecordProperty("output_sqnr_db_after", std::to_string(output_sqnr_after));
  EXPECT_GT(output_sqnr_after, output_sqnr_before + 10.0)
      << output_sqnr_before << " dB -> " << output_sqnr_after << " dB";

  // The original graph shares tensor storage with the copy; it must be untouched.
  EXPECT_EQ(max_abs_difference(run_single_output(original, x), before), 0.0);
}

TEST(CrossLayerEqualization, SkipsRelu6UnlessAllowed) {
  graph::Graph model = depthwise_pair("Clip");
  const EqualizationReport report = equalize_cross_layer(model);
  EXPECT_TRUE(report.pairs.empty());
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_NE(report.skipped[0].find("Clip(0, 6)"), std::string::npos) << report.skipped[0];

  EqualizationOptions options;
  options.relu6_as_relu = true;
  EXPECT_EQ(equalize_cross_layer(model, options).pairs.size(), 1u);
}

// The same pair after activation fusion: conv1 becomes com.microsoft.FusedConv.
graph::Graph fused_pair(const std::string& activation, std::vector<float> params) {
  graph::Graph model = depthwise_pair("");
  graph::Node& conv1 = model.nodes.at(0);
  EXPECT_EQ(conv1.name, "conv1");
  conv1.op_type = "FusedConv";
  conv1.domain = "com.microsoft";
  conv1.attrs["activation"] = activation;
  if (!params.empty()) conv1.attrs["activation_params"] = params;
  return model;
}

TEST(CrossLayerEqualization, FusedAndLeakyActivationsKeepTheOutput) {
  for (const std::string kind : {"FusedRelu", "LeakyRelu"}) {
    graph::Graph model = kind == "LeakyRelu" ? depthwise_pair("LeakyRelu") : fused_pair("Relu", {});
    const Tensor x = random_tensor(DType::f32, {1, 3, 8, 8}, 13);
    const Tensor before = run_single_output(model, x);
    const EqualizationReport report = equalize_cross_layer(model);
    ASSERT_EQ(report.pairs.size(), 1u) << kind;
    EXPECT_EQ(report.pairs[0].activation, kind == "LeakyRelu" ? "LeakyRelu" : "Relu");
    double magnitude = 0.0;
    for (const float value : before.values<float>()) {
      magnitude = std::max<double>(magnitude, std::fabs(value));
    }
    EXPECT_LE(max_abs_difference(before, run_single_output(model, x)),
              1e-5 * std::max(1.0, magnitude))
        << kind;
  }
  graph::Graph relu6 = fused_pair("Clip", {0.0F, 6.0F});
  const EqualizationReport report = equalize_cross_layer(relu6);
  EXPECT_TRUE(report.pairs.empty());
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_NE(report.skipped[0].find("Clip(0, 6)"), std::string::npos) << report.skipped[0];
  graph::Graph sigmoid = fused_pair("Sigmoid", {});
  EXPECT_TRUE(equalize_cross_layer(sigmoid).pairs.empty());
}

TEST(CrossLayerEqualization, DirectConvPairIsExact) {
  graph::Graph model = depthwise_pair("");
  const Tensor x = random_tensor(DType::f32, {1, 3, 8, 8}, 9);
  const Tensor before = run_single_output(model, x);
  EXPECT_EQ(equalize_cross_layer(model).pairs.size(), 1u);
  double magnitude = 0.0;
  for (const float value : before.values<float>())
    magnitude = std::max<double>(magnitude, std::fabs(value));
  EXPECT_LE(max_abs_difference(before, run_single_output(model, x)),
            1e-5 * std::max(1.0, magnitude));
}

graph::Graph single_conv(const Tensor& weight, const Tensor& bias) {
  graph::GraphBuilder builder("conv");
  const std::string x =
      builder.input("x", DType::f32, {Dim::fixed(1), Dim::fixed(4), Dim::fixed(6), Dim::fixed(6)});
  const std::string w = builder.initializer("w", weight);
  const std::string b = builder.initializer("b", bias);
  const std::string y = builder.node("Conv", {x, w, b}, {}, "conv");
  builder.output(y, DType::f32, {Dim::fixed(1), Dim::fixed(8), Dim::fixed(4), Dim::fixed(4)});
  return builder.build();
}

// Mean over positions, then mean |.| over channels, of (approx - reference).
double mean_channel_bias(const Tensor& reference, const Tensor& approximation) {
  const std::int64_t channels = reference.dim(1);
  const std::int64_t inner = reference.numel() / channels;
  double total = 0.0;
  for (std::int64_t c = 0; c < channels; ++c) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < inner; ++i) {
      sum +=
          approximation.values<float>()[c * inner + i] - reference.values<float>()[c * inner + i];
    }
    total += std::fabs(sum / inner);
  }
  return total / channels;
}

TEST(BiasCorrection, RemovesTheMeanOutputErrorOfAQuantizedConv) {
  Tensor weight = random_tensor(DType::f32, {8, 4, 3, 3}, 21);
  weight.data<float>()[0] = 12.0F;  // one large weight makes the per-tensor step coarse
  const Tensor bias = random_tensor(DType::f32, {8}, 22);
  const Tensor quantized = fake_quantized(weight, -1);

  std::vector<std::map<std::string, Tensor>> calibration_samples;
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    calibration_samples.push_back(
        {{"x", random_tensor(DType::f32, {1, 4, 6, 6}, 300 + seed, 1.0, 3.0)}});
  }
  VectorSampleSource source(calibration_samples);
  const graph::Graph float_model = single_conv(weight, bias);
  const CalibrationResult stats = calibrate(float_model, {"x"}, source, {});
  const Tensor corrected =
      corrected_conv_bias(weight, quantized, bias, stats.values.at("x").channel_means(), 1);

  const Tensor x = random_tensor(DType::f32, {1, 4, 6, 6}, 999, 1.0, 3.0);
  const Tensor expected = run_single_output(float_model, x);
  const double error_plain =
      mean_channel_bias(expected, run_single_output(single_conv(quantized, bias), x));
  const double error_corrected =
      mean_channel_bias(expected, run_single_output(single_conv(quantized, corrected), x));
  RecordProperty("mean_channel_error_plain", std::to_string(error_plain));
  RecordProperty("mean_channel_error_corrected", std::to_string(error_corrected));
  EXPECT_LT(error_corrected, error_plain / 3.0) << error_plain << " -> " << error_corrected;
  EXPECT_THROW(corrected_conv_bias(weight, quantized, bias, {1.0, 2.0}, 1), Error);
}

TEST(BiasCorrection, MatMulLayoutsAgree) {
  const Tensor w = random_tensor(DType::f32, {3, 2}, 31);  // [K, N]
  const Tensor wq = fake_quantized(w, -1);
  Tensor wt(DType::f32, {2, 3});
  Tensor wqt(DType::f32, {2, 3});
  for (int k = 0; k < 3; ++k) {
    for (int n = 0; n < 2; ++n) {
      wt.data<float>()[n * 3 + k] = w.values<float>()[k * 2 + n];
      wqt.data<float>()[n * 3 + k] = wq.values<float>()[k * 2 + n];
    }
  }
  const std::vector<double> means = {1.0, -2.0, 0.5};
  const Tensor a = corrected_matmul_bias(w, wq, Tensor(), means, false);
  const Tensor b = corrected_matmul_bias(wt, wqt, Tensor(), means, true);
  for (int n = 0; n < 2; ++n) {
    double error = 0.0;
    for (int k = 0; k < 3; ++k)
      error += (wq.values<float>()[k * 2 + n] - w.values<float>()[k * 2 + n]) * means[k];
    EXPECT_NEAR(a.values<float>()[n], -error, 1e-6);
    EXPECT_NEAR(b.values<float>()[n], -error, 1e-6);
  }
}

// x [batch, 16] -> MatMul w1 -> Relu -> MatMul w2 -> MatMul w3 -> y.
graph::Graph mlp(const std::map<std::string, Tensor>& weights) {
  graph::GraphBuilder builder("mlp");
  std::string h = builder.input("x", DType::f32, {Dim::named("batch"), Dim::fixed(16)});
  for (const char* layer : {"fc1", "fc2", "fc3"}) {
    const std::string w = builder.initializer(std::string(layer) + "_w", weights.at(layer));
    h = builder.node("MatMul", {h, w}, {}, layer);
    if (std::string(layer) == "fc1") h = builder.node("Relu", {h}, {}, "relu1");
  }
  builder.output(h, DType::f32, {Dim::named("batch"), Dim::fixed(16)});
  return builder.build();
}

std::map<std::string, Tensor> mlp_weights() {
  std::map<std::string, Tensor> weights;
  weights["fc1"] = random_tensor(DType::f32, {16, 16}, 41, -0.5, 0.5);
  weights["fc2"] = random_tensor(DType::f32, {16, 16}, 42, -0.5, 0.5);
  weights["fc3"] = random_tensor(DType::f32, {16, 16}, 43, -0.5, 0.5);
  // fc2 is outlier-heavy: two huge weights on an input that Relu always zeroes (fc1's
  // column 0 is zero) leave the float output alone but make per-tensor int8 round all
  // other fc2 weights to 0.
  for (int k = 0; k < 16; ++k) weights["fc1"].data<float>()[k * 16] = 0.0F;
  weights["fc2"].data<float>()[7] = 300.0F;
  weights["fc2"].data<float>()[3] = -250.0F;
  return weights;
}

// The model with every layer outside `float_layers` given per-tensor int8 weights.
graph::Graph mlp_quantized_except(const std::set<std::string>& float_layers) {
  std::map<std::string, Tensor> weights = mlp_weights();
  for (auto& [layer, weight] : weights) {
    if (!float_layers.count(layer)) weight = fake_quantized(weight, -1);
  }
  return mlp(weights);
}

std::vector<std::map<std::string, Tensor>> mlp_samples() {
  std::vector<std::map<std::string, Tensor>> samples;
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    samples.push_back({{"x", random_tensor(DType::f32, {8, 16}, 500 + seed)}});
  }
  return samples;
}

TEST(PerLayerSqnr, ReportsEachComparedValueInNodeOrder) {
  const graph::Graph float_model = mlp(mlp_weights());
  const graph::Graph quantized = mlp_quantized_except({});
  std::map<std::string, std::string> pairs;
  for (const graph::Node& node : float_model.nodes) pairs[node.outputs[0]] = node.outputs[0];
  VectorSampleSource source(mlp_samples());
  const std::vector<LayerSqnr> rows = per_layer_sqnr(float_model, quantized, pairs, source);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].node, "fc1");
  EXPECT_EQ(rows[1].op_type, "Relu");
  EXPECT_EQ(rows[3].node, "fc3");
  for (const LayerSqnr& row : rows) EXPECT_TRUE(std::isfinite(row.sqnr_db)) << row.node;
  EXPECT_GT(rows[0].sqnr_db, 30.0);                    // fc1 has a well-spread weight
  EXPECT_LT(rows[2].sqnr_db, rows[0].sqnr_db - 10.0);  // fc2's outliers cost a lot
  const std::string table = format_sqnr_table(rows);
  EXPECT_NE(table.find("fc2"), std::string::npos);
  EXPECT_NE(table.find("<- lowest"), std::string::npos);

  VectorSampleSource same_source(mlp_samples());
  const auto identical = per_layer_sqnr(float_model, float_model, pairs, same_source, 2);
  EXPECT_TRUE(std::isinf(identical[0].sqnr_db));
}

// A synthetic model whose layers are recorded as node names and op types ("Float" or
// "Quantized"), evaluated by a formula: only "bad" costs real accuracy.
graph::Graph marker_model(const std::set<std::string>& float_layers) {
  graph::Graph model;
  for (const char* layer : {"a", "bad", "c", "d"}) {
    graph::Node node;
    node.name = layer;
    node.op_type = float_layers.count(layer) ? "Float" : "Quantized";
    model.nodes.push_back(node);
  }
  return model;
}

double marker_accuracy(const graph::Graph& model) {
  double accuracy = 90.0;
  for (const graph::Node& node : model.nodes) {
    if (node.op_type == "Quantized") accuracy -= node.name == "bad" ? 4.0 : 0.1;
  }
  return accuracy;
}

TEST(MixedPrecision, KeepsExactlyTheSensitiveLayer) {
  const std::vector<MixedPrecisionDecision> decisions =
      choose_mixed_precision({"a", "bad", "c", "d"}, marker_model, marker_accuracy, 0.5);
  ASSERT_EQ(decisions.size(), 4u);
  for (const MixedPrecisionDecision& decision : decisions) {
    EXPECT_EQ(decision.kept_float, decision.node == "bad")
        << decision.node << ": " << decision.reason;
    EXPECT_FALSE(decision.reason.empty());
  }
  EXPECT_EQ(decisions[0].node, "bad");
  EXPECT_NEAR(decisions[0].sensitivity, 4.0, 1e-9);
  EXPECT_NE(decisions[0].reason.find("kept: budget 0.5 not met without it"), std::string::npos)
      << decisions[0].reason;

  const auto all_fit =
      choose_mixed_precision({"a", "bad", "c", "d"}, marker_model, marker_accuracy, 5.0);
  for (const auto& decision : all_fit) EXPECT_FALSE(decision.kept_float) << decision.node;
  EXPECT_THROW(choose_mixed_precision({"a", "a"}, marker_model, marker_accuracy, 0.5), Error);
  EXPECT_THROW(choose_mixed_precision({"a"}, marker_model, marker_accuracy, -1.0), Error);
}

TEST(MixedPrecision, TiesAreBrokenByLowerSqnr) {
  const auto flat = [](const graph::Graph& model) {
    double accuracy = 90.0;
    for (const graph::Node& node : model.nodes) accuracy -= node.op_type == "Quantized" ? 1.0 : 0.0;
    return accuracy;
  };
  const auto decisions =
      choose_mixed_precision({"a", "bad", "c", "d"}, marker_model, flat, 3.0,
                             {{"a", 30.0}, {"bad", 40.0}, {"c", 10.0}, {"d", 35.0}});
  ASSERT_EQ(decisions.size(), 4u);
  EXPECT_EQ(decisions[0].node, "c");
  EXPECT_TRUE(decisions[0].kept_float);
  EXPECT_FALSE(decisions[1].kept_float);
}

TEST(MixedPrecision, SqnrVariantKeepsTheOutlierLayerOfARealModel) {
  const graph::Graph float_model = mlp(mlp_weights());
  const auto samples = mlp_samples();
  const auto output_sqnr = [&](const graph::Graph& candidate) {
    return output_sqnr_db(float_model, candidate, samples);
  };
  const auto decisions = choose_mixed_precision_by_sqnr({"fc1", "fc2", "fc3"}, mlp_quantized_except,
                                                        output_sqnr, 30.0);
  ASSERT_EQ(decisions.size(), 3u);
  for (const MixedPrecisionDecision& decision : decisions) {
    EXPECT_EQ(decision.kept_float, decision.node == "fc2")
        << decision.node << ": " << decision.reason;
  }
}

}  // namespace
}  // namespace edgeperf::quant
