// Squeeze-and-excitation around int8 convs (ops/int8_squeeze_excite.cpp) against the
// reference backend: the trunk a dequantized value (RegNetY), its HardSigmoid gate
// (MobileNetV3), HardSwish or swish (EfficientNet); u8 and s8; one and two images; the
// pool quantized or not; a constant gate; a trunk read by a third node; and the gate of a
// float model.
#include <set>

#include "qdq_builder.h"

namespace edgeperf::runtime {
namespace {

using namespace qdq_test;  // NOLINT(google-build-using-namespace)

enum class Trunk { dequantized, hard_sigmoid_gate, hard_swish, swish };

struct SeCase {
  Trunk trunk;
  DType type;
  std::int64_t batch;
  bool quantized_pool = true;
  bool third_reader = false;      // Relu(t) also an output
  bool dequantized_gate = false;  // the gate through QuantizeLinear and DequantizeLinear
  bool trunk_first = false;       // Mul(t, gate), not Mul(gate, t)
};

constexpr std::int64_t kIn = 8, kChannels = 24, kSqueezed = 8, kSide = 7;

// x -> int8 conv -> trunk t -> GlobalAveragePool -> (QDQ) -> 1x1 conv -> Relu -> 1x1 conv
// -> gate; QuantizeLinear(Mul(gate, t)) -> DequantizeLinear: the output.
graph::Graph se_model(const SeCase& c) {
  QdqBuilder model(17);
  const std::string x = model.input({c.batch, kIn, kSide, kSide});
  const bool u8 = c.type == DType::u8;
  const auto input = model.qdq(x, kInputScale, u8 ? 128 : 0, c.type);
  const std::string conv = model.conv(input, kIn, kChannels, 3, 1, 1, 1, true);
  const auto conv_q = model.qdq(conv, 3.0f / 255.0f, u8 ? 120 : -8, c.type);
  std::string t = conv_q.name;
  if (c.trunk == Trunk::hard_sigmoid_gate) {
    t = model.node(
        "Mul", {conv_q.name, model.node("HardSigmoid", {conv_q.name}, {{"alpha", 1.0f / 6.0f}})});
  } else if (c.trunk == Trunk::hard_swish) {
    t = model.node("HardSwish", {conv_q.name});
  } else if (c.trunk == Trunk::swish) {
    t = model.node("Mul", {conv_q.name, model.node("Sigmoid", {conv_q.name})});
  }
  std::string pooled = model.node("GlobalAveragePool", {t});
  QdqBuilder::Quantized squeezed_in{pooled, 1.0f, 0};
  if (c.quantized_pool) squeezed_in = model.qdq(pooled, 2.0f / 255.0f, u8 ? 100 : 0, c.type);
  const std::string fc1 =
      model.node("Relu", {model.conv(squeezed_in, kChannels, kSqueezed, 1, 1, 0, 1, true)});
  const auto fc1_q = model.qdq(fc1, 2.0f / 255.0f, u8 ? 0 : -128, c.type);
  const std::string fc2 = model.conv(fc1_q, kSqueezed, kChannels, 1, 1, 0, 1, true);
  const auto fc2_q = model.qdq(fc2, 4.0f / 255.0f, u8 ? 128 : 0, c.type);
  std::string gate = model.node("HardSigmoid", {fc2_q.name}, {{"alpha", 1.0f / 6.0f}});
  if (c.dequantized_gate) gate = model.qdq(gate, 1.0f / 255.0f, u8 ? 0 : -128, c.type).name;
  const std::string gated =
      c.trunk_first ? model.node("Mul", {t, gate}) : model.node("Mul", {gate, t});
  const auto y = model.qdq(gated, 3.0f / 255.0f, u8 ? 90 : -20, c.type);
  std::string out = y.name;
  if (c.third_reader) {
    out = model.node("Concat", {y.name, model.node("Relu", {t})}, {{"axis", std::int64_t{1}}});
  }
  return model.finish(out, DType::f32);
}

// The first kChannels channels of each image of [N, C', H, W] (the gated output, when
// Relu(t) follows it in the Concat).
Tensor gated_channels(const Tensor& output) {
  const Shape& shape = output.shape();
  const std::int64_t pixels = shape[2] * shape[3];
  Tensor part(DType::f32, {shape[0], kChannels, shape[2], shape[3]});
  const auto all = output.values<float>();
  auto values = part.values<float>();
  for (std::int64_t n = 0; n < shape[0]; ++n) {
    std::copy_n(all.begin() + n * shape[1] * pixels, kChannels * pixels,
                values.begin() + n * kChannels * pixels);
  }
  return part;
}

// The node types of every custom op's nodes.
std::vector<std::multiset<std::string>> custom_ops(const RunResult& result) {
  std::vector<std::multiset<std::string>> ops;
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) {
      if (part.kind != "custom") continue;
      std::multiset<std::string> types;
      for (std::size_t node : part.nodes) types.insert(step.ops.at(node));
      ops.push_back(types);
    }
  }
  return ops;
}

bool has_op(const RunResult& result, const std::multiset<std::string>& types) {
  const auto ops = custom_ops(result);
  return std::find(ops.begin(), ops.end(), types) != ops.end();
}

class SqueezeExciteGraph : public ::testing::TestWithParam<std::tuple<SeCase, int>> {};

TEST_P(SqueezeExciteGraph, ComputesWhatTheReferenceDoes) {
  const auto& [c, threads] = GetParam();
  const RunResult result = run_both(se_model(c), threads);
  EXPECT_TRUE(all_onednn(result));
  // The output's levels, and the pool's on the way, may round to the neighbouring level
  // where a value lies within a rounding error of a half (squeeze_excite.h): a few do.
  const Comparison diff =
      compare(gated_channels(result.onednn), gated_channels(result.reference), 3.0 / 255.0);
  EXPECT_LE(diff.max_lsb, 1.01);
  EXPECT_LE(diff.off_by_one, diff.count / 50);
  if (c.third_reader) {  // Relu(t) in f32, from the same trunk
    EXPECT_LE(compare(result.onednn, result.reference, 3.0 / 255.0).max_lsb, 1.01);
  }
  // The gate's Mul and its QuantizeLinear are one op.
  EXPECT_TRUE(has_op(result, {"Mul", "QuantizeLinear"}));
  if (c.trunk == Trunk::dequantized) return;
  // The activation and the pool (and the pool's QuantizeLinear) are another.
  std::multiset<std::string> activation =
      c.trunk == Trunk::hard_swish ? std::multiset<std::string>{"HardSwish"}
      : c.trunk == Trunk::swish    ? std::multiset<std::string>{"Sigmoid", "Mul"}
                                   : std::multiset<std::string>{"HardSigmoid", "Mul"};
  activation.insert("GlobalAveragePool");
  if (c.quantized_pool) activation.insert("QuantizeLinear");
  EXPECT_TRUE(has_op(result, activation));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SqueezeExciteGraph,
    ::testing::Combine(
        ::testing::Values(SeCase{Trunk::dequantized, DType::u8, 1},
                          SeCase{Trunk::dequantized, DType::i8, 2},
                          SeCase{Trunk::hard_sigmoid_gate, DType::u8, 1},
                          SeCase{Trunk::hard_sigmoid_gate, DType::i8, 1},
                          SeCase{Trunk::hard_sigmoid_gate, DType::u8, 2},
                          SeCase{Trunk::hard_swish, DType::u8, 1},
                          SeCase{Trunk::swish, DType::u8, 1}, SeCase{Trunk::swish, DType::i8, 2},
                          SeCase{Trunk::hard_sigmoid_gate, DType::u8, 1, false},
                          SeCase{Trunk::hard_sigmoid_gate, DType::u8, 1, true, true},
                          SeCase{Trunk::hard_sigmoid_gate, DType::u8, 2, true, false, true},
                          SeCase{Trunk::dequantized, DType::u8, 1, true, false, true, true},
                          SeCase{Trunk::swish, DType::u8, 1, true, false, false, true}),
        ::testing::Values(1, 2)));

// Mul(DequantizeLinear(q), constant per channel) -> QuantizeLinear: the gate op with the
// constant as its gate.
// Two images, one gate [1, C, 1, 1] for both.
TEST(SqueezeExciteGraph, ConstantGate) {
  QdqBuilder model(23);
  const std::string x = model.input({2, kIn, kSide, kSide});
  const auto input = model.qdq(x, kInputScale, 128);
  const auto conv_q =
      model.qdq(model.conv(input, kIn, kChannels, 3, 1, 1, 1, true), 3.0f / 255.0f, 120);
  const std::string scaled =
      model.node("Mul", {conv_q.name, model.constant({1, kChannels, 1, 1}, -1.0f, 2.0f)});
  const auto y = model.qdq(scaled, 3.0f / 255.0f, 90);
  for (int threads : {1, 2}) {
    const RunResult result = run_both(model.finish(y.name, DType::f32), threads);
    EXPECT_LE(compare(result.onednn, result.reference, 3.0 / 255.0).max_lsb, 1.01);
    EXPECT_TRUE(has_op(result, {"Mul", "QuantizeLinear"}));
  }
}

// A float model's squeeze-and-excitation: x -> 1x1 conv -> swish (t) -> GlobalAveragePool
// -> 1x1 conv -> Relu -> 1x1 conv -> Sigmoid (gate); Mul(t, gate) -> 1x1 conv. The Mul is
// the gate op writing floats wherever t is channels-last, and matches the reference.
TEST(SqueezeExciteGraph, FloatGate) {
  for (std::int64_t batch : {1, 2}) {
    QdqBuilder model(29);
    const std::string x = model.input({batch, kChannels, kSide, kSide});
    const auto as_float = [](const std::string& name) {
      return QdqBuilder::Quantized{name, 1.0f, 0};
    };
    const std::string conv = model.conv(as_float(x), kChannels, kChannels, 1, 1, 0, 1, true);
    const std::string t = model.node("Mul", {conv, model.node("Sigmoid", {conv})});
    const std::string pooled = model.node("GlobalAveragePool", {t});
    const std::string fc1 =
        model.node("Relu", {model.conv(as_float(pooled), kChannels, kSqueezed, 1, 1, 0, 1, true)});
    const std::string gate =
        model.node("Sigmoid", {model.conv(as_float(fc1), kSqueezed, kChannels, 1, 1, 0, 1, true)});
    const std::string gated = model.node("Mul", {t, gate});
    const std::string out = model.conv(as_float(gated), kChannels, kChannels, 1, 1, 0, 1, true);
    for (int threads : {1, 2}) {
      SCOPED_TRACE(::testing::Message() << batch << " images, " << threads << " threads");
      const RunResult result = run_both(model.finish(out, DType::f32), threads);
      EXPECT_TRUE(all_onednn(result));
      EXPECT_LE(compare(result.onednn, result.reference, 1e-4).max_lsb, 1.0);
      EXPECT_TRUE(has_op(result, {"Mul"}));
    }
  }
}

}  // namespace
}  // namespace edgeperf::runtime
