// Elementwise patterns of modern edge CNNs in the oneDNN region: x * gate(x) fused into
// the producing conv (swish, hardswish), squeeze-and-excitation gates, and binary ops
// with broadcast operands. Every step output is checked against the reference kernels.
#include <gtest/gtest.h>

#include "onednn_fixture.h"
#include "onednn_models.h"

namespace edgeperf::runtime::testing {
namespace {

using Ints = std::vector<std::int64_t>;

std::string gated(ModelBuilder& model, const std::string& x, const std::string& gate_op,
                  std::map<std::string, AttrValue> attrs = {}, bool gate_first = false) {
  const std::string gate = model.node(gate_op, {x}, std::move(attrs));
  return gate_first ? model.node("Mul", {gate, x}) : model.node("Mul", {x, gate});
}

TEST(OnednnElementwise, ConvSwishIsOnePostOp) {
  for (bool gate_first : {false, true}) {
    ModelBuilder model({1, 8, 12, 12});
    const std::string conv = model.conv(model.x, 8, 16, 3, {{"pads", Ints{1, 1, 1, 1}}});
    const Evaluated evaluated =
        evaluate(model.finish(gated(model, conv, "Sigmoid", {}, gate_first)));
    const Lowered lowered = lower_and_check(evaluated);
    expect_single_region(evaluated, lowered);
    // Region input reorder (at most), the conv with swish, output reorder.
    EXPECT_LE(primitive_count(lowered.steps[0]), 3) << "gate first: " << gate_first;
    for (const KernelPart& part : lowered.steps[0].kernel->parts()) EXPECT_FALSE(part.int8);
  }
}

// The parts whose implementation names `text`: "+ edgeperf swish" for a conv with our
// swish after its primitive (output_tail.h), "pixel parts" for one run in parts.
int parts_naming(const Lowered& lowered, const std::string& text) {
  int count = 0;
  for (const Step& step : lowered.steps) {
    for (const KernelPart& part : step.kernel->parts()) {
      count += part.implementation.find(text) != std::string::npos ? 1 : 0;
    }
  }
  return count;
}

TEST(OnednnElementwise, SmallConvSwishStaysAPostOp) {
  ModelBuilder model({1, 8, 12, 12});
  const std::string conv = model.conv(model.x, 8, 16, 3, {{"pads", Ints{1, 1, 1, 1}}});
  const Lowered lowered = lower_and_check(evaluate(model.finish(gated(model, conv, "Sigmoid"))));
  EXPECT_EQ(parts_naming(lowered, "+ edgeperf swish"), 0);
}

// Outputs of 24 channels (not a multiple of the 16-lane blocks, so a blocked layout has
// padding) at 40 x 40, and at 23 x 37 in a batch of 2 (pixel counts that split unevenly),
// from a 1x1 conv, a depthwise conv and a 1x1 conv with a residual Add before the gate.
// On one thread each runs our swish after its primitive; on two the pointwise ones run
// in pixel parts with our swish on each (pixel_parts.h) and the depthwise one keeps the
// post-op (see ops/conv.cpp).
TEST(OnednnElementwise, LargeConvSwishRunsOursAfterThePrimitive) {
  for (const Shape& input : {Shape{1, 16, 40, 40}, Shape{2, 16, 23, 37}}) {
    for (int threads : {1, 2}) {
      ModelBuilder model(input);
      const std::string expanded = gated(model, model.conv(model.x, 16, 24, 1), "Sigmoid");
      const std::string depthwise =
          gated(model,
                model.conv(expanded, 24, 24, 3,
                           {{"pads", Ints{1, 1, 1, 1}}, {"group", std::int64_t{24}}}),
                "Sigmoid", {}, true);
      const std::string residual = model.node("Add", {model.conv(depthwise, 24, 24, 1), expanded});
      const Evaluated evaluated = evaluate(model.finish(gated(model, residual, "Sigmoid")));
      const Lowered lowered = lower_and_check(evaluated, threads);
      SCOPED_TRACE(::testing::Message()
                   << ::testing::PrintToString(input) << threads << " threads");
      expect_single_region(evaluated, lowered);
      EXPECT_EQ(parts_naming(lowered, "+ edgeperf swish"), threads == 1 ? 3 : 2);
      EXPECT_EQ(parts_naming(lowered, "pixel parts"), threads == 1 ? 0 : 2);
    }
  }
}

// x * sigmoid(x) on a region input, which no op before it takes: one custom op of ours
// (ops/swish.cpp), no eltwise or binary primitive.
TEST(OnednnElementwise, StandaloneSwishIsOnePassOfOurs) {
  for (int threads : {1, 2}) {
    ModelBuilder model({1, 24, 9, 9});
    const std::string y = model.conv(gated(model, model.x, "Sigmoid"), 24, 16, 1);
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated, threads);
    SCOPED_TRACE(::testing::Message() << threads << " threads");
    expect_single_region(evaluated, lowered);
    int custom = 0;
    for (const KernelPart& part : lowered.steps[0].kernel->parts()) {
      EXPECT_NE(part.kind, "eltwise");
      EXPECT_NE(part.kind, "binary");
      custom += part.kind == "custom" ? 1 : 0;
    }
    EXPECT_EQ(custom, 1);
  }
}

TEST(OnednnElementwise, SwishWhoseGateIsAlsoAnOutputStaysCorrect) {
  ModelBuilder model({1, 24, 9, 9});
  const std::string gate = model.node("Sigmoid", {model.x});
  const std::string y = model.node("Mul", {model.x, gate});
  const Evaluated evaluated = evaluate(model.finish(std::vector<std::string>{y, gate}));
  lower_and_check(evaluated);
}

TEST(OnednnElementwise, HardSigmoidTimesXIsHardSwish) {
  ModelBuilder model({1, 16, 10, 10});
  const std::string conv = model.conv(model.x, 16, 16, 1);
  const std::string y = gated(model, conv, "HardSigmoid", {{"alpha", 1.0f / 6.0f}, {"beta", 0.5f}});
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  expect_single_region(evaluated, lowered);
  EXPECT_LE(primitive_count(lowered.steps[0]), 3);
}

TEST(OnednnElementwise, OtherHardSigmoidConstantsStayCorrect) {
  // Not hardswish: the gate runs as linear + clip and the Mul as a binary op.
  ModelBuilder model({1, 16, 10, 10});
  const std::string conv = model.conv(model.x, 16, 16, 1);
  const std::string y = gated(model, conv, "HardSigmoid", {{"alpha", 0.2f}, {"beta", 0.5f}});
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  expect_single_region(evaluated, lowered);
  EXPECT_GT(primitive_count(lowered.steps[0]), 3);
}

TEST(OnednnElementwise, GateInputReadElsewhereIsNotFused) {
  ModelBuilder model({1, 8, 9, 9});
  const std::string conv = model.conv(model.x, 8, 8, 3, {{"pads", Ints{1, 1, 1, 1}}});
  const std::string y = gated(model, conv, "Sigmoid");
  const Evaluated evaluated = evaluate(model.finish(std::vector<std::string>{y, conv}));
  const Lowered lowered = lower_and_check(evaluated);
  expect_single_region(evaluated, lowered);
}

TEST(OnednnElementwise, SqueezeExcitationStaysInTheRegion) {
  for (int threads : {1, 2}) {
    ModelBuilder model({1, 16, 14, 14});
    const std::string trunk = gated(model, model.conv(model.x, 16, 32, 1), "Sigmoid");
    const std::string pooled = model.node("GlobalAveragePool", {trunk});
    const std::string squeezed = model.node("Relu", {model.conv(pooled, 32, 8, 1)});
    const std::string gate = model.node("Sigmoid", {model.conv(squeezed, 8, 32, 1)});
    const std::string scaled = model.node("Mul", {trunk, gate});
    const std::string y = model.conv(scaled, 32, 16, 1);
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated, threads);
    expect_single_region(evaluated, lowered);
  }
}

struct BinaryCase {
  std::string op;
  Shape other;       // shape of the second operand
  bool constant;     // an initializer, else computed in the region
  bool other_first;  // the broadcast operand is input 0 (Add and Mul only)
};

TEST(OnednnElementwise, BinaryBroadcastSweep) {
  const std::vector<BinaryCase> cases = {
      {"Add", {1, 24, 7, 9}, false, false},
      {"Mul", {1, 24, 7, 9}, false, true},
      {"Sub", {1, 24, 7, 9}, false, false},
      {"Div", {1, 24, 7, 9}, true, false},
      {"Mul", {1, 24, 1, 1}, false, false},
      {"Mul", {1, 24, 1, 1}, false, true},
      {"Add", {1, 24, 1, 1}, false, false},
      {"Sub", {24, 1, 1}, true, false},
      {"Div", {24, 1, 1}, true, false},
      {"Mul", {}, true, false},
      {"Add", {1}, true, true},
      {"Mul", {1, 1, 1, 9}, true, false},
  };
  for (const BinaryCase& c : cases) {
    ModelBuilder model({1, 24, 7, 9});
    const std::string full = model.conv(model.x, 24, 24, 1);
    std::string other;
    if (c.constant) {
      other = model.weight(c.other, 0.5, 1.5);  // away from zero: Div stays well conditioned
    } else if (c.other == Shape{1, 24, 1, 1}) {
      other = model.node("Sigmoid", {model.node("GlobalAveragePool", {full})});
    } else {
      other = model.conv(model.x, 24, 24, 1);
    }
    const std::string y =
        c.other_first ? model.node(c.op, {other, full}) : model.node(c.op, {full, other});
    const Evaluated evaluated = evaluate(model.finish(model.node("Relu", {y})));
    const Lowered lowered = lower_and_check(evaluated);
    SCOPED_TRACE(c.op + " other " + std::to_string(c.other.size()) + "-d");
    expect_single_region(evaluated, lowered);
  }
}

}  // namespace
}  // namespace edgeperf::runtime::testing
