// Transformer building blocks in the oneDNN region: batched MatMul (constant weights
// folded into one GEMM, computed operands with broadcast batch dims), Softmax,
// LayerNormalization and GELU fused into the MatMul. Every step output is checked
// against the reference kernels.
#include <gtest/gtest.h>

#include "onednn_fixture.h"
#include "onednn_models.h"

namespace edgeperf::runtime::testing {
namespace {

struct MatMulCase {
  Shape a, b;
  bool b_constant;
};

TEST(OnednnTransformer, MatMulSweep) {
  const std::vector<MatMulCase> cases = {
      {{1, 7, 16}, {16, 24}, true},         // linear layer, batch 1
      {{7, 3, 16}, {16, 24}, true},         // sequence-first: batch dims fold into rows
      {{2, 3, 5, 16}, {16, 8}, true},       // rank 4
      {{2, 4, 7, 8}, {2, 4, 8, 7}, false},  // attention scores
      {{2, 4, 7, 7}, {1, 4, 7, 8}, false},  // B's batch dim broadcast
      {{3, 5, 8}, {8, 6}, false},           // computed 2-D B against batched A
      {{6, 8}, {8, 5}, false},              // 2-D, both computed
      {{2, 6, 8}, {2, 8, 5}, true},         // batched constant B
  };
  for (const MatMulCase& c : cases) {
    for (int threads : {1, 2}) {
      ModelBuilder model(c.a);
      std::string b;
      if (c.b_constant) {
        b = model.weight(c.b);
      } else {
        // A computed B: a constant scaled by a scalar computed from x.
        const std::string peak =
            model.node("ReduceMax", {model.x}, {{"keepdims", std::int64_t{0}}});
        b = model.node("Mul", {model.weight(c.b), peak});
      }
      const std::string y = model.node("MatMul", {model.node("Relu", {model.x}), b});
      const Evaluated evaluated = evaluate(model.finish(y));
      const Lowered lowered = lower_and_check(evaluated, threads);
      // The MatMul (the last node) runs in a oneDNN step.
      ASSERT_FALSE(lowered.steps.empty());
      EXPECT_EQ(lowered.steps.back().nodes.back(), evaluated.lowering.nodes.size() - 1)
          << ::testing::PrintToString(c.a) << " x " << ::testing::PrintToString(c.b);
      EXPECT_EQ(lowered.steps.back().backend, "onednn");
    }
  }
}

TEST(OnednnTransformer, GeluFusesIntoTheMatMul) {
  for (const char* approximate : {"none", "tanh"}) {
    ModelBuilder model({1, 9, 16});
    const std::string h = model.node("MatMul", {model.x, model.weight({16, 32})});
    const std::string y = model.node("Gelu", {h}, {{"approximate", std::string(approximate)}});
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated);
    expect_single_region(evaluated, lowered);
    EXPECT_EQ(primitive_count(lowered.steps[0]), 1) << approximate;
  }
}

TEST(OnednnTransformer, BiasAddAndGeluFuseIntoTheMatMul) {
  for (const Shape& bias : {Shape{32}, Shape{1, 1, 32}}) {
    ModelBuilder model({2, 9, 16});
    const std::string h = model.node("MatMul", {model.x, model.weight({16, 32})});
    const std::string y = model.node("Gelu", {model.node("Add", {model.weight(bias), h})});
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated);
    expect_single_region(evaluated, lowered);
    EXPECT_EQ(primitive_count(lowered.steps[0]), 1);
  }
}

// A 2-D MatMul, or a Gemm without C, runs as an inner product: the Add of a constant
// vector after it (torch's Linear, the int4 rewrite's MatMulNBits + Add) becomes its bias,
// and the Relu after that a post-op.
TEST(OnednnTransformer, TwoDimensionalMatMulAbsorbsItsBiasAdd) {
  for (const char* op : {"MatMul", "Gemm"}) {
    for (const Shape& bias : {Shape{32}, Shape{1, 32}}) {
      ModelBuilder model({4, 16});
      const std::string h = model.node(op, {model.x, model.weight({16, 32})});
      const std::string y = model.node("Relu", {model.node("Add", {h, model.weight(bias)})});
      const Evaluated evaluated = evaluate(model.finish(y));
      const Lowered lowered = lower_and_check(evaluated);
      expect_single_region(evaluated, lowered);
      EXPECT_EQ(primitive_count(lowered.steps[0]), 1) << op << " " << bias.size();
    }
  }
}

TEST(OnednnTransformer, SoftmaxOverEveryAxis) {
  for (std::int64_t axis : {-1, 1, 2, 0}) {
    ModelBuilder model({2, 3, 5, 7});
    const std::string y = model.node("Softmax", {model.node("Relu", {model.x})}, {{"axis", axis}});
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated);
    expect_single_region(evaluated, lowered);
  }
  ModelBuilder model({2, 3, 5});
  const std::string y = model.node("LogSoftmax", {model.node("Relu", {model.x})});
  const Evaluated evaluated = evaluate(model.finish(y));
  expect_single_region(evaluated, lower_and_check(evaluated));
}

TEST(OnednnTransformer, LayerNormalizationWithAndWithoutBias) {
  for (bool bias : {true, false}) {
    for (std::int64_t axis : {-1, 1}) {
      ModelBuilder model({2, 6, 16});
      const Shape params = axis == -1 ? Shape{16} : Shape{6, 16};
      std::vector<std::string> inputs = {model.node("Relu", {model.x}), model.weight(params)};
      if (bias) inputs.push_back(model.weight(params));
      const std::string y =
          model.node("LayerNormalization", inputs, {{"axis", axis}, {"epsilon", 1e-3f}});
      const Evaluated evaluated = evaluate(model.finish(y));
      const Lowered lowered = lower_and_check(evaluated);
      SCOPED_TRACE(std::string(bias ? "bias" : "no bias") + ", axis " + std::to_string(axis));
      expect_single_region(evaluated, lowered);
    }
  }
}

}  // namespace
}  // namespace edgeperf::runtime::testing
