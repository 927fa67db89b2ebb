// An int8 MatMul whose quantized output is dequantized into f32 work (a constant Add,
// activations) and quantized again, as quantizers write a Linear's bias and activation:
// one inner product whose post-ops round to the first quantization exactly, against the
// reference backend running every node.
#include <string>

#include "qdq_builder.h"

namespace edgeperf::runtime {
namespace {

using namespace qdq_test;  // NOLINT(google-build-using-namespace)

struct BridgeCase {
  Shape input;        // [..., 16]
  bool per_channel;   // weights
  DType middle_type;  // the first quantization's type
  std::int32_t middle_zero;
  bool scalar_addend;      // one value instead of one per channel
  std::string activation;  // "" for none
};

std::string describe(const BridgeCase& c) {
  return ::testing::PrintToString(c.input) + (c.per_channel ? " per-channel" : " per-tensor") +
         (c.middle_type == DType::u8 ? " u8 " : " s8 ") + std::to_string(c.middle_zero) +
         (c.scalar_addend ? " scalar add " : " channel add ") + c.activation;
}

constexpr float kMiddleScale = 3.0f / 255.0f;
constexpr float kOutputScale = 2.0f / 255.0f;

// x -> Q -> DQ -> MatMul(W) -> Q -> DQ -> Add(c) -> [activation] -> Q -> DQ.
// `escape` also returns the middle dequantized value, which then has two readers.
graph::Graph bridge_model(const BridgeCase& c, bool escape = false) {
  QdqBuilder model(21);
  const std::string x = model.input(c.input);
  const std::string y = model.matmul(model.qdq(x, kInputScale, 128), 16, 8, c.per_channel, false);
  const QdqBuilder::Quantized middle = model.qdq(y, kMiddleScale, c.middle_zero, c.middle_type);
  const std::string addend = model.constant(c.scalar_addend ? Shape{1} : Shape{8}, -0.5f, 0.5f);
  std::string value = model.node("Add", {middle.name, addend});
  if (!c.activation.empty()) value = model.node(c.activation, {value});
  std::string output = model.qdq(value, kOutputScale, 128).name;
  if (escape) output = model.node("Add", {output, middle.name});
  return model.finish(output, DType::f32);
}

std::size_t parts_of_kind(const RunResult& result, const std::string& kind) {
  std::size_t count = 0;
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) count += part.kind == kind;
  }
  return count;
}

TEST(OnednnInt8Bridge, QuantizedMatMulBiasAndActivationAreOneInnerProduct) {
  const std::vector<BridgeCase> cases = {
      {{2, 5, 16}, true, DType::u8, 120, false, "Tanh"},
      {{2, 5, 16}, false, DType::i8, -8, false, "Relu"},
      {{1, 3, 5, 16}, true, DType::i8, 0, true, "Sigmoid"},
      {{2, 5, 16}, true, DType::u8, 128, false, ""},
      {{4, 16}, true, DType::u8, 7, false, "Tanh"},
  };
  for (const BridgeCase& c : cases) {
    for (int threads : {1, 2}) {
      const RunResult result = run_both(bridge_model(c), threads);
      const Comparison diff = compare(result.onednn, result.reference, kOutputScale);
      EXPECT_LE(diff.max_lsb, 1.0 + 1e-3) << describe(c);
      if (!onednn::cpu_has_vnni()) continue;  // full-range weights run in f32
      EXPECT_EQ(parts_of_kind(result, "inner_product"), 1u) << describe(c);
      EXPECT_EQ(parts_of_kind(result, "binary"), 0u) << describe(c);
      EXPECT_EQ(parts_of_kind(result, "eltwise"), 0u) << describe(c);
    }
  }
}

// The first quantization clamps: with a large output scale on the MatMul, many values
// saturate in the middle, and the bridge must saturate them the same way.
TEST(OnednnInt8Bridge, MiddleSaturationMatchesTheReference) {
  QdqBuilder model(5);
  const std::string x = model.input({3, 4, 16});
  const std::string y = model.matmul(model.qdq(x, kInputScale, 128), 16, 8, true, false);
  const float tight = 0.2f / 255.0f;  // the MatMul's outputs reach about +-1
  const QdqBuilder::Quantized middle = model.qdq(y, tight, 100);
  const std::string added = model.node("Add", {middle.name, model.constant({8}, -0.1f, 0.1f)});
  const std::string output = model.qdq(added, 0.5f / 255.0f, 128).name;
  const RunResult result = run_both(model.finish(output, DType::f32));
  const Comparison diff = compare(result.onednn, result.reference, 0.5 / 255.0);
  EXPECT_LE(diff.max_lsb, 1.0 + 1e-3);
}

// With no QuantizeLinear after the Add (ConvNeXt's second Linear: its bias Add is read by a
// Transpose and f32 ops), the inner product writes the f32 sum itself: no f32 copy of its
// int8 output and no binary op.
TEST(OnednnInt8Bridge, BiasAddReadInF32IsTheInnerProductsOutput) {
  for (const BridgeCase& c : {BridgeCase{{2, 5, 16}, true, DType::u8, 120, false, ""},
                              BridgeCase{{1, 3, 5, 16}, false, DType::i8, -8, true, "Relu"}}) {
    QdqBuilder model(9);
    const std::string x = model.input(c.input);
    const std::string y = model.matmul(model.qdq(x, kInputScale, 128), 16, 8, c.per_channel, false);
    const QdqBuilder::Quantized middle = model.qdq(y, kMiddleScale, c.middle_zero, c.middle_type);
    const std::string addend = model.constant(c.scalar_addend ? Shape{1} : Shape{8}, -0.5f, 0.5f);
    std::string value = model.node("Add", {addend, middle.name});
    if (!c.activation.empty()) value = model.node(c.activation, {value});
    const std::string output = model.node("Softmax", {value}, {{"axis", std::int64_t{-1}}});
    for (int threads : {1, 2}) {
      const RunResult result = run_both(model.finish(output, DType::f32), threads);
      const Comparison diff = compare(result.onednn, result.reference, 1.0);
      EXPECT_LE(diff.max_lsb, 1e-5) << describe(c);
      if (!onednn::cpu_has_vnni()) continue;  // full-range weights run in f32
      EXPECT_EQ(parts_of_kind(result, "inner_product"), 1u) << describe(c);
      EXPECT_EQ(parts_of_kind(result, "binary"), 0u) << describe(c);
      EXPECT_EQ(parts_of_kind(result, "eltwise"), 0u) << describe(c);
      EXPECT_EQ(parts_of_kind(result, "reorder"), 1u) << describe(c);  // x's quantization
    }
  }
}

// A middle value read elsewhere too is not fused away; the result is still right.
TEST(OnednnInt8Bridge, EscapingMiddleValueKeepsItsOwnBuffer) {
  const BridgeCase c{{2, 5, 16}, true, DType::u8, 120, false, "Relu"};
  const RunResult result = run_both(bridge_model(c, true));
  const Comparison diff = compare(result.onednn, result.reference, kOutputScale);
  EXPECT_LE(diff.max_lsb, 1.0 + 1e-3);
}

}  // namespace
}  // namespace edgeperf::runtime
