#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <limits>

#include "onednn_fixture.h"
#include "onednn_models.h"
#include "region.h"

namespace edgeperf::runtime::testing {
namespace {

struct ConvCase {
  Shape input;
  std::int64_t out_channels;
  std::int64_t kernel;
  std::map<std::string, AttrValue> attrs;
  bool bias = true;
};

std::vector<ConvCase> conv_cases() {
  using Ints = std::vector<std::int64_t>;
  return {
      {{1, 3, 17, 17}, 8, 3, {{"pads", Ints{1, 1, 1, 1}}}},
      {{1, 16, 14, 14}, 32, 1, {}},
      {{2, 16, 9, 11}, 24, 3, {{"strides", Ints{2, 2}}}, false},
      {{1, 24, 10, 10}, 24, 3, {{"group", std::int64_t{24}}, {"pads", Ints{1, 1, 1, 1}}}},
      {{1, 32, 9, 9},
       32,
       3,
       {{"group", std::int64_t{32}}, {"strides", Ints{2, 2}}, {"pads", Ints{0, 0, 1, 1}}}},
      {{1, 8, 12, 12}, 6, 3, {{"group", std::int64_t{2}}, {"pads", Ints{0, 1, 1, 0}}}},
      {{1, 16, 15, 15}, 16, 3, {{"dilations", Ints{2, 2}}, {"pads", Ints{2, 2, 2, 2}}}, false},
      {{1, 5, 13, 7}, 7, 3, {{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2, 2}}}},
      {{1, 5, 13, 7}, 7, 2, {{"auto_pad", std::string("SAME_LOWER")}}},
      {{1, 12, 8, 8}, 20, 5, {{"auto_pad", std::string("VALID")}}},
  };
}

TEST(OnednnBackend, ConvSweepWithActivations) {
  const std::vector<std::string> activations = {"",          "Relu",        "Clip",      "Sigmoid",
                                                "HardSwish", "HardSigmoid", "LeakyRelu", "Tanh"};
  const std::vector<ConvCase> cases = conv_cases();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const ConvCase& c = cases[i];
    // Every case with the common activations, the others on a few cases.
    for (std::size_t a = 0; a < (i < 3 ? activations.size() : 3); ++a) {
      const std::string& activation = activations[a];
      SCOPED_TRACE(::testing::Message() << shape_to_string(c.input) << " oc " << c.out_channels
                                        << " k " << c.kernel << " act '" << activation << "'");
      ModelBuilder model(c.input);
      std::string y = model.conv(model.x, c.input[1], c.out_channels, c.kernel, c.attrs, c.bias);
      if (activation == "Relu") y = model.node("Relu", {y});
      if (activation == "Clip") y = model.relu6(y);
      if (a >= 3) y = model.node(activation, {y});
      const Evaluated evaluated = evaluate(model.finish(y));
      const Lowered lowered = lower_and_check(evaluated);
      expect_single_region(evaluated, lowered);
      // Activation fused: region input reorder (at most), conv, output reorder.
      EXPECT_LE(primitive_count(lowered.steps[0]), 3);
    }
  }
}

TEST(OnednnBackend, ConvBatchNormIsFoldedAndActivationFused) {
  ModelBuilder model({1, 16, 12, 12});
  const std::string conv =
      model.conv(model.x, 16, 32, 3, {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}}, false);
  const std::string y = model.relu6(model.batch_norm(conv, 32));
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  expect_single_region(evaluated, lowered);
  EXPECT_LE(primitive_count(lowered.steps[0]), 3);
}

TEST(OnednnBackend, ResidualAddIsFusedAsSum) {
  using Ints = std::vector<std::int64_t>;
  ModelBuilder model({1, 16, 10, 10});
  const std::string x0 =
      model.node("Relu", {model.conv(model.x, 16, 16, 3, {{"pads", Ints{1, 1, 1, 1}}})});
  const std::string x1 =
      model.node("Relu", {model.conv(x0, 16, 16, 3, {{"pads", Ints{1, 1, 1, 1}}})});
  const std::string x2 = model.batch_norm(model.conv(x1, 16, 16, 1, {}, false), 16);
  const std::string y = model.node("Relu", {model.node("Add", {x2, x0})});
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  expect_single_region(evaluated, lowered);
  // input reorder, three convs (BN, relu, add and relu fused), output reorder.
  EXPECT_LE(primitive_count(lowered.steps[0]), 5);
}

TEST(OnednnBackend, AddOfRegionInputsUsesBinary) {
  ModelBuilder model({1, 16, 6, 6});
  const std::string doubled = model.node("Add", {model.x, model.x});
  const std::string y = model.node("Relu", {model.node("Add", {doubled, model.x})});
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  expect_single_region(evaluated, lowered);
}

graph::Graph mobilenet_v2_like() {
  using Ints = std::vector<std::int64_t>;
  ModelBuilder model({1, 3, 32, 32});
  std::string x = model.relu6(model.batch_norm(
      model.conv(model.x, 3, 24, 3, {{"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}}, false),
      24));
  auto block = [&](const std::string& input, std::int64_t in, std::int64_t out,
                   std::int64_t stride) {
    const std::int64_t hidden = in * 6;
    std::string h =
        model.relu6(model.batch_norm(model.conv(input, in, hidden, 1, {}, false), hidden));
    h = model.relu6(model.batch_norm(
        model.conv(
            h, hidden, hidden, 3,
            {{"group", hidden}, {"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{stride, stride}}},
            false),
        hidden));
    h = model.batch_norm(model.conv(h, hidden, out, 1, {}, false), out);
    return in == out && stride == 1 ? model.node("Add", {h, input}) : h;
  };
  x = block(x, 24, 24, 1);
  x = block(x, 24, 24, 1);
  x = block(x, 24, 32, 2);
  x = model.relu6(model.batch_norm(model.conv(x, 32, 64, 1, {}, false), 64));
  const std::string pooled = model.node("GlobalAveragePool", {x});
  const std::string flat = model.node("Flatten", {pooled}, {{"axis", std::int64_t{1}}});
  const std::string logits = model.node("Gemm", {flat, model.weight({10, 64}), model.weight({10})},
                                        {{"transB", std::int64_t{1}}});
  return model.finish(logits);
}

TEST(OnednnBackend, MobileNetV2BlockChain) {
  const Evaluated evaluated = evaluate(mobilenet_v2_like());
  const Lowered lowered = lower_and_check(evaluated);
  expect_single_region(evaluated, lowered);
  // 11 convs (BN, relu6 and both residual adds fused), pool, flatten reorder, gemm,
  // output reorder; the stem reads the plain input directly.
  EXPECT_LE(primitive_count(lowered.steps[0]), 15);
}

TEST(OnednnBackend, MobileNetV2BlockChainOnTwoThreads) {
  const Evaluated evaluated = evaluate(mobilenet_v2_like());
  const Lowered lowered = lower_and_check(evaluated, 2);
  expect_single_region(evaluated, lowered);
}

TEST(OnednnBackend, PoolingSweep) {
  using Ints = std::vector<std::int64_t>;
  struct PoolCase {
    std::string op;
    Shape input;
    std::map<std::string, AttrValue> attrs;
  };
  const std::vector<PoolCase> cases = {
      {"MaxPool",
       {1, 16, 12, 12},
       {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}},
      {"MaxPool", {1, 3, 9, 9}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}},
      {"MaxPool",
       {1, 8, 9, 9},
       {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"ceil_mode", std::int64_t{1}}}},
      {"AveragePool", {2, 16, 7, 7}, {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}}},
      {"AveragePool",
       {1, 16, 7, 7},
       {{"kernel_shape", Ints{3, 3}},
        {"pads", Ints{1, 1, 1, 1}},
        {"count_include_pad", std::int64_t{1}}}},
      {"AveragePool",
       {1, 16, 8, 8},
       {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"pads", Ints{0, 0, 1, 1}}}},
      {"GlobalAveragePool", {1, 32, 7, 7}, {}},
      {"GlobalAveragePool", {2, 5, 3, 4}, {}},
  };
  for (const PoolCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.op << " " << shape_to_string(c.input));
    ModelBuilder model(c.input);
    const std::string y = model.node(c.op, {model.x}, c.attrs);
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated);
    expect_single_region(evaluated, lowered);
  }
}

// ReduceMean/ReduceMax over exactly H and W (PyTorch's x.mean([2, 3])) is a global pool in
// the region, its axes given as an attribute or (opset 18) an input, keepdims or not.
TEST(OnednnBackend, SpatialReduceIsAGlobalPool) {
  using Ints = std::vector<std::int64_t>;
  for (const std::string op : {"ReduceMean", "ReduceMax"}) {
    for (const Ints& axes : {Ints{2, 3}, Ints{-1, -2}}) {
      for (std::int64_t keepdims : {0, 1}) {
        for (std::int64_t opset : {13, 18}) {
          SCOPED_TRACE(::testing::Message() << op << " axes " << axes[0] << "," << axes[1]
                                            << " keepdims " << keepdims << " opset " << opset);
          ModelBuilder model({2, 20, 5, 7}, opset);
          const std::string trunk = model.node("Relu", {model.conv(model.x, 20, 24, 1)});
          std::map<std::string, AttrValue> attrs = {{"keepdims", keepdims}};
          std::vector<std::string> inputs = {trunk};
          if (opset >= 18) {
            inputs.push_back(model.constant_i64(axes));
          } else {
            attrs["axes"] = axes;
          }
          std::string y = model.node(op, inputs, attrs);
          if (keepdims == 0) {
            y = model.node("Gemm", {y, model.weight({24, 10})});
          }
          const Evaluated evaluated = evaluate(model.finish(y));
          const Lowered lowered = lower_and_check(evaluated);
          expect_single_region(evaluated, lowered);
        }
      }
    }
  }
}

// Other axes are not a pooling: the reference backend runs them, with the same result.
TEST(OnednnBackend, ReduceOverOtherAxesIsNotAPool) {
  using Ints = std::vector<std::int64_t>;
  for (const Ints& axes : {Ints{1, 2}, Ints{3}, Ints{1, 2, 3}}) {
    ModelBuilder model({1, 8, 4, 8});
    const std::string y = model.node("ReduceMean", {model.node("Relu", {model.x})},
                                     {{"axes", axes}, {"keepdims", std::int64_t{0}}});
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated);
    EXPECT_LT(lowered.claimed_nodes, evaluated.lowering.nodes.size());
  }
}

// A Pad of zeros (PyTorch's AvgPool2d export) and Identity pass the value through in its
// layout: the conv, the pass-through and the pool stay one region, with as many
// primitives as without the pass-through (no reorder around it).
TEST(OnednnBackend, IdentityAndZeroPadStayInTheRegion) {
  using Ints = std::vector<std::int64_t>;
  int without_pass_through = -1;
  for (const std::string op : {"none", "Identity", "Pad", "Pad opset 10"}) {
    SCOPED_TRACE(op);
    ModelBuilder model({1, 16, 8, 8}, op == "Pad opset 10" ? 10 : 13);
    std::string passed = model.node("Relu", {model.conv(model.x, 16, 32, 1)});
    if (op == "Identity") {
      passed = model.node("Identity", {passed});
    } else if (op == "Pad") {
      passed = model.node("Pad", {passed, model.constant_i64({0, 0, 0, 0, 0, 0, 0, 0})});
    } else if (op == "Pad opset 10") {
      passed = model.node("Pad", {passed}, {{"pads", Ints{0, 0, 0, 0, 0, 0, 0, 0}}});
    }
    const std::string y = model.node("AveragePool", {passed},
                                     {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}});
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated);
    expect_single_region(evaluated, lowered);
    if (op == "none") without_pass_through = primitive_count(lowered.steps[0]);
    EXPECT_EQ(primitive_count(lowered.steps[0]), without_pass_through);
  }
}

// A Pad that pads is not a pass-through; the reference backend runs it.
TEST(OnednnBackend, PadThatPadsIsNotAnIdentity) {
  ModelBuilder model({1, 4, 6, 6});
  const std::string y = model.node(
      "Pad", {model.node("Relu", {model.x}), model.constant_i64({0, 0, 1, 1, 0, 0, 1, 1})});
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  EXPECT_LT(lowered.claimed_nodes, evaluated.lowering.nodes.size());
}

// A Slice with unit steps stays in the region between convs: ShuffleNet's channel split
// (halves that cut a 16-channel block, taken from the plain layout), block-aligned
// channels, a spatial window, negative starts and INT64_MAX ends, and the attribute form
// of opset 9.
TEST(OnednnBackend, SliceStaysInTheRegion) {
  using Ints = std::vector<std::int64_t>;
  constexpr std::int64_t kEnd = std::numeric_limits<std::int64_t>::max();
  struct SliceCase {
    std::int64_t channels;
    Ints starts, ends, axes;
    std::int64_t opset;
  };
  const std::vector<SliceCase> cases = {
      {116, {58}, {kEnd}, {1}, 13},  {116, {0}, {58}, {1}, 13},        {64, {16}, {48}, {1}, 13},
      {32, {-16}, {kEnd}, {-3}, 13}, {32, {1, 2}, {7, 5}, {2, 3}, 13}, {116, {58}, {116}, {1}, 9},
  };
  for (const SliceCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.channels << " channels, from " << c.starts[0]
                                      << " on axis " << c.axes[0] << ", opset " << c.opset);
    ModelBuilder model({1, 16, 8, 8}, c.opset);
    const std::string trunk = model.node("Relu", {model.conv(model.x, 16, c.channels, 1)});
    std::string sliced;
    if (c.opset >= 10) {
      sliced = model.node("Slice", {trunk, model.constant_i64(c.starts), model.constant_i64(c.ends),
                                    model.constant_i64(c.axes)});
    } else {
      sliced =
          model.node("Slice", {trunk}, {{"starts", c.starts}, {"ends", c.ends}, {"axes", c.axes}});
    }
    const std::string y = model.node("Relu", {sliced});
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated);
    expect_single_region(evaluated, lowered);
  }
}

// Steps other than 1 are left to the reference backend, with the same result.
TEST(OnednnBackend, SliceWithStepsIsNotAWindow) {
  ModelBuilder model({1, 8, 6, 6});
  const std::string y = model.node(
      "Slice", {model.node("Relu", {model.x}), model.constant_i64({0}), model.constant_i64({6}),
                model.constant_i64({2}), model.constant_i64({2})});
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  EXPECT_LT(lowered.claimed_nodes, evaluated.lowering.nodes.size());
}

TEST(OnednnBackend, GemmAndMatMul) {
  for (int variant = 0; variant < 6; ++variant) {
    SCOPED_TRACE(variant);
    ModelBuilder model({3, 40});
    std::string y;
    if (variant == 0) {
      y = model.node("Gemm", {model.x, model.weight({24, 40}), model.weight({24})},
                     {{"transB", std::int64_t{1}}});
    } else if (variant == 1) {
      y = model.node("Gemm", {model.x, model.weight({40, 24}), model.weight({1, 24})});
    } else if (variant == 2) {
      y = model.node("MatMul", {model.x, model.weight({40, 24})});
    } else if (variant == 3) {
      y = model.node("Relu", {model.node("Gemm", {model.x, model.weight({40, 24})})});
    } else {
      // BatchNormalization after a Gemm folds into its weights, the Relu fuses.
      const bool transposed = variant == 5;
      const std::string gemm = model.node(
          "Gemm",
          {model.x, model.weight(transposed ? Shape{24, 40} : Shape{40, 24}), model.weight({24})},
          {{"transB", std::int64_t{transposed}}});
      y = model.node("Relu", {model.batch_norm(gemm, 24)});
    }
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated);
    expect_single_region(evaluated, lowered);
    if (variant >= 4) {
      EXPECT_EQ(primitive_count(lowered.steps[0]), 1);  // the gemm writes the output itself
    }
  }
}

TEST(OnednnBackend, StandaloneBatchNormAndActivations) {
  const std::vector<std::string> ops = {"Relu",        "Sigmoid",   "Tanh", "HardSwish",
                                        "HardSigmoid", "LeakyRelu", "Clip"};
  for (const std::string& op : ops) {
    SCOPED_TRACE(op);
    ModelBuilder model({1, 16, 6, 6});
    const std::string pooled =
        model.node("MaxPool", {model.x}, {{"kernel_shape", std::vector<std::int64_t>{2, 2}}});
    const std::string normalized = model.batch_norm(pooled, 16);
    const std::string y = op == "Clip" ? model.relu6(normalized) : model.node(op, {normalized});
    // Both the pre-activation value and the result are graph outputs: nothing fuses.
    const Evaluated evaluated = evaluate(model.finish(std::vector<std::string>{normalized, y}));
    const Lowered lowered = lower_and_check(evaluated);
    expect_single_region(evaluated, lowered);
  }
}

TEST(OnednnBackend, UnsupportedNodeSplitsRegions) {
  ModelBuilder model({1, 8, 6, 6});
  const std::string a = model.node("Relu", {model.conv(model.x, 8, 8, 1)});
  const std::string b = model.node("Erf", {a});  // no oneDNN primitive
  const std::string y = model.conv(b, 8, 4, 1);
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  ASSERT_EQ(lowered.steps.size(), 2u);
  EXPECT_EQ(lowered.claimed_nodes, evaluated.lowering.nodes.size() - 1);
}

TEST(OnednnBackend, IntermediateReadOutsideIsExported) {
  // The relu output is read both by the next conv (in region) and by the Erf outside.
  ModelBuilder model({1, 16, 5, 5});
  const std::string a = model.node("Relu", {model.conv(model.x, 16, 16, 1)});
  const std::string b = model.conv(a, 16, 16, 1);
  const std::string c = model.node("Erf", {a});
  const std::string y = model.node("Add", {b, c});
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  EXPECT_GE(lowered.steps.size(), 2u);
}

TEST(OnednnBackend, ReportsWorkspaceAndPackedWeights) {
  ModelBuilder model({1, 16, 8, 8});
  const std::string y = model.node("Relu", {model.conv(model.x, 16, 32, 3)});
  const Evaluated evaluated = evaluate(model.finish(y));
  const Lowered lowered = lower_and_check(evaluated);
  ASSERT_EQ(lowered.steps.size(), 1u);
  EXPECT_GE(lowered.steps[0].kernel->packed_weight_bytes(), 32u * 16 * 9 * 4);
  EXPECT_GT(lowered.steps[0].kernel->transient_bytes(), 0u);
}

// Weights of 1 MiB or more read by 64 or more rows are used in place (no packed copy);
// read by fewer rows they are packed. Outputs match the reference either way.
TEST(OnednnBackend, LargeWeightsReadByManyRowsAreNotCopied) {
  constexpr std::size_t kWeightBytes = 512 * 512 * 4;
  for (const auto& [rows, packed] : {std::pair{std::int64_t{128}, false}, {8, true}}) {
    for (int threads : {1, 2}) {
      ModelBuilder model({1, rows, 512});
      const std::string y = model.node("MatMul", {model.x, model.weight({512, 512})});
      const Evaluated evaluated = evaluate(model.finish(y));
      const Lowered lowered = lower_and_check(evaluated, threads);
      ASSERT_EQ(lowered.steps.size(), 1u);
      EXPECT_EQ(lowered.steps[0].kernel->packed_weight_bytes() >= kWeightBytes, packed)
          << rows << " rows";
#if defined(__x86_64__)
      // Row-major weights go to oneDNN's jit GEMM, which packs them once per call.
      if (!packed) {
        const std::vector<KernelPart> parts = lowered.steps[0].kernel->parts();
        ASSERT_EQ(parts.size(), 1u);
        EXPECT_TRUE(parts[0].implementation.starts_with("gemm:jit")) << parts[0].implementation;
      }
#endif
    }
  }
}

// A QLinearMatMul on a 3-D input passes the node-level parse but no op's match (the
// int8 inner product is 2-D): the backend leaves it out before building anything, so
// the regions on either side are built once each.
TEST(OnednnBackend, NodeRejectedByMatchCostsNoRebuild) {
  GraphBuilder builder("match_rejects");
  const std::string scale = builder.initializer("s", make_tensor<float>({}, {0.02f}));
  const std::string zero = builder.initializer("z", make_tensor<std::uint8_t>({}, {128}));
  Tensor weights(DType::i8, {16, 8});
  for (std::size_t i = 0; i < 16 * 8; ++i) {
    weights.values<std::int8_t>()[i] = static_cast<std::int8_t>(static_cast<int>(i % 7) - 3);
  }
  const std::string w = builder.initializer("w", weights);
  const std::string w_scale = builder.initializer("ws", make_tensor<float>({}, {0.01f}));
  const std::string w_zero = builder.initializer("wz", make_tensor<std::int8_t>({}, {0}));
  const auto qlinear_matmul = [&](const std::string& a) {
    return builder.node("QLinearMatMul", {a, scale, zero, w, w_scale, w_zero, scale, zero});
  };
  const std::string x3 = builder.input("x3", DType::f32, fixed_dims({2, 3, 16}));
  const std::string y3 = qlinear_matmul(builder.node("QuantizeLinear", {x3, scale, zero}));
  const std::string x2 = builder.input("x2", DType::f32, fixed_dims({3, 16}));
  const std::string y2 = qlinear_matmul(builder.node("QuantizeLinear", {x2, scale, zero}));
  builder.output(y3, DType::u8, {});
  builder.output(y2, DType::u8, {});
  const Evaluated evaluated = evaluate(builder.build());

  onednn::RegionStats stats;
  const std::vector<bool> taken(evaluated.lowering.nodes.size(), false);
  const std::vector<Step> steps = onednn::lower_regions(evaluated.lowering, taken, &stats);
  EXPECT_EQ(stats.refused, 0u);
  EXPECT_EQ(stats.rebuilds, 0u);
  EXPECT_EQ(stats.regions, 2u);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].nodes, (std::vector<std::size_t>{0}));
  EXPECT_EQ(steps[1].nodes, (std::vector<std::size_t>{2, 3}));
}

std::vector<std::vector<std::size_t>> step_nodes(const std::vector<Step>& steps) {
  std::vector<std::vector<std::size_t>> nodes;
  for (const Step& step : steps) nodes.push_back(step.nodes);
  return nodes;
}

// oneDNN refusing a node (simulated after the node was lowered, so its work, fused
// Relu included, is undone) ends the region before it; the nodes already lowered are
// kept, and the value the refused conv reads becomes a region output.
TEST(OnednnBackend, RefusedNodeEndsTheRegionWithoutRebuild) {
  ModelBuilder model({1, 8, 6, 6});
  const std::string a = model.node("Relu", {model.conv(model.x, 8, 8, 3)});  // nodes 0, 1
  const std::string b = model.node("Relu", {model.conv(a, 8, 8, 1)});        // nodes 2, 3
  const std::string y = model.conv(b, 8, 4, 1);                              // node 4
  const Evaluated evaluated = evaluate(model.finish(y));
  onednn::RegionStats stats;
  const std::vector<bool> taken(evaluated.lowering.nodes.size(), false);
  const Lowered lowered =
      check_steps(evaluated, onednn::lower_regions(evaluated.lowering, taken, &stats,
                                                   [](std::size_t index) { return index == 2; }));
  EXPECT_EQ(stats.refused, 1u);
  EXPECT_EQ(stats.rebuilds, 0u);
  EXPECT_EQ(step_nodes(lowered.steps), (std::vector<std::vector<std::size_t>>{{0, 1}, {3, 4}}));
  EXPECT_EQ(lowered.steps[0].outputs, std::vector<std::string>{a});
}

// When a chain anchored before the refused node already fused a node after it, the
// region cannot end there and is built again without the refused node.
TEST(OnednnBackend, RefusedNodeInsideAFusedChainRebuildsTheRegion) {
  ModelBuilder model({1, 8, 6, 6});
  const std::string a = model.conv(model.x, 8, 8, 1);         // node 0, fuses node 2
  const std::string side = model.node("Sigmoid", {model.x});  // node 1
  const std::string b = model.node("Relu", {a});              // node 2
  const std::string y = model.node("Add", {b, side});         // node 3
  const Evaluated evaluated = evaluate(model.finish(y));
  onednn::RegionStats stats;
  const std::vector<bool> taken(evaluated.lowering.nodes.size(), false);
  const Lowered lowered =
      check_steps(evaluated, onednn::lower_regions(evaluated.lowering, taken, &stats,
                                                   [](std::size_t index) { return index == 1; }));
  EXPECT_EQ(stats.refused, 1u);
  EXPECT_EQ(stats.rebuilds, 1u);
  EXPECT_EQ(step_nodes(lowered.steps), (std::vector<std::vector<std::size_t>>{{0}, {2, 3}}));
}

// Every node of a MobileNetV2-like chain refused in turn (residual sums, folded BNs,
// pool, flatten, gemm): the steps still compute what the reference does, and a node
// that was refused is left to the reference backend.
TEST(OnednnBackend, AnyRefusedNodeKeepsResultsExact) {
  const Evaluated evaluated = evaluate(mobilenet_v2_like());
  const std::size_t count = evaluated.lowering.nodes.size();
  for (std::size_t refused = 0; refused < count; ++refused) {
    SCOPED_TRACE("refused node " + std::to_string(refused));
    onednn::RegionStats stats;
    const Lowered lowered = check_steps(
        evaluated,
        onednn::lower_regions(evaluated.lowering, std::vector<bool>(count, false), &stats,
                              [&](std::size_t index) { return index == refused; }));
    EXPECT_LE(stats.refused, 1u);
    std::size_t covered = 0;  // fused into a chain, a node is never lowered (nor refused) alone
    for (const Step& step : lowered.steps) {
      covered += std::count(step.nodes.begin(), step.nodes.end(), refused);
    }
    EXPECT_EQ(covered, 1 - stats.refused);
  }
}

// x [1, 4, 256] · W [256, 1024], then Relu; W is an initializer only the MatMul reads.
graph::Graph matmul_relu_graph() {
  graph::GraphBuilder builder("matmul_relu");
  const std::string x = builder.input(
      "x", DType::f32, {graph::Dim::fixed(1), graph::Dim::fixed(4), graph::Dim::fixed(256)});
  const std::string w =
      builder.initializer("W", random_tensor(DType::f32, {256, 1024}, 9, 0.5, 1.0));
  const std::string y = builder.node("Relu", {builder.node("MatMul", {x, w})});
  builder.output(y, DType::f32, {});
  return builder.build();
}

// A MatMul whose weight the session lets go releases it once packed; when oneDNN then
// refuses the node, the rollback refills it for the reference backend to read.
TEST(OnednnBackend, RefusedMatMulRefillsTheWeightItReleased) {
  const Evaluated evaluated = evaluate(matmul_relu_graph());
  const Tensor& weights = evaluated.graph.initializers.at("W");
  const Tensor original = weights.clone();
  for (const bool refuse : {false, true}) {
    SCOPED_TRACE(refuse ? "MatMul refused" : "MatMul lowered");
    InitializerReleases releases({"W"});
    LoweringInput input = evaluated.lowering;
    input.releases = &releases;
    const std::vector<bool> taken(input.nodes.size(), false);
    const Lowered lowered = check_steps(
        evaluated, onednn::lower_regions(input, taken, nullptr,
                                         [&](std::size_t index) { return refuse && index == 0; }));
    EXPECT_EQ(releases.released_names(),
              refuse ? std::vector<std::string>{} : std::vector<std::string>{"W"});
    EXPECT_EQ(weights.data<float>()[256 * 512], refuse ? original.data<float>()[256 * 512] : 0.0f);
    releases.refill_all();
    EXPECT_EQ(std::memcmp(weights.raw(), original.raw(), original.nbytes()), 0);
  }
}

}  // namespace
}  // namespace edgeperf::runtime::testing
