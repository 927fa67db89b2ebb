// The oneDNN backend's int8 paths (QDQ patterns) against the reference backend,
// the oracle: quantized outputs must match exactly or within 1 LSB.
#include <algorithm>
#include <set>

#include "edgeperf/core/cpu_features.h"
#include "qdq_builder.h"

namespace edgeperf::runtime {
namespace {

using namespace qdq_test;  // NOLINT(google-build-using-namespace)

struct ConvCase {
  std::int64_t in_channels, out_channels, kernel, stride, pad, group, size;
};

// Output quantization: ranges wide enough for fan-in-normalized weights.
QdqBuilder::Quantized input_qdq(QdqBuilder& model, const std::string& x, bool zero_point) {
  return zero_point ? model.qdq(x, kInputScale, 128)
                    : model.qdq(x, kInputScale / 2.0f, 0, DType::i8);
}

class Int8ConvSweep : public ::testing::TestWithParam<std::tuple<ConvCase, bool, int>> {};

TEST_P(Int8ConvSweep, MatchesReferenceWithin1Lsb) {
  const auto& [shape, per_channel, activation] = GetParam();
  for (bool zero_point : {true, false}) {
    QdqBuilder model(static_cast<std::uint64_t>(shape.in_channels * 31 + shape.kernel));
    const std::string x = model.input({1, shape.in_channels, shape.size, shape.size});
    const QdqBuilder::Quantized q = input_qdq(model, x, zero_point);
    std::string y = model.conv(q, shape.in_channels, shape.out_channels, shape.kernel, shape.stride,
                               shape.pad, shape.group, per_channel);
    float out_scale = 3.0f / 255.0f;
    std::int32_t out_zero = 128;
    if (activation == 1) y = model.node("Relu", {y});
    if (activation == 2) y = model.clip(y, 0.0f, 0.75f);
    if (activation != 0) out_zero = 0, out_scale = 1.5f / 255.0f;
    const std::string output = model.quantize(y, out_scale, out_zero);
    const RunResult result = run_both(model.finish(output, DType::u8));
    const Comparison diff = compare(result.onednn, result.reference, 1.0);
    EXPECT_LE(diff.max_lsb, 1.0) << "zero point " << zero_point;
    EXPECT_LE(diff.off_by_one, diff.count / 50 + 1) << "zero point " << zero_point;
    EXPECT_TRUE(all_onednn(result)) << result.steps.size() << " steps";
    EXPECT_EQ(result.steps.size(), 1u);
    // int8 weights are packed as bytes, not floats, where int8 products are exact;
    // elsewhere the conv runs in f32 between DequantizeLinear and QuantizeLinear.
    const std::size_t weight_count = static_cast<std::size_t>(
        shape.out_channels * shape.in_channels / shape.group * shape.kernel * shape.kernel);
    if (onednn::cpu_has_vnni()) {
      EXPECT_LT(result.memory.packed_weight_bytes, weight_count * 2 + 4096);
    } else {
      EXPECT_GE(result.memory.packed_weight_bytes, weight_count * 4);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, Int8ConvSweep,
    ::testing::Combine(
        ::testing::Values(ConvCase{3, 16, 3, 2, 1, 1, 17}, ConvCase{16, 32, 1, 1, 0, 1, 9},
                          ConvCase{32, 32, 3, 1, 1, 32, 10}, ConvCase{24, 24, 3, 2, 1, 24, 11},
                          ConvCase{8, 40, 3, 1, 0, 1, 7}, ConvCase{64, 16, 1, 1, 0, 1, 5},
                          // depthwise u8: edgeperf's kernel
                          ConvCase{144, 144, 3, 1, 1, 144, 9}, ConvCase{72, 72, 3, 2, 1, 72, 12},
                          ConvCase{20, 20, 3, 1, 0, 20, 6},
                          // 5x5 and 7x7: edgeperf's wide kernel
                          ConvCase{96, 96, 5, 1, 2, 96, 9}, ConvCase{40, 40, 5, 2, 2, 40, 12},
                          ConvCase{48, 48, 7, 1, 3, 48, 8}),
        ::testing::Bool(), ::testing::Values(0, 1, 2)));

// u8 depthwise convs of 5x5 and 7x7 (MobileNetV3, EfficientNet, ConvNeXt) run on our VNNI
// kernel (depthwise_u8_wide.h) in place of oneDNN's convolution, with the u8 output.
TEST(OnednnInt8, WideDepthwiseRunsOnOurKernel) {
  // CpuFeatures, as the kernel checks it: EDGEPERF_MAX_ISA below avx512_vnni turns it off.
  if (!x86_onednn() || !CpuFeatures::host().avx512_vnni) GTEST_SKIP() << "AVX-512 VNNI only";
  for (std::int64_t kernel : {5, 7}) {
    for (std::int64_t stride : {1, 2}) {
      SCOPED_TRACE(::testing::Message() << kernel << "x" << kernel << " stride " << stride);
      QdqBuilder model(static_cast<std::uint64_t>(kernel * 10 + stride));
      const std::string x = model.input({1, 72, 15, 17});
      const QdqBuilder::Quantized q = model.qdq(x, kInputScale, 128);
      const std::string y =
          model.node("Relu", {model.conv(q, 72, 72, kernel, stride, kernel / 2, 72, true)});
      const RunResult result =
          run_both(model.finish(model.quantize(y, 1.5f / 255.0f, 0), DType::u8));
      EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
      int custom = 0;
      int convolutions = 0;
      for (const StepInfo& step : result.steps) {
        for (const KernelPart& part : step.parts) {
          custom += part.kind == "custom";
          convolutions += part.kind == "convolution";
        }
      }
      EXPECT_EQ(custom, 1);
      EXPECT_EQ(convolutions, 0);
    }
  }
}

int parts_in_pixel_parts(const RunResult& result) {
  int count = 0;
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) {
      count += part.implementation.find("pixel parts") != std::string::npos;
    }
  }
  return count;
}

// On several threads a pointwise int8 conv runs as one primitive per thread over its own
// pixels (pixel_parts.h), odd pixel counts and batches included; a strided or grouped 1x1
// conv, one too small for two threads (kOneThreadMacs) and any conv on one thread stay one
// primitive.
TEST(OnednnInt8, PointwiseConvsRunInPixelPartsOnSeveralThreads) {
  // As the int8 convs: EDGEPERF_MAX_ISA=avx2 leaves oneDNN without exact int8 products.
  if (!x86_onednn() || !CpuFeatures::host().avx512_vnni) GTEST_SKIP() << "AVX-512 VNNI only";
  // The first conv reads the image in the layout oneDNN picks for it, channels-last or
  // not: parts counts between `least` and `most`. The second reads the first's bytes.
  struct Case {
    Shape input;
    std::int64_t stride, group;
    int threads, least, most;
  };
  // 96 -> 128 -> 96 channels: over kOneThreadMacs from 43 pixels up.
  for (const Case& c : {Case{{1, 96, 7, 9}, 1, 1, 2, 1, 2}, Case{{3, 96, 5, 3}, 1, 1, 2, 1, 2},
                        Case{{2, 96, 5, 5}, 1, 1, 3, 1, 2}, Case{{1, 96, 7, 9}, 1, 1, 1, 0, 0},
                        Case{{1, 96, 3, 3}, 1, 1, 2, 0, 0}, Case{{1, 96, 8, 8}, 2, 1, 2, 0, 1},
                        Case{{1, 96, 7, 9}, 1, 4, 2, 0, 1}}) {
    SCOPED_TRACE(::testing::Message()
                 << "batch " << c.input[0] << ", " << c.input[2] << "x" << c.input[3] << ", stride "
                 << c.stride << ", group " << c.group << ", " << c.threads << " threads");
    QdqBuilder model(static_cast<std::uint64_t>(c.input[2] * 7 + c.stride));
    const std::string x = model.input(c.input);
    const std::string first =
        model.node("Relu", {model.conv(model.qdq(x, kInputScale, 128), 96, 128, 1, 1, 0, 1, true)});
    const QdqBuilder::Quantized middle = model.qdq(first, 1.5f / 255.0f, 0);
    const std::string y = model.conv(middle, 128, 96, 1, c.stride, 0, c.group, true);
    const RunResult result =
        run_both(model.finish(model.quantize(y, 3.0f / 255.0f, 128), DType::u8), c.threads, false);
    EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
    EXPECT_GE(parts_in_pixel_parts(result), c.least);
    EXPECT_LE(parts_in_pixel_parts(result), c.most);
  }
}

// 7-bit weights cannot saturate oneDNN's pairwise u8*s8 sums, so they run int8 on every
// CPU, with or without VNNI.
// Debian's arm64 oneDNN 2.6 has no optimized int8 primitives for these patterns (no ACL,
// and its JIT kernels need SVE): it refuses int8 binaries and runs int8 convs as
// reference gemm. The patterns below assert x86 oneDNN's int8 coverage (docs/arm.md).
constexpr const char* kNoArmInt8 =
    "x86 oneDNN's int8 coverage; on arm64 these layers go to the XNNPACK provider (docs/arm.md)";

TEST(OnednnInt8, SevenBitWeightsRunInt8OnEveryCpu) {
  QdqBuilder model(41);
  model.use_seven_bit_weights();
  const std::string x = model.input({1, 16, 9, 9});
  const std::string y = model.conv(input_qdq(model, x, true), 16, 32, 3, 1, 1, 1, true);
  const RunResult result = run_both(model.finish(model.quantize(y, 3.0f / 255.0f, 128), DType::u8));
  EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
  EXPECT_TRUE(all_onednn(result));
  EXPECT_LT(result.memory.packed_weight_bytes, std::size_t{32 * 16 * 9 * 2 + 4096});
}

class Int8GemmSweep : public ::testing::TestWithParam<std::tuple<int, bool, bool>> {};

TEST_P(Int8GemmSweep, MatchesReferenceWithin1Lsb) {
  const auto& [size, per_channel, gemm] = GetParam();
  const std::int64_t k = 16 * size + 3;
  const std::int64_t n = 8 * size + 1;
  for (bool zero_point : {true, false}) {
    QdqBuilder model(static_cast<std::uint64_t>(size));
    const std::string x = model.input({2, k});
    std::string y = model.matmul(input_qdq(model, x, zero_point), k, n, per_channel, gemm);
    y = model.node("Relu", {y});
    const std::string output = model.quantize(y, 1.5f / 255.0f, 0);
    const RunResult result = run_both(model.finish(output, DType::u8));
    const Comparison diff = compare(result.onednn, result.reference, 1.0);
    EXPECT_LE(diff.max_lsb, 1.0);
    EXPECT_TRUE(all_onednn(result));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Int8GemmSweep,
                         ::testing::Combine(::testing::Values(1, 4, 16), ::testing::Bool(),
                                            ::testing::Bool()));

int binaries_in_pixel_parts(const RunResult& result) {
  int count = 0;
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) {
      count +=
          part.kind == "binary" && part.implementation.find("pixel parts") != std::string::npos;
    }
  }
  return count;
}

// Two int8 conv branches joined by DQ -> Add -> (Relu) -> Q, as in a residual block. On
// several threads the Add runs as one primitive per thread over its own pixels.
TEST(OnednnInt8, ResidualAddStaysInt8) {
  if (!x86_onednn()) GTEST_SKIP() << kNoArmInt8;
  struct Case {
    Shape input;
    bool relu;
    int threads;
  };
  for (const Case& c :
       {Case{{1, 16, 8, 8}, false, 1}, Case{{1, 16, 8, 8}, true, 1}, Case{{1, 16, 8, 8}, false, 2},
        Case{{2, 16, 7, 9}, true, 2}, Case{{1, 16, 5, 7}, false, 3}}) {
    SCOPED_TRACE(::testing::PrintToString(c.input) + (c.relu ? " relu, " : ", ") +
                 std::to_string(c.threads) + " threads");
    const bool relu = c.relu;
    QdqBuilder model(3);
    const std::string x = model.input(c.input);
    const QdqBuilder::Quantized q = model.qdq(x, kInputScale, 128);
    const std::string left = model.conv(q, 16, 16, 1, 1, 0, 1, true);
    const QdqBuilder::Quantized left_q = model.qdq(left, 3.0f / 255.0f, 120);
    const std::string right = model.conv(left_q, 16, 16, 3, 1, 1, 16, true);
    const QdqBuilder::Quantized right_q = model.qdq(right, 2.0f / 255.0f, 130);
    std::string sum = model.node("Add", {left_q.name, right_q.name});
    if (relu) sum = model.node("Relu", {sum});
    const std::string output = model
                                   .dequantize(model.quantize(sum, 4.0f / 255.0f, relu ? 0 : 128),
                                               4.0f / 255.0f, relu ? 0 : 128)
                                   .name;
    const RunResult result = run_both(model.finish(output, DType::f32), c.threads, false);
    const Comparison diff = compare(result.onednn, result.reference, 4.0 / 255.0);
    EXPECT_LE(diff.max_lsb, 1.0 + 1e-3);
    EXPECT_TRUE(all_onednn(result));
    EXPECT_EQ(result.steps.size(), 1u);
    EXPECT_EQ(binaries_in_pixel_parts(result), c.threads > 1 ? 1 : 0);
  }
}

// A MatMul of a rank-3 or rank-4 input with 2-D int8 weights (ConvNeXt's pointwise
// layers, transformer projections): one int8 inner product over the folded rows.
TEST(OnednnInt8, BatchedMatMulFoldsIntoOneInt8InnerProduct) {
  for (const Shape& shape : {Shape{2, 5, 16}, Shape{1, 3, 5, 16}}) {
    for (bool per_channel : {false, true}) {
      QdqBuilder model(9);
      const std::string x = model.input(shape);
      const std::string y = model.matmul(model.qdq(x, kInputScale, 128), 16, 8, per_channel, false);
      const std::string output =
          model.dequantize(model.quantize(y, 3.0f / 255.0f, 128), 3.0f / 255.0f, 128).name;
      for (int threads : {1, 2}) {
        const RunResult result = run_both(model.finish(output, DType::f32), threads);
        const Comparison diff = compare(result.onednn, result.reference, 3.0 / 255.0);
        EXPECT_LE(diff.max_lsb, 1.0 + 1e-3) << ::testing::PrintToString(shape);
        std::size_t int8_products = 0;
        for (const StepInfo& step : result.steps) {
          for (const KernelPart& part : step.parts) {
            int8_products += part.kind == "inner_product" && part.int8;
          }
        }
        EXPECT_EQ(int8_products, onednn::cpu_has_vnni() ? 1u : 0u)
            << ::testing::PrintToString(shape);
      }
    }
  }
}

// conv -> Q -> DQ -> x * gate(x) -> Q: the gated activation between quantized convs, as
// quantizers write MobileNetV3's hardswish and EfficientNet's SiLU.
graph::Graph gated_activation_model(const std::string& gate, DType type, bool gate_escapes) {
  QdqBuilder model(7);
  const std::string x = model.input({1, 16, 8, 8});
  const std::string conv = model.conv(model.qdq(x, kInputScale, 128), 16, 16, 1, 1, 0, 1, true);
  const std::int32_t zero = type == DType::u8 ? 120 : -8;
  const QdqBuilder::Quantized q = model.qdq(conv, 3.0f / 255.0f, zero, type);
  const std::string gated = model.node(gate, {q.name});
  const std::string product = model.node("Mul", {q.name, gated});
  std::string output =
      model
          .dequantize(model.quantize(product, 2.0f / 255.0f, zero, type), 2.0f / 255.0f, zero, type)
          .name;
  if (gate_escapes) output = model.node("Add", {output, gated});
  return model.finish(output, DType::f32);
}

std::size_t custom_parts(const RunResult& result) {
  std::size_t count = 0;
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) count += part.kind == "custom";
  }
  return count;
}

// Custom ops that run a node of type `op`.
std::size_t custom_parts_with(const RunResult& result, const std::string& op) {
  std::size_t count = 0;
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) {
      count += part.kind == "custom" &&
               std::any_of(part.nodes.begin(), part.nodes.end(),
                           [&](std::size_t node) { return step.ops.at(node) == op; });
    }
  }
  return count;
}

// The DQ -> gate, Mul -> Q subgraph runs as one 256-entry table on the int8 values.
TEST(OnednnInt8, GatedActivationBetweenQuantizedConvsIsOneTable) {
  for (const char* gate : {"HardSigmoid", "Sigmoid"}) {
    for (DType type : {DType::u8, DType::i8}) {
      for (int threads : {1, 2}) {
        const RunResult result = run_both(gated_activation_model(gate, type, false), threads);
        const Comparison diff = compare(result.onednn, result.reference, 2.0 / 255.0);
        EXPECT_LE(diff.max_lsb, 2.0 + 1e-3) << gate << " " << dtype_name(type);
        EXPECT_EQ(custom_parts(result), 1u) << gate << " " << dtype_name(type);
        for (const StepInfo& step : result.steps) {
          for (const KernelPart& part : step.parts) {
            EXPECT_NE(part.kind, "eltwise") << gate;
            EXPECT_NE(part.kind, "binary") << gate;
          }
        }
      }
    }
  }
}

// A value of the subgraph read elsewhere must exist in f32: no table then.
TEST(OnednnInt8, GatedActivationWithAnEscapingValueIsNotATable) {
  const RunResult result = run_both(gated_activation_model("HardSigmoid", DType::u8, true));
  const Comparison diff = compare(result.onednn, result.reference, 2.0 / 255.0);
  EXPECT_LE(diff.max_lsb, 2.0 + 1e-3);
  EXPECT_EQ(custom_parts(result), 0u);
}

std::size_t parts_of_kind(const RunResult& result, const std::string& kind) {
  std::size_t count = 0;
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) count += part.kind == kind;
  }
  return count;
}

// conv -> Q -> DQ -> x * sigmoid(x) in f32, as EfficientNet's SiLU before its
// squeeze-and-excitation pool: one pass of ours from the int8 values (ops/swish.cpp), no
// f32 copy of x. When x is read elsewhere too, the pass reads x's f32 copy instead.
graph::Graph dequantized_swish_model(DType type, bool x_escapes) {
  QdqBuilder model(9);
  const std::string input = model.input({1, 16, 8, 8});
  const std::string conv = model.conv(model.qdq(input, kInputScale, 128), 16, 16, 1, 1, 0, 1, true);
  const QdqBuilder::Quantized q =
      model.qdq(conv, 3.0f / 255.0f, type == DType::u8 ? 120 : -8, type);
  const std::string product = model.node("Mul", {q.name, model.node("Sigmoid", {q.name})});
  const std::string pooled = model.node("GlobalAveragePool", {product});
  std::string output = model.node("Mul", {product, pooled});
  if (x_escapes) output = model.node("Add", {output, q.name});
  return model.finish(output, DType::f32);
}

TEST(OnednnInt8, SwishOfADequantizedValueReadsTheInt8Values) {
  for (DType type : {DType::u8, DType::i8}) {
    for (int threads : {1, 2}) {
      std::size_t reorders[2] = {0, 0};
      for (bool x_escapes : {false, true}) {
        const RunResult result = run_both(dequantized_swish_model(type, x_escapes), threads);
        SCOPED_TRACE(::testing::Message() << dtype_name(type) << (x_escapes ? " x escapes " : " ")
                                          << threads << " threads");
        const Comparison diff = compare(result.onednn, result.reference, 1e-4);
        EXPECT_LE(diff.max_lsb, 1.0);
        // The swish is one op (the Mul by the pooled gate may be another: the float gate
        // of ops/int8_squeeze_excite.cpp).
        EXPECT_EQ(custom_parts_with(result, "Sigmoid"), 1u);
        EXPECT_EQ(parts_of_kind(result, "eltwise"), 0u);
        reorders[x_escapes ? 1 : 0] = parts_of_kind(result, "reorder");
      }
      // The f32 copy of x is a reorder, made only when x escapes (x86: arm64's oneDNN
      // lays the int8 values out otherwise and adds reorders of its own).
      if (x86_onednn()) {
        EXPECT_EQ(reorders[1], reorders[0] + 1) << dtype_name(type) << " " << threads << " threads";
      }
    }
  }
}

// x * gate -> Q -> DQ -> conv, as EfficientNet's squeeze-and-excitation product before
// its projection: the binary op writes the quantized value itself (ops/binary.cpp), no
// f32 product and reorder. When the product is read elsewhere too, it stays f32.
graph::Graph gated_product_model(DType type, bool product_escapes) {
  QdqBuilder model(13);
  const std::string x = model.input({1, 16, 9, 9});
  const std::string gate = model.node("Sigmoid", {model.node("GlobalAveragePool", {x})});
  const std::string product = model.node("Mul", {x, gate});
  const QdqBuilder::Quantized q =
      model.qdq(product, kInputScale, type == DType::u8 ? 128 : 0, type);
  std::string output = model.quantize(model.conv(q, 16, 8, 1, 1, 0, 1, true), 3.0f / 255.0f, 128);
  if (product_escapes) {
    output = model.quantize(
        model.node("Add",
                   {model.dequantize(output, 3.0f / 255.0f, 128).name,
                    model.node("ReduceMean", {product}, {{"axes", std::vector<std::int64_t>{1}}})}),
        3.0f / 255.0f, 128);
  }
  return model.finish(output, DType::u8);
}

// Whether the Mul of the run's oneDNN regions took a QuantizeLinear into its op.
bool mul_writes_quantized(const RunResult& result) {
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) {
      std::set<std::string> ops;
      for (std::size_t node : part.nodes) ops.insert(step.ops[node]);
      if (ops.count("Mul") > 0) return ops.count("QuantizeLinear") > 0;
    }
  }
  return false;
}

TEST(OnednnInt8, AProductOnlyQuantizeLinearReadsIsWrittenQuantized) {
  if (!x86_onednn()) GTEST_SKIP() << kNoArmInt8;
  for (DType type : {DType::u8, DType::i8}) {
    for (int threads : {1, 2}) {
      for (bool escapes : {false, true}) {
        const RunResult result = run_both(gated_product_model(type, escapes), threads);
        SCOPED_TRACE(::testing::Message()
                     << dtype_name(type) << (escapes ? " escapes " : " ") << threads << " threads");
        const Comparison diff = compare(result.onednn, result.reference, 1.0);
        EXPECT_LE(diff.max_lsb, 1.0);
        EXPECT_LE(diff.off_by_one, diff.count / 50 + 1);
        EXPECT_EQ(mul_writes_quantized(result), !escapes);
      }
    }
  }
}

// DQ -> BatchNormalization -> Relu -> Q: one binary op from the int8 source to the int8
// output, the dequantization folded into the per-channel factors.
TEST(OnednnInt8, StandaloneBatchNormRunsOnInt8) {
  if (!x86_onednn()) GTEST_SKIP() << kNoArmInt8;
  for (DType type : {DType::u8, DType::i8}) {
    QdqBuilder model(11);
    const std::string x = model.input({1, 24, 6, 6});
    const QdqBuilder::Quantized q = type == DType::u8 ? model.qdq(x, kInputScale, 128)
                                                      : model.qdq(x, kInputScale, 0, DType::i8);
    const std::string bn =
        model.node("BatchNormalization",
                   {q.name, model.constant({24}, 0.5f, 1.5f), model.constant({24}, -0.5f, 0.5f),
                    model.constant({24}, -0.2f, 0.2f), model.constant({24}, 0.5f, 2.0f)});
    const std::string relu = model.node("Relu", {bn});
    const std::string output =
        model.dequantize(model.quantize(relu, 3.0f / 255.0f, 0), 3.0f / 255.0f, 0).name;
    const RunResult result = run_both(model.finish(output, DType::f32));
    const Comparison diff = compare(result.onednn, result.reference, 3.0 / 255.0);
    EXPECT_LE(diff.max_lsb, 1.0 + 1e-3) << dtype_name(type);
    std::size_t int8_binaries = 0;
    for (const StepInfo& step : result.steps) {
      for (const KernelPart& part : step.parts) int8_binaries += part.kind == "binary" && part.int8;
    }
    EXPECT_EQ(int8_binaries, 1u) << dtype_name(type);
  }
}

// DequantizeLinear of int8 weights folds to f32 weights at plan time; once the int8
// conv packed the int8 ones, the f32 copy is freed. The reference backend reads it.
TEST(OnednnInt8, FoldedWeightsNoStepReadsAreFreed) {
  QdqBuilder model(5);
  const std::string x = model.input({1, 16, 8, 8});
  const std::string conv = model.conv(model.qdq(x, kInputScale, 128), 16, 32, 3, 1, 1, 1, true);
  const graph::Graph graph = model.finish(
      model.dequantize(model.quantize(conv, 3.0f / 255.0f, 120), 3.0f / 255.0f, 120).name,
      DType::f32);
  SessionOptions options;
  options.backend = BackendKind::reference;
  const Session reference(graph, options);
  EXPECT_GE(reference.memory_plan().folded_constant_bytes, 32u * 16 * 9 * 4);
  if (!onednn::cpu_has_vnni()) return;  // full-range weights run in f32 there
  options.backend = BackendKind::onednn;
  const Session onednn(graph, options);
  EXPECT_EQ(onednn.memory_plan().folded_constant_bytes, 0u);
}

// Large int8 weights behind DequantizeLinear are never dequantized: the int8 conv packs
// them from the int8 initializer, and the f32 fold stays a zero-page placeholder.
TEST(OnednnInt8, LargeFoldedWeightsAreNeverComputed) {
  if (!onednn::cpu_has_vnni()) GTEST_SKIP() << "full-range weights run in f32 without VNNI";
  QdqBuilder model(6);
  const std::string x = model.input({1, 64, 8, 8});
  const std::string conv = model.conv(model.qdq(x, kInputScale, 128), 64, 64, 3, 1, 1, 1, true);
  const RunResult result = run_both(model.finish(
      model.dequantize(model.quantize(conv, 3.0f / 255.0f, 120), 3.0f / 255.0f, 120).name,
      DType::f32));
  EXPECT_GE(result.memory.deferred_fold_bytes, 64u * 64 * 9 * 4);
  EXPECT_LE(compare(result.onednn, result.reference, 3.0 / 255.0).max_lsb, 1.0 + 1e-3);
}

// Weight-only quantization: an f32 conv reads the dequantized weights, so the plan
// computes the deferred fold and lowers again; the result matches the reference.
TEST(OnednnInt8, WeightOnlyQuantizedConvComputesItsDeferredWeights) {
  QdqBuilder model(7);
  const std::string x = model.input({1, 64, 8, 8});
  const auto [w, scales] = model.weights({64, 64, 3, 3}, true);
  const std::string conv =
      model.node("Conv", {x, w}, {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}});
  const RunResult result = run_both(model.finish(conv, DType::f32));
  EXPECT_EQ(result.memory.deferred_fold_bytes, 0u);
  const std::vector<double> got = result.onednn.to_doubles();
  const std::vector<double> want = result.reference.to_doubles();
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-3) << i;
}

TEST(OnednnInt8, ConvPartsAreMarkedInt8ForTheRoofline) {
  if (!x86_onednn()) GTEST_SKIP() << kNoArmInt8;
  QdqBuilder model(5);
  const std::string x = model.input({1, 16, 8, 8});
  const QdqBuilder::Quantized q = model.qdq(x, kInputScale, 128);
  const std::string conv = model.conv(q, 16, 16, 1, 1, 0, 1, true);
  const std::string output =
      model.dequantize(model.quantize(conv, 3.0f / 255.0f, 120), 3.0f / 255.0f, 120).name;
  const RunResult result = run_both(model.finish(output, DType::f32));
  int convolutions = 0;
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) {
      if (part.kind != "convolution") continue;
      ++convolutions;
      EXPECT_TRUE(part.int8) << part.implementation;
    }
  }
  EXPECT_EQ(convolutions, 1);
}

TEST(OnednnInt8, PoolsRunOnInt8) {
  for (const char* op : {"GlobalAveragePool", "MaxPool", "AveragePool"}) {
    QdqBuilder model(5);
    const std::string x = model.input({1, 32, 9, 9});
    const QdqBuilder::Quantized q = model.qdq(x, kInputScale, 128);
    const std::string conv = model.conv(q, 32, 32, 1, 1, 0, 1, false);
    const QdqBuilder::Quantized conv_q = model.qdq(conv, 3.0f / 255.0f, 127);
    std::map<std::string, AttrValue> attrs;
    if (std::string(op) != "GlobalAveragePool") {
      attrs = {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
               {"strides", std::vector<std::int64_t>{2, 2}},
               {"pads", std::vector<std::int64_t>{1, 1, 1, 1}}};
    }
    const std::string pooled = model.node(op, {conv_q.name}, attrs);
    const std::string output = model.quantize(pooled, 2.0f / 255.0f, 125);
    const RunResult result = run_both(model.finish(output, DType::u8));
    const Comparison diff = compare(result.onednn, result.reference, 1.0);
    EXPECT_LE(diff.max_lsb, 1.0) << op;
    EXPECT_TRUE(all_onednn(result)) << op;
  }
}

// A MaxPool of channels-last bytes runs on our kernel (max_pool_bytes.h): with the input's
// quantization, or another one (a requantizing table), u8 and s8, floor and ceil mode, on
// 1 and 2 threads. The pool itself is exact; the conv before it is within 1 LSB.
TEST(OnednnInt8, MaxPoolOfBytesRunsOnOurKernel) {
  if (!x86_onednn()) GTEST_SKIP() << kNoArmInt8;
  struct Case {
    bool same_quantization, is_signed;
    std::int64_t ceil_mode, kernel, stride, pad;
    int threads;
  };
  for (const Case& c : {Case{true, false, 0, 3, 2, 1, 1}, Case{false, false, 1, 3, 2, 0, 2},
                        Case{true, true, 1, 2, 2, 0, 2}, Case{false, true, 0, 3, 1, 1, 1}}) {
    SCOPED_TRACE(::testing::Message()
                 << (c.same_quantization ? "same" : "other") << " quantization, "
                 << (c.is_signed ? "s8" : "u8") << ", ceil " << c.ceil_mode << ", kernel "
                 << c.kernel << ", stride " << c.stride << ", pad " << c.pad << ", " << c.threads
                 << " threads");
    QdqBuilder model(static_cast<std::uint64_t>(c.kernel * 3 + c.stride));
    const std::string x = model.input({2, 24, 11, 10});
    const std::string conv = model.conv(model.qdq(x, kInputScale, 128), 24, 40, 1, 1, 0, 1, true);
    const DType type = c.is_signed ? DType::i8 : DType::u8;
    const QdqBuilder::Quantized conv_q =
        model.qdq(conv, 3.0f / 255.0f, c.is_signed ? 0 : 127, type);
    const std::int64_t k = c.kernel, p = c.pad, s = c.stride;
    const std::string pooled = model.node("MaxPool", {conv_q.name},
                                          {{"kernel_shape", std::vector<std::int64_t>{k, k}},
                                           {"strides", std::vector<std::int64_t>{s, s}},
                                           {"pads", std::vector<std::int64_t>{p, p, p, p}},
                                           {"ceil_mode", c.ceil_mode}});
    const float out_scale = c.same_quantization ? conv_q.scale : 2.0f / 255.0f;
    const std::int32_t out_zero =
        c.same_quantization ? conv_q.zero_point : (c.is_signed ? -5 : 120);
    const RunResult result = run_both(
        model.finish(model.quantize(pooled, out_scale, out_zero, type), type), c.threads, false);
    EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
    int ours = 0;
    for (const StepInfo& step : result.steps) {
      for (const KernelPart& part : step.parts) {
        ours += part.implementation.find("edgeperf max pool") != std::string::npos;
      }
    }
    EXPECT_EQ(ours, 1);
  }
}

// ConvNeXt's LayerNorm between quantized ops: the int8 conv's bytes read through the
// NCHW -> NHWC Transpose, normalized and quantized in one pass of ours
// (layer_norm_bytes.h), u8 or s8 out, with and without a bias, on 1 and 2 threads.
TEST(OnednnInt8, LayerNormOfBytesRunsOnOurKernel) {
  if (!x86_onednn()) GTEST_SKIP() << kNoArmInt8;
  for (int variant = 0; variant < 4; ++variant) {
    const bool bias = variant % 2 == 0;
    const DType out_type = variant < 2 ? DType::u8 : DType::i8;
    SCOPED_TRACE(::testing::Message() << "variant " << variant);
    QdqBuilder model(static_cast<std::uint64_t>(60 + variant), 17);
    const std::string x = model.input({1, 48, 6, 7});
    const std::string conv = model.conv(model.qdq(x, kInputScale, 128), 48, 96, 1, 1, 0, 1, true);
    const QdqBuilder::Quantized conv_q = model.qdq(conv, 3.0f / 255.0f, 128);
    const std::string nhwc =
        model.node("Transpose", {conv_q.name}, {{"perm", std::vector<std::int64_t>{0, 2, 3, 1}}});
    std::vector<std::string> inputs = {nhwc, model.constant({96}, 0.5f, 1.5f)};
    if (bias) inputs.push_back(model.constant({96}, -0.5f, 0.5f));
    const std::string normalized =
        model.node("LayerNormalization", inputs, {{"axis", std::int64_t{-1}}, {"epsilon", 1e-5f}});
    const std::string output =
        model.quantize(normalized, 4.0f / 255.0f, out_type == DType::u8 ? 128 : 0, out_type);
    const RunResult result = run_both(model.finish(output, out_type), 1 + variant % 2, false);
    EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
    int ours = 0;
    for (const StepInfo& step : result.steps) {
      for (const KernelPart& part : step.parts) {
        ours += part.implementation.find("edgeperf layer norm") != std::string::npos;
      }
    }
    EXPECT_EQ(ours, 1);
  }
}

// A classifier head: GAP -> Q/DQ -> Flatten -> Gemm -> Q -> DQ (f32 graph output).
TEST(OnednnInt8, PoolFlattenGemmHead) {
  QdqBuilder model(9);
  const std::string x = model.input({1, 24, 7, 7});
  const QdqBuilder::Quantized q = model.qdq(x, kInputScale, 128);
  const QdqBuilder::Quantized pooled =
      model.qdq(model.node("GlobalAveragePool", {q.name}), kInputScale, 128);
  const std::string flat = model.node("Flatten", {pooled.name}, {{"axis", std::int64_t{1}}});
  const std::string logits =
      model.matmul({flat, pooled.scale, pooled.zero_point}, 24, 10, true, true);
  const std::string output = model.qdq(logits, 3.0f / 255.0f, 128).name;
  const RunResult result = run_both(model.finish(output, DType::f32));
  EXPECT_LE(compare(result.onednn, result.reference, 3.0 / 255.0).max_lsb, 1.0 + 1e-3);
  EXPECT_TRUE(all_onednn(result));
  EXPECT_EQ(result.steps.size(), 1u);
}

// Q(DQ(q)) with the same parameters is the int8 value itself; with others, a requantization.
TEST(OnednnInt8, RequantizeOfDequantized) {
  for (bool same : {true, false}) {
    QdqBuilder model(29);
    const std::string x = model.input({1, 8, 5, 5});
    const QdqBuilder::Quantized q = model.qdq(x, kInputScale, 128);
    const float scale = same ? kInputScale : 3.0f / 255.0f;
    const std::string output = model.quantize(q.name, scale, same ? 128 : 100);
    const RunResult result = run_both(model.finish(output, DType::u8));
    EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
    EXPECT_TRUE(all_onednn(result));
  }
}

// int8 convs around float-only ops in one region: the conv before Sigmoid writes f32,
// the Sigmoid runs in f32, and the next conv is int8 again after Q/DQ.
TEST(OnednnInt8, RegionMixesInt8AndFloatOps) {
  QdqBuilder model(13);
  const std::string x = model.input({1, 8, 6, 6});
  const QdqBuilder::Quantized q = model.qdq(x, kInputScale, 128);
  const std::string conv = model.conv(q, 8, 16, 3, 1, 1, 1, true);
  const std::string sigmoid = model.node("Sigmoid", {conv});
  const QdqBuilder::Quantized sq = model.qdq(sigmoid, 1.0f / 255.0f, 0);
  const std::string conv2 = model.conv(sq, 16, 8, 1, 1, 0, 1, false);
  const std::string output = model.quantize(conv2, 2.0f / 255.0f, 128);
  const RunResult result = run_both(model.finish(output, DType::u8));
  EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
  EXPECT_TRUE(all_onednn(result));
  EXPECT_EQ(result.steps.size(), 1u);
}

// Two threads split the work differently; results stay within 1 LSB.
TEST(OnednnInt8, TwoThreadsMatch) {
  QdqBuilder model(17);
  const std::string x = model.input({1, 16, 12, 12});
  const QdqBuilder::Quantized q = model.qdq(x, kInputScale, 128);
  const std::string conv = model.node("Relu", {model.conv(q, 16, 64, 3, 1, 1, 1, true)});
  const std::string output = model.quantize(conv, 1.5f / 255.0f, 0);
  const RunResult result = run_both(model.finish(output, DType::u8), 2);
  EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
  EXPECT_TRUE(all_onednn(result));
}

// QOperator: QLinearConv -> QLinearConv (int8 in between) and QLinearMatMul.
class QLinearBuilder {
 public:
  explicit QLinearBuilder(std::uint64_t seed) : builder_("qlinear_test"), rng_(seed) {}

  graph::GraphBuilder& graph() { return builder_; }

  std::vector<std::string> params(float scale, std::uint8_t zero_point) {
    return {builder_.initializer("s", make_tensor<float>({}, {scale})),
            builder_.initializer("z", make_tensor<std::uint8_t>({}, {zero_point}))};
  }

  // [w, w_scale, w_zero_point] with per-channel scales along `axis`.
  std::vector<std::string> weights(const Shape& shape, std::int64_t axis, bool per_channel) {
    Tensor values(DType::i8, shape);
    std::uniform_int_distribution<int> uniform(-127, 127);
    for (std::int8_t& value : values.values<std::int8_t>())
      value = static_cast<std::int8_t>(uniform(rng_));
    const std::int64_t channels = per_channel ? shape[static_cast<std::size_t>(axis)] : 1;
    const double fan_in =
        static_cast<double>(element_count(shape) / shape[static_cast<std::size_t>(axis)]);
    std::vector<float> scales;
    for (std::int64_t c = 0; c < channels; ++c) {
      scales.push_back(
          static_cast<float>((0.6 + 0.2 * static_cast<double>(c % 4)) / 127.0 / std::sqrt(fan_in)));
    }
    last_scales_ = scales;
    const Shape scale_shape = per_channel ? Shape{channels} : Shape{};
    return {builder_.initializer("w", values),
            builder_.initializer("ws", make_tensor<float>(scale_shape, scales)),
            builder_.initializer(
                "wz",
                make_tensor<std::int8_t>(
                    scale_shape, std::vector<std::int8_t>(static_cast<std::size_t>(channels), 0)))};
  }

  std::string conv(const std::string& x, float x_scale, std::uint8_t x_zero, std::int64_t in,
                   std::int64_t out, std::int64_t kernel, std::int64_t group, bool per_channel,
                   float y_scale, std::uint8_t y_zero) {
    std::vector<std::string> inputs = {x};
    for (const std::string& name : params(x_scale, x_zero)) inputs.push_back(name);
    for (const std::string& name : weights({out, in / group, kernel, kernel}, 0, per_channel))
      inputs.push_back(name);
    for (const std::string& name : params(y_scale, y_zero)) inputs.push_back(name);
    Tensor bias(DType::i32, {out});
    std::uniform_int_distribution<int> uniform(-3000, 3000);
    for (std::int32_t& value : bias.values<std::int32_t>()) value = uniform(rng_);
    inputs.push_back(builder_.initializer("b", bias));
    const std::int64_t pad = kernel / 2;
    return builder_.node(
        "QLinearConv", inputs,
        {{"pads", std::vector<std::int64_t>{pad, pad, pad, pad}}, {"group", group}});
  }

  std::string matmul(const std::string& a, float a_scale, std::uint8_t a_zero, std::int64_t k,
                     std::int64_t n, bool per_channel, float y_scale, std::uint8_t y_zero) {
    std::vector<std::string> inputs = {a};
    for (const std::string& name : params(a_scale, a_zero)) inputs.push_back(name);
    for (const std::string& name : weights({k, n}, 1, per_channel)) inputs.push_back(name);
    for (const std::string& name : params(y_scale, y_zero)) inputs.push_back(name);
    return builder_.node("QLinearMatMul", inputs);
  }

 private:
  graph::GraphBuilder builder_;
  std::mt19937 rng_;
  std::vector<float> last_scales_;
};

TEST(OnednnInt8, QLinearConvChainMatchesReference) {
  for (bool per_channel : {false, true}) {
    QLinearBuilder model(21);
    const std::string x = model.graph().input("x", DType::f32, fixed_dims({1, 16, 10, 10}));
    const std::vector<std::string> input_params = model.params(kInputScale, 128);
    const std::string q =
        model.graph().node("QuantizeLinear", {x, input_params[0], input_params[1]});
    const std::string c1 =
        model.conv(q, kInputScale, 128, 16, 32, 3, 1, per_channel, 3.0f / 255.0f, 120);
    const std::string c2 =
        model.conv(c1, 3.0f / 255.0f, 120, 32, 32, 3, 32, per_channel, 2.0f / 255.0f, 126);
    model.graph().output(c2, DType::u8, {});
    const RunResult result = run_both(model.graph().build());
    EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
    expect_int8_ops_claimed_where_exact(result, 1);
  }
}

TEST(OnednnInt8, QLinearMatMulMatchesReference) {
  for (bool per_channel : {false, true}) {
    QLinearBuilder model(23);
    const std::string x = model.graph().input("x", DType::f32, fixed_dims({3, 67}));
    const std::vector<std::string> input_params = model.params(kInputScale, 128);
    const std::string q =
        model.graph().node("QuantizeLinear", {x, input_params[0], input_params[1]});
    const std::string y =
        model.matmul(q, kInputScale, 128, 67, 29, per_channel, 2.0f / 255.0f, 125);
    model.graph().output(y, DType::u8, {});
    const RunResult result = run_both(model.graph().build());
    EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1.0);
    expect_int8_ops_claimed_where_exact(result);
  }
}

// ORT's dynamic layout: DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(scale) ->
// Add(bias) -> Relu, one layer after another.
graph::Graph dynamic_mlp(const std::vector<std::int64_t>& widths, bool per_channel,
                         std::int64_t rows) {
  graph::GraphBuilder builder("dynamic_mlp");
  std::string y = builder.input("x", DType::f32, fixed_dims({rows, widths[0]}));
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> uniform(-127, 127);
  for (std::size_t layer = 0; layer + 1 < widths.size(); ++layer) {
    const std::int64_t k = widths[layer];
    const std::int64_t n = widths[layer + 1];
    Tensor weights(DType::i8, {k, n});
    for (std::int8_t& value : weights.values<std::int8_t>())
      value = static_cast<std::int8_t>(uniform(rng));
    std::vector<float> scales;
    for (std::int64_t c = 0; c < (per_channel ? n : 1); ++c) {
      scales.push_back(static_cast<float>((1.0 + 0.1 * static_cast<double>(c % 5)) / 127.0 /
                                          std::sqrt(static_cast<double>(k))));
    }
    const Shape scale_shape = per_channel ? Shape{n} : Shape{};
    const std::vector<std::string> q = builder.node_multi("DynamicQuantizeLinear", {y}, 3);
    const std::string product = builder.node(
        "MatMulInteger", {q[0], builder.initializer("w", weights), q[2],
                          builder.initializer("wz", make_tensor<std::int8_t>({}, {0}))});
    const std::string as_float = builder.node("Cast", {product}, {{"to", std::int64_t{1}}});
    const std::string scale = builder.node(
        "Mul", {q[1], builder.initializer("ws", make_tensor<float>(scale_shape, scales))});
    y = builder.node("Add", {builder.node("Mul", {as_float, scale}),
                             builder.initializer("b", random_tensor(DType::f32, {n}, 3 + layer))});
    if (layer + 2 < widths.size()) y = builder.node("Relu", {y});
  }
  builder.output(y, DType::f32, {});
  return builder.build();
}

TEST(OnednnInt8, DynamicMlpMatchesReference) {
  for (bool per_channel : {false, true}) {
    for (std::int64_t rows : {1, 3}) {
      const RunResult result = run_both(dynamic_mlp({77, 64, 33, 10}, per_channel, rows));
      const double scale = std::max(1.0, static_cast<double>(max_abs(result.reference)));
      EXPECT_LE(compare(result.onednn, result.reference, 1.0).max_lsb, 1e-5 * scale);
      expect_int8_ops_claimed_where_exact(result, 3);
    }
  }
}

// The kernel quantizes like DynamicQuantizeLinear: an all-zero input gives the bias.
TEST(OnednnInt8, DynamicMlpAllZeroInput) {
  const graph::Graph graph = dynamic_mlp({16, 8}, false, 1);
  SessionOptions options;
  options.threads = 1;
  options.backend = BackendKind::onednn;
  Session onednn(graph, options);
  options.backend = BackendKind::reference;
  Session reference(graph, options);
  const std::map<std::string, Tensor> feeds = {{"x", Tensor(DType::f32, {1, 16})}};
  const Tensor expected = reference.run(feeds).begin()->second;
  EXPECT_LE(compare(onednn.run(feeds).begin()->second, expected, 1.0).max_lsb, 1e-6);
}

TEST(OnednnInt8, DynamicMlpRejectsNonFiniteInput) {
  SessionOptions options;
  options.threads = 1;
  options.backend = BackendKind::onednn;
  Session onednn(dynamic_mlp({16, 8}, false, 1), options);
  Tensor x(DType::f32, {1, 16});
  x.values<float>()[3] = NAN;
  EXPECT_THROW(onednn.run({{"x", x}}), Error);
}

}  // namespace
}  // namespace edgeperf::runtime
