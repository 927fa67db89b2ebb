// The int8 Concat (ops/int8_concat.cpp): DequantizeLinear parts -> Concat ->
// QuantizeLinear, or -> MaxPool -> QuantizeLinear, runs on the int8 values, exactly as
// the reference backend computes the graph; -> BatchNormalization (-> ReLU) ->
// QuantizeLinear, within one step of it.
#include "qdq_builder.h"

namespace edgeperf::runtime {
namespace {

using namespace qdq_test;  // NOLINT(google-build-using-namespace)

struct ConcatCase {
  DType type;
  bool same_scales;   // every part in the output's quantization: plain copies
  bool max_pool;      // a MaxPool between the Concat and the QuantizeLinear
  std::int64_t axis;  // 1 (channels) or 2 (rows)
};

// Parts quantized from the input by QuantizeLinear at their own scales (so the parts are
// exact and only the Concat is under test), concatenated and quantized again.
graph::Graph concat_model(const ConcatCase& c) {
  QdqBuilder model(17);
  const std::string x = model.input({1, 16, 6, 6});
  const bool u8 = c.type == DType::u8;
  const std::int32_t out_zero = u8 ? 128 : 0;
  const float out_scale = 4.0f / 255.0f;
  std::vector<std::string> parts;
  const float part_scales[] = {3.0f / 255.0f, 5.0f / 255.0f, 2.5f / 255.0f};
  const std::int32_t part_zeros[] = {u8 ? 120 : -3, u8 ? 131 : 5, u8 ? 128 : 0};
  for (int p = 0; p < 3; ++p) {
    const float scale = c.same_scales ? out_scale : part_scales[p];
    const std::int32_t zero = c.same_scales ? out_zero : part_zeros[p];
    parts.push_back(model.qdq(x, scale, zero, c.type).name);
  }
  std::string joined = model.node("Concat", parts, {{"axis", c.axis}});
  if (c.max_pool) {
    joined = model.node("MaxPool", {joined},
                        {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
                         {"strides", std::vector<std::int64_t>{2, 2}},
                         {"pads", std::vector<std::int64_t>{1, 1, 1, 1}}});
  }
  return model.finish(model.quantize(joined, out_scale, out_zero, c.type), c.type);
}

std::size_t node_index(const graph::Graph& graph, const std::string& op) {
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    if (graph.nodes[i].op_type == op) return i;
  }
  return graph.nodes.size();
}

const KernelPart* part_with(const RunResult& result, std::size_t node) {
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) {
      if (std::find(part.nodes.begin(), part.nodes.end(), node) != part.nodes.end()) return &part;
    }
  }
  return nullptr;
}

class Int8ConcatSweep : public ::testing::TestWithParam<std::tuple<ConcatCase, int>> {};

TEST_P(Int8ConcatSweep, MatchesReferenceExactlyOnInt8) {
  const auto& [c, threads] = GetParam();
  const graph::Graph graph = concat_model(c);
  const RunResult result = run_both(graph, threads);
  EXPECT_EQ(compare(result.onednn, result.reference, 1.0).max_lsb, 0.0);
  EXPECT_TRUE(all_onednn(result));
  const KernelPart* concat = part_with(result, node_index(graph, "Concat"));
  ASSERT_NE(concat, nullptr);
  EXPECT_EQ(concat->kind, "custom");
  // The Concat writes int8: no f32 concatenation and no quantize of it afterwards.
  const std::size_t quantize = graph.nodes.size() - 1;
  if (c.max_pool) {
    const KernelPart* pool = part_with(result, node_index(graph, "MaxPool"));
    ASSERT_NE(pool, nullptr);
    EXPECT_TRUE(pool->int8);
    EXPECT_EQ(part_with(result, quantize), pool);
  } else {
    EXPECT_EQ(part_with(result, quantize), concat);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Int8ConcatSweep,
    ::testing::Combine(::testing::Values(ConcatCase{DType::u8, false, false, 1},
                                         ConcatCase{DType::u8, true, false, 1},
                                         ConcatCase{DType::i8, false, false, 1},
                                         ConcatCase{DType::u8, false, true, 1},
                                         ConcatCase{DType::i8, false, true, 1},
                                         ConcatCase{DType::u8, false, false, 2}),
                       ::testing::Values(1, 2)));

struct BatchNormCase {
  DType type;
  std::int64_t part_channels;  // 16: blocked layouts possible; 20: not
  bool float_part;             // one part computed in f32, as DenseNet's pooled one
  std::string activation;      // "", "Relu" or "LeakyRelu"
};

// Parts quantized from the input at their own scales, concatenated, normalized, activated
// and quantized: DenseNet's pre-activation.
graph::Graph concat_batch_norm_model(const BatchNormCase& c) {
  QdqBuilder model(23);
  const std::int64_t parts = 3;
  const std::string x = model.input({1, c.part_channels, 7, 7});
  const bool u8 = c.type == DType::u8;
  std::vector<std::string> inputs;
  const float part_scales[] = {3.0f / 255.0f, 5.0f / 255.0f, 2.5f / 255.0f};
  const std::int32_t part_zeros[] = {u8 ? 120 : -3, u8 ? 131 : 5, u8 ? 128 : 0};
  for (int p = 0; p < parts; ++p) {
    inputs.push_back(model.qdq(x, part_scales[p], part_zeros[p], c.type).name);
  }
  std::int64_t channels = parts * c.part_channels;
  if (c.float_part) {
    inputs.insert(inputs.begin(), model.node("Sigmoid", {x}));
    channels += c.part_channels;
  }
  const std::string joined = model.node("Concat", inputs, {{"axis", std::int64_t{1}}});
  std::string y = model.node(
      "BatchNormalization",
      {joined, model.constant({channels}, 0.5f, 2.0f), model.constant({channels}, -1.0f, 1.0f),
       model.constant({channels}, -0.5f, 0.5f), model.constant({channels}, 0.5f, 2.0f)});
  if (!c.activation.empty()) {
    y = c.activation == "LeakyRelu" ? model.node("LeakyRelu", {y}, {{"alpha", 0.1f}})
                                    : model.node(c.activation, {y});
  }
  return model.finish(model.quantize(y, 6.0f / 255.0f, u8 ? 100 : -10, c.type), c.type);
}

class Int8ConcatBatchNormSweep : public ::testing::TestWithParam<std::tuple<BatchNormCase, int>> {};

TEST_P(Int8ConcatBatchNormSweep, MatchesReferenceWithinOneStep) {
  const auto& [c, threads] = GetParam();
  const graph::Graph graph = concat_batch_norm_model(c);
  const RunResult result = run_both(graph, threads);
  const Comparison comparison = compare(result.onednn, result.reference, 1.0);
  EXPECT_LE(comparison.max_lsb, 1.0);
  // The multiply-add folds the dequantization, the batch norm and the quantization into
  // one rounding: values within a rounding error of a half may land one step apart.
  EXPECT_LE(comparison.off_by_one, comparison.count / 100);
  EXPECT_TRUE(all_onednn(result));
  const KernelPart* concat = part_with(result, node_index(graph, "Concat"));
  ASSERT_NE(concat, nullptr);
  EXPECT_EQ(concat->kind, "custom");
  // One op from the int8 parts to the int8 output.
  EXPECT_EQ(part_with(result, node_index(graph, "BatchNormalization")), concat);
  EXPECT_EQ(part_with(result, graph.nodes.size() - 1), concat);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Int8ConcatBatchNormSweep,
    ::testing::Combine(::testing::Values(BatchNormCase{DType::u8, 16, false, "Relu"},
                                         BatchNormCase{DType::u8, 20, true, "Relu"},
                                         BatchNormCase{DType::i8, 16, true, "Relu"},
                                         BatchNormCase{DType::u8, 16, false, ""},
                                         BatchNormCase{DType::i8, 20, false, "LeakyRelu"}),
                       ::testing::Values(1, 2)));

// A QuantizeLinear without its zero point (left out, or named ""): u8 with zero point 0.
TEST(OnednnInt8Concat, QuantizeLinearWithTheDefaultZeroPoint) {
  for (bool empty_input : {false, true}) {
    QdqBuilder model(17);
    const std::string x = model.input({1, 16, 6, 6});
    const std::string a = model.qdq(x, 3.0f / 255.0f, 120).name;
    const std::string b = model.qdq(x, 5.0f / 255.0f, 131).name;
    const std::string joined = model.node("Concat", {a, b}, {{"axis", std::int64_t{1}}});
    const graph::Graph graph =
        model.finish(model.quantize_default_zero(joined, 2.0f / 255.0f, empty_input), DType::u8);
    const RunResult result = run_both(graph);
    EXPECT_EQ(compare(result.onednn, result.reference, 1.0).max_lsb, 0.0) << empty_input;
    const KernelPart* concat = part_with(result, node_index(graph, "Concat"));
    ASSERT_NE(concat, nullptr);
    EXPECT_EQ(part_with(result, graph.nodes.size() - 1), concat) << empty_input;
  }
}

// The ReLU's output read by a float op too: the batch norm chain is not the Concat's
// alone, so the Concat does not take the QuantizeLinear.
TEST(OnednnInt8Concat, ABatchNormChainWithAnotherReaderIsNotTaken) {
  QdqBuilder model(29);
  const std::string x = model.input({1, 16, 6, 6});
  const std::string a = model.qdq(x, 3.0f / 255.0f, 120).name;
  const std::string b = model.qdq(x, 5.0f / 255.0f, 131).name;
  const std::string joined = model.node("Concat", {a, b}, {{"axis", std::int64_t{1}}});
  const std::string y = model.node(
      "Relu",
      {model.node("BatchNormalization",
                  {joined, model.constant({32}, 0.5f, 2.0f), model.constant({32}, -1.0f, 1.0f),
                   model.constant({32}, -0.5f, 0.5f), model.constant({32}, 0.5f, 2.0f)})});
  const std::string requantized =
      model.dequantize(model.quantize(y, 6.0f / 255.0f, 100), 6.0f / 255.0f, 100).name;
  const graph::Graph graph =
      model.finish(model.node("Add", {requantized, model.node("Sigmoid", {y})}), DType::f32);
  const RunResult result = run_both(graph);
  EXPECT_LE(compare(result.onednn, result.reference, 1e-5).max_lsb, 1.0);
  const KernelPart* concat = part_with(result, node_index(graph, "Concat"));
  ASSERT_NE(concat, nullptr);
  std::size_t last_quantize = 0;  // the one after the ReLU
  for (std::size_t i = 0; i < graph.nodes.size(); ++i) {
    if (graph.nodes[i].op_type == "QuantizeLinear") last_quantize = i;
  }
  EXPECT_NE(part_with(result, last_quantize), concat);
  EXPECT_NE(part_with(result, node_index(graph, "BatchNormalization")), concat);
}

// A Concat read by anything but a QuantizeLinear (or a MaxPool then one) stays f32.
TEST(OnednnInt8Concat, AConcatReadInFloatStaysFloat) {
  QdqBuilder model(17);
  const std::string x = model.input({1, 16, 6, 6});
  const std::string a = model.qdq(x, 3.0f / 255.0f, 120).name;
  const std::string b = model.qdq(x, 5.0f / 255.0f, 131).name;
  const std::string joined = model.node("Concat", {a, b}, {{"axis", std::int64_t{1}}});
  const graph::Graph graph = model.finish(model.node("Relu", {joined}), DType::f32);
  const RunResult result = run_both(graph);
  EXPECT_LE(compare(result.onednn, result.reference, 1e-6).max_lsb, 1.0);
  const KernelPart* concat = part_with(result, node_index(graph, "Concat"));
  ASSERT_NE(concat, nullptr);
  EXPECT_NE(part_with(result, node_index(graph, "Relu")), concat);
}

}  // namespace
}  // namespace edgeperf::runtime
