// Unit tests of unstructured and 2:4 pruning, the compressed storage and the sensitivity choice.
#include "edgeperf/prune/prune.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/prune/sensitivity.h"
#include "edgeperf/prune/sparse_format.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::prune {
namespace {

using graph::Dim;
using ::testing::HasSubstr;

// x[1, 8, 6, 6] -> conv1 (8->8, 3x3) -> Relu -> conv2 (8->16, 1x1) -> GlobalAveragePool ->
// Flatten -> fc1 (Gemm transB, 16->12) -> fc2 (Gemm, 12->10)
graph::Graph small_net(std::int64_t conv2_inputs = 8) {
  graph::GraphBuilder b("small_net");
  const std::string x =
      b.input("x", DType::f32, {Dim::fixed(1), Dim::fixed(8), Dim::fixed(6), Dim::fixed(6)});
  const std::string w1 = b.initializer("w1", random_tensor(DType::f32, {8, 8, 3, 3}, 1));
  const std::string b1 = b.initializer("b1", random_tensor(DType::f32, {8}, 2));
  std::string y =
      b.node("Conv", {x, w1, b1}, {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}}, "conv1");
  y = b.node("Relu", {y}, {}, "relu");
  if (conv2_inputs != 8) {
    const std::string w =
        b.initializer("wp", random_tensor(DType::f32, {conv2_inputs, 8, 1, 1}, 9));
    y = b.node("Conv", {y, w}, {}, "proj");
  }
  const std::string w2 =
      b.initializer("w2", random_tensor(DType::f32, {16, conv2_inputs, 1, 1}, 3));
  y = b.node("Conv", {y, w2}, {}, "conv2");
  y = b.node("GlobalAveragePool", {y}, {}, "gap");
  y = b.node("Flatten", {y}, {}, "flatten");
  const std::string w3 = b.initializer("w3", random_tensor(DType::f32, {12, 16}, 4));
  y = b.node("Gemm", {y, w3}, {{"transB", std::int64_t{1}}}, "fc1");
  const std::string w4 = b.initializer("w4", random_tensor(DType::f32, {12, 10}, 5));
  const std::string b4 = b.initializer("b4", random_tensor(DType::f32, {10}, 6));
  y = b.node("Gemm", {y, w4, b4}, {}, "fc2");
  b.output(y, DType::f32, {Dim::fixed(1), Dim::fixed(10)});
  return b.build();
}

const LayerReport& report_of(const PruneResult& result, const std::string& node) {
  for (const LayerReport& report : result.layers) {
    if (report.layer.node == node) return report;
  }
  throw std::runtime_error("no layer " + node);
}

// Largest |w| zeroed by pruning vs smallest |w| kept, over the given weights.
std::pair<float, float> zeroed_and_kept(const graph::Graph& before, const graph::Graph& after,
                                        const std::vector<std::string>& weights) {
  float max_zeroed = 0, min_kept = INFINITY;
  for (const std::string& name : weights) {
    const auto old_values = before.initializers.at(name).values<float>();
    const auto new_values = after.initializers.at(name).values<float>();
    for (std::size_t i = 0; i < old_values.size(); ++i) {
      if (new_values[i] == 0.0f) {
        max_zeroed = std::max(max_zeroed, std::fabs(old_values[i]));
      } else {
        EXPECT_EQ(new_values[i], old_values[i]);
        min_kept = std::min(min_kept, std::fabs(old_values[i]));
      }
    }
  }
  return {max_zeroed, min_kept};
}

TEST(PrunableLayers, FindsWeightsAxesAndDefaultExclusions) {
  const std::vector<PrunableLayer> layers = find_prunable_layers(small_net());
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(layers[0].node, "conv1");
  EXPECT_EQ(layers[0].weight, "w1");
  EXPECT_EQ(layers[0].reduction_axis, 1);
  EXPECT_EQ(layers[2].reduction_axis, 1);  // Gemm transB: [N, K]
  EXPECT_EQ(layers[3].reduction_axis, 0);  // Gemm: [K, N]
  EXPECT_EQ(layers[3].params, 120);
  const auto excluded = default_exclusions(layers);
  EXPECT_EQ(excluded.at("conv1"), "first conv");
  EXPECT_EQ(excluded.at("fc2"), "last FC");
  EXPECT_EQ(excluded.size(), 2u);
}

TEST(Magnitude, LayerScopeHitsEachLayerAndZeroesTheSmallest) {
  const graph::Graph graph = small_net();
  PruneOptions options;
  options.sparsity = 0.6;
  options.scope = Scope::layer;
  const PruneResult result = prune_model(graph, options);
  EXPECT_EQ(report_of(result, "conv2").zeros_after, std::llround(0.6 * 128));
  EXPECT_EQ(report_of(result, "fc1").zeros_after, std::llround(0.6 * 192));
  EXPECT_FALSE(report_of(result, "conv1").pruned);
  EXPECT_EQ(report_of(result, "conv1").zeros_after, 0);
  EXPECT_EQ(report_of(result, "fc2").note, "excluded (last FC)");
  for (const std::string weight : {"w2", "w3"}) {
    const auto [zeroed, kept] = zeroed_and_kept(graph, result.model, {weight});
    EXPECT_LE(zeroed, kept) << weight;
  }
  // Biases untouched, the input graph untouched (initializers share storage on copy).
  EXPECT_EQ(count_zeros(result.model.initializers.at("b4")), 0);
  EXPECT_EQ(count_zeros(graph.initializers.at("w2")), 0);
}

TEST(Magnitude, GlobalScopeUsesOneThreshold) {
  const graph::Graph graph = small_net();
  PruneOptions options;
  options.sparsity = 0.5;
  const PruneResult result = prune_model(graph, options);
  const std::int64_t zeros =
      report_of(result, "conv2").zeros_after + report_of(result, "fc1").zeros_after;
  EXPECT_EQ(zeros, 160);  // half of 128 + 192
  const auto [zeroed, kept] = zeroed_and_kept(graph, result.model, {"w2", "w3"});
  EXPECT_LE(zeroed, kept);
  EXPECT_NEAR(result.pruned_layers_sparsity, 0.5, 1e-9);
}

TEST(Magnitude, GlobalScopeNeverEmptiesALayer) {
  graph::Graph graph = small_net();
  Tensor small = graph.initializers.at("w3").clone();
  for (float& value : small.values<float>()) value *= 1e-3f;
  graph.initializers["w3"] = small;
  PruneOptions options;
  options.sparsity = 0.7;  // 224 of 320: more than fc1's 192, all below conv2's weights
  const PruneResult result = prune_model(graph, options);
  EXPECT_EQ(report_of(result, "fc1").zeros_after, 182);  // floor(0.95 * 192)
  EXPECT_EQ(report_of(result, "conv2").zeros_after, 224 - 182);
  EXPECT_THAT(result.log.back(), HasSubstr("layer 'fc1': held at 95%"));
}

TEST(Magnitude, ExcludeAndPruneAll) {
  PruneOptions options;
  options.sparsity = 0.5;
  options.exclude = {"conv2"};
  options.prune_first_and_last = true;
  const PruneResult result = prune_model(small_net(), options);
  EXPECT_FALSE(report_of(result, "conv2").pruned);
  EXPECT_EQ(report_of(result, "conv2").note, "excluded (--exclude)");
  EXPECT_TRUE(report_of(result, "conv1").pruned);
  EXPECT_TRUE(report_of(result, "fc2").pruned);
}

TEST(Magnitude, ZeroSmallestBreaksTiesByIndex) {
  std::vector<float> values = {1, -1, 0.5f, 1, 2};
  zero_smallest(values, 3);
  EXPECT_THAT(values, ::testing::ElementsAre(0, 0, 0, 1, 2));
}

TEST(Magnitude, PrunesInt8WeightsBehindDequantizeLinear) {
  graph::GraphBuilder b("qdq");
  const std::string x =
      b.input("x", DType::f32, {Dim::fixed(1), Dim::fixed(4), Dim::fixed(2), Dim::fixed(2)});
  std::vector<std::int8_t> q(16);
  for (std::size_t i = 0; i < q.size(); ++i)
    q[i] = static_cast<std::int8_t>(static_cast<int>(i) - 8);
  const std::string wq = b.initializer("wq", make_tensor<std::int8_t>({4, 4, 1, 1}, q));
  // Channel 0's scale is tiny, so its weights go first despite large |q|.
  const std::string scale = b.initializer("scale", make_tensor<float>({4}, {1e-4f, 1, 1, 1}));
  const std::string zero = b.initializer("zp", make_tensor<std::int8_t>({4}, {0, 0, 0, 0}));
  const std::string w =
      b.node("DequantizeLinear", {wq, scale, zero}, {{"axis", std::int64_t{0}}}, "dq");
  b.output(b.node("Conv", {x, w}, {}, "conv"), DType::f32,
           {Dim::fixed(1), Dim::fixed(4), Dim::fixed(2), Dim::fixed(2)});
  const graph::Graph graph = b.build();
  const std::vector<PrunableLayer> layers = find_prunable_layers(graph);
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0].weight, "wq");
  EXPECT_EQ(layers[0].scale_axis, 0);
  PruneOptions options;
  options.sparsity = 0.5;
  const PruneResult result = prune_model(graph, options);
  const auto pruned = result.model.initializers.at("wq").values<std::int8_t>();
  // Zeroed: channel 0 (-8..-5 at scale 1e-4), the 0 at index 8, |q| = 1 (indices 7, 9) and
  // of the tied |q| = 2 the lower index (6).
  EXPECT_THAT(std::vector<int>(pruned.begin(), pruned.end()),
              ::testing::ElementsAre(0, 0, 0, 0, -4, -3, 0, 0, 0, 0, 2, 3, 4, 5, 6, 7));
  EXPECT_EQ(report_of(result, "conv").zeros_after, 8);
}

TEST(BadInput, SparsityOutsideRange) {
  for (double sparsity : {1.0, -0.1, 1.5, std::nan("")}) {
    PruneOptions options;
    options.sparsity = sparsity;
    try {
      prune_model(small_net(), options);
      FAIL() << "sparsity " << sparsity << " accepted";
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr("outside [0, 1)"));
    }
  }
}

TEST(BadInput, UnknownExcludeIsNamed) {
  PruneOptions options;
  options.exclude = {"conv9"};
  try {
    prune_model(small_net(), options);
    FAIL();
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("no node named 'conv9'"));
    EXPECT_THAT(error.what(), HasSubstr("conv1"));
  }
}

TEST(BadInput, NoPrunableLayer) {
  graph::GraphBuilder b("relu_only");
  const std::string x = b.input("x", DType::f32, {Dim::fixed(4)});
  b.output(b.node("Relu", {x}, {}, "relu"), DType::f32, {Dim::fixed(4)});
  EXPECT_THROW(
      {
        try {
          prune_model(b.build(), PruneOptions{});
        } catch (const Error& error) {
          EXPECT_THAT(error.what(), HasSubstr("no prunable layer"));
          throw;
        }
      },
      Error);
}

TEST(BadInput, EveryLayerExcluded) {
  PruneOptions options;
  options.exclude = {"conv2", "fc1"};
  EXPECT_THROW(prune_model(small_net(), options), Error);
}

TEST(BadInput, NonFiniteWeightIsNamed) {
  graph::Graph graph = small_net();
  graph.initializers["w3"] = graph.initializers["w3"].clone();
  graph.initializers["w3"].data<float>()[7] = NAN;
  try {
    prune_model(graph, PruneOptions{});
    FAIL();
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("'fc1'"));
    EXPECT_THAT(error.what(), HasSubstr("index 7"));
  }
}

TEST(TwoFour, KeepsTheTwoLargestPerGroupAlongTheAxis) {
  // [2, 8]: groups along axis 1 are rows split into 4s; along axis 0 there are none (2 % 4).
  Tensor weight = make_tensor<float>({2, 8}, {1, -4, 3, 2, 0.5f, 0.1f, -0.2f, 0.3f,  //
                                              5, 5, 5, 5, 1, 2, 3, 4});
  prune_two_four(weight, 1);
  EXPECT_THAT(weight.values<float>(),
              ::testing::ElementsAre(0, -4, 3, 0, 0.5f, 0, 0, 0.3f, 5, 5, 0, 0, 0, 0, 3, 4));
  EXPECT_FALSE(find_two_four_violation(weight, 1));
  EXPECT_THROW(find_two_four_violation(weight, 0), Error);
}

TEST(TwoFour, ViolationNamesTheGroup) {
  // [4, 2, 3] along axis 0: group g = (block, inner) with stride 6.
  Tensor weight(DType::f32, {4, 2, 3});
  for (std::int64_t k = 0; k < 4; ++k) weight.data<float>()[k * 6] = 1;  // group 0: 4 nonzeros
  auto violation = find_two_four_violation(weight, 0);
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->group, 0);
  EXPECT_EQ(violation->stride, 6);
  EXPECT_EQ(violation->nonzeros, 4);
  weight.data<float>()[0] = 0;
  weight.data<float>()[6] = 0;
  for (std::int64_t k = 0; k < 3; ++k) weight.data<float>()[4 + k * 6] = 1;
  violation = find_two_four_violation(weight, 0);
  ASSERT_TRUE(violation);
  EXPECT_EQ(violation->group, 4);
  EXPECT_EQ(violation->first_index, 4);
  EXPECT_EQ(violation->nonzeros, 3);
}

TEST(TwoFour, PruneModelSkipsLayersWhoseAxisIsNotAMultipleOf4) {
  PruneOptions options;
  options.method = Method::two_four;
  options.prune_first_and_last = true;
  const PruneResult result = prune_model(small_net(6), options);
  EXPECT_FALSE(report_of(result, "conv2").pruned);
  EXPECT_THAT(report_of(result, "conv2").note, HasSubstr("divisible by 4"));
  EXPECT_TRUE(report_of(result, "fc2").pruned);  // K = 12
  std::vector<PrunableLayer> pruned;
  for (const LayerReport& report : result.layers) {
    if (!report.pruned) continue;
    pruned.push_back(report.layer);
    EXPECT_DOUBLE_EQ(report.sparsity(), 0.5) << report.layer.node;
  }
  EXPECT_NO_THROW(validate_two_four(result.model, pruned));
  graph::Graph broken = result.model;
  broken.initializers["w3"] = make_tensor<float>({12, 16}, std::vector<float>(192, 1.0f));
  try {
    validate_two_four(broken, pruned);
    FAIL();
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("layer 'fc1' weight 'w3': group 0"));
  }
}

TEST(SparseFormat, BitmaskRoundTripsAnySize) {
  for (std::int64_t n : {1, 7, 8, 9, 100}) {
    Tensor dense = random_tensor(DType::f32, {n}, static_cast<std::uint64_t>(n));
    for (std::int64_t i = 0; i < n; i += 3) dense.data<float>()[i] = 0;
    const EncodedWeight encoded = encode_bitmask(dense);
    EXPECT_EQ(encoded.mask.numel(), (n + 7) / 8);
    EXPECT_EQ(encoded.values.numel(), n - count_zeros(dense));
    const Tensor decoded = decode_bitmask(encoded.mask, encoded.values, {n}, "w");
    ASSERT_EQ(decoded.numel(), n);
    for (std::int64_t i = 0; i < n; ++i)
      EXPECT_EQ(decoded.data<float>()[i], dense.data<float>()[i]);
  }
}

TEST(SparseFormat, Int8WeightsRoundTrip) {
  const Tensor dense =
      make_tensor<std::int8_t>({3, 5}, {0, 1, 0, -128, 127, 0, 0, 0, 5, 0, 0, 0, 0, 0, -1});
  const EncodedWeight encoded = encode_bitmask(dense);
  EXPECT_EQ(encoded.values.dtype(), DType::i8);
  EXPECT_EQ(encoded.values.numel(), 5);
  const Tensor decoded = decode_bitmask(encoded.mask, encoded.values, {3, 5}, "wq");
  ASSERT_EQ(decoded.dtype(), DType::i8);
  const auto a = decoded.values<std::int8_t>();
  const auto b = dense.values<std::int8_t>();
  EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
  EXPECT_EQ(compressed_bytes(15, 5, 1), 2u + 5u);
}

TEST(SparseFormat, DecoderRejectsInconsistentParts) {
  const Tensor dense = make_tensor<float>({10}, {1, 0, 2, 0, 0, 0, 0, 0, 0, 3});
  const EncodedWeight encoded = encode_bitmask(dense);
  const Tensor fewer_values = make_tensor<float>({2}, {1, 2});
  EXPECT_THAT([&] { decode_bitmask(encoded.mask, fewer_values, {10}, "w"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("3 set bits but there are 2 values")));
  Tensor padding = encoded.mask.clone();
  padding.data<std::uint8_t>()[1] |= 0x80;  // element 15 of a 10-element weight
  EXPECT_THAT(
      [&] {
        decode_bitmask(padding, make_tensor<float>({4}, {1, 2, 3, 4}), {10}, "w");
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("padding bits")));
  EXPECT_THAT([&] { decode_bitmask(encoded.mask, encoded.values, {17}, "w"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("mask must be u8 [3]")));
}

graph::Graph pruned_small_net(double sparsity) {
  PruneOptions options;
  options.sparsity = sparsity;
  options.prune_first_and_last = true;
  return prune_model(small_net(), options).model;
}

std::map<std::string, Tensor> run_model(const std::string& bytes) {
  // The formats must decode to the same weights, so the kernels must be the same too:
  // `auto` would pick the sparse kernels by timing, differently from run to run.
  runtime::SessionOptions options;
  options.sparse = runtime::SparseMode::off;
  runtime::Session session(onnx_io::load_model_from_bytes(bytes), options);
  return session.run({{"x", random_tensor(DType::f32, {1, 8, 6, 6}, 42)}});
}

TEST(SparseFormat, EveryFormatRunsLikeTheDenseModel) {
  const graph::Graph pruned = pruned_small_net(0.8);
  const std::set<std::string> weights = {"w1", "w2", "w3", "w4"};
  const std::string dense = serialize_pruned_model(pruned, weights, StorageFormat::dense);
  const std::string compressed = serialize_pruned_model(pruned, weights, StorageFormat::compressed);
  const std::string onnx_sparse =
      serialize_pruned_model(pruned, weights, StorageFormat::onnx_sparse);
  EXPECT_LT(compressed.size(), onnx_sparse.size());
  EXPECT_LT(onnx_sparse.size(), dense.size());
  const Tensor expected = run_model(dense).begin()->second;
  for (const std::string* bytes : {&compressed, &onnx_sparse}) {
    const Tensor got = run_model(*bytes).begin()->second;
    ASSERT_EQ(got.shape(), expected.shape());
    for (std::int64_t i = 0; i < got.numel(); ++i) {
      EXPECT_EQ(got.data<float>()[i], expected.data<float>()[i]);
    }
  }
  // The compressed file holds SparseWeight nodes that decode back to the same weights.
  graph::Graph loaded = onnx_io::load_model_from_bytes(compressed);
  std::size_t decoders = 0;
  for (const graph::Node& node : loaded.nodes) decoders += node.op_type == kSparseWeightOp;
  EXPECT_EQ(decoders, 4u);
  EXPECT_EQ(decode_sparse_weights(loaded), 4u);
  for (const std::string& weight : weights) {
    const auto a = loaded.initializers.at(weight).values<float>();
    const auto b = pruned.initializers.at(weight).values<float>();
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << weight;
  }
  EXPECT_EQ(loaded.initializers.count("w1.mask"), 0u);
}

TEST(SparseFormat, DenseWeightsStayPlain) {
  graph::Graph graph = small_net();
  EXPECT_TRUE(encode_sparse_weights(graph, {"w1", "w2"}).empty());  // no zeros: larger encoded
  EXPECT_EQ(graph.initializers.count("w1"), 1u);
}

TEST(Sensitivity, ChoiceReachesTheTargetAndSparesSensitiveLayers) {
  const std::vector<double> levels = {0.5, 0.9};
  std::vector<SensitivityRow> rows = {
      {"robust", 100, {{0, 0.0}, {0, 0.01}}, 0},
      {"fragile", 100, {{0, 0.2}, {0, 0.9}}, 0},
  };
  const double loss = choose_layer_sparsities(rows, levels, 0.5);
  EXPECT_NEAR((rows[0].chosen + rows[1].chosen) / 2, 0.5, 1e-9);
  EXPECT_NEAR(rows[0].chosen, 0.9, 1e-9);
  EXPECT_NEAR(rows[1].chosen, 0.1, 1e-9);
  EXPECT_NEAR(loss, 0.01 + 0.2 * 0.2, 1e-9);
  EXPECT_THROW(choose_layer_sparsities(rows, levels, 0.95), Error);
}

TEST(Sensitivity, ScanEvaluatesEachLayerAtEachLevel) {
  const graph::Graph graph = small_net();
  int calls = 0;
  // Loss: the fraction of w3 (fc1) that is zero; conv2 costs nothing.
  const Evaluator evaluate = [&](const graph::Graph& model) {
    ++calls;
    const Tensor& w3 = model.initializers.at("w3");
    const double zeros = static_cast<double>(count_zeros(w3)) / static_cast<double>(w3.numel());
    return Evaluation{1.0 - zeros, zeros};
  };
  PruneOptions options;
  options.sparsity = 0.5;
  const SensitivityResult scan = sensitivity_scan(graph, options, evaluate, "fake");
  ASSERT_EQ(scan.rows.size(), 2u);  // conv2 and fc1; conv1 and fc2 excluded by default
  EXPECT_EQ(calls, 1 + 2 * 5);
  EXPECT_DOUBLE_EQ(scan.rows[1].at_level[2].loss, std::llround(0.7 * 192) / 192.0);
  EXPECT_NEAR(scan.rows[0].chosen, 0.9, 1e-9);  // conv2 is free: pruned first, up to 90%
  const double pruned = scan.rows[0].chosen * 128 + scan.rows[1].chosen * 192;
  EXPECT_NEAR(pruned, 0.5 * 320, 1e-6);
  options.layer_sparsity = scan.chosen();
  const PruneResult result = prune_model(graph, options);
  EXPECT_NEAR(result.pruned_layers_sparsity, 0.5, 0.01);
}

}  // namespace
}  // namespace edgeperf::prune
