// Layout ops in the oneDNN region: Concat (in the parts' blocked or channels-last layout
// when it fits, plain otherwise) and Transpose (from any layout; a view when it can be,
// onednn_transpose_test.cpp). Every step output is checked against the reference kernels.
#include <gtest/gtest.h>

#include <numeric>

#include "onednn_fixture.h"
#include "onednn_models.h"

namespace edgeperf::runtime::testing {
namespace {

using Ints = std::vector<std::int64_t>;

// A BatchNormalization after a Concat (DenseNet's pre-activation) cannot fold into a conv:
// the Concat applies it, and the activation after it, while it copies the parts (in their
// blocked layout, or plain), so neither the concatenated tensor nor a BN op exists.
TEST(OnednnLayout, ConcatAppliesTheBatchNormAndActivationThatReadIt) {
  struct Case {
    Ints channels;
    std::int64_t kernel;  // 3: the region prefers the blocked layout (Winograd candidates)
    Shape input;
  };
  for (const Case& c : {Case{{16, 32}, 1, {1, 8, 6, 6}}, Case{{3, 5}, 1, {1, 8, 6, 6}},
                        Case{{16, 32}, 3, {2, 8, 14, 14}}, Case{{16, 8}, 3, {1, 8, 14, 14}}}) {
    for (const std::string activation : {"Relu", "LeakyRelu", ""}) {
      for (int threads : {1, 2}) {
        ModelBuilder model(c.input);
        std::vector<std::string> parts;
        std::int64_t total = 0;
        for (std::int64_t channels : c.channels) {
          parts.push_back(model.node("Relu", {model.conv(model.x, 8, channels, c.kernel,
                                                         {{"pads", Ints(4, c.kernel / 2)}})}));
          total += channels;
        }
        const std::string joined = model.node("Concat", parts, {{"axis", std::int64_t{1}}});
        std::string normed = model.batch_norm(joined, total);
        if (activation == "LeakyRelu") {
          normed = model.node("LeakyRelu", {normed}, {{"alpha", 0.2f}});
        } else if (!activation.empty()) {
          normed = model.node(activation, {normed});
        }
        const std::string y =
            model.conv(normed, total, 8, c.kernel, {{"pads", Ints(4, c.kernel / 2)}});
        const Evaluated evaluated = evaluate(model.finish(y));
        SCOPED_TRACE(::testing::PrintToString(c.channels) + " kernel " + std::to_string(c.kernel) +
                     " " + activation + " " + std::to_string(threads) + " threads");
        const Lowered lowered = lower_and_check(evaluated, threads);
        ASSERT_EQ(lowered.steps.size(), 1u);
        for (const KernelPart& part : lowered.steps[0].kernel->parts()) {
          EXPECT_NE(part.kind, "batch_normalization");
          EXPECT_NE(part.kind, "binary");
          EXPECT_NE(part.kind, "eltwise");
          EXPECT_NE(part.kind, "concat");
        }
      }
    }
  }
}

// A BatchNormalization after an activation cannot fold into the conv before it either: it
// runs as one binary multiply with the shift and the Relu as post-ops.
// [N, C] parts (one pixel): the plain layout is channels-last, and the Concat applies the
// BatchNormalization and Relu that read it there too.
TEST(OnednnLayout, ConcatOfRowsAppliesTheBatchNormThatReadsIt) {
  for (const std::int64_t batch : {1, 3}) {
    ModelBuilder model({batch, 8});
    std::vector<std::string> parts;
    for (const std::int64_t channels : {5, 16, 3})
      parts.push_back(
          model.node("Relu", {model.node("MatMul", {model.x, model.weight({8, channels})})}));
    const std::string joined = model.node("Concat", parts, {{"axis", std::int64_t{1}}});
    const std::string normed = model.node("Relu", {model.batch_norm(joined, 24)});
    const Evaluated evaluated =
        evaluate(model.finish(model.node("MatMul", {normed, model.weight({24, 4})})));
    SCOPED_TRACE("batch " + std::to_string(batch));
    const Lowered lowered = lower_and_check(evaluated, 2);
    ASSERT_EQ(lowered.steps.size(), 1u);
    for (const KernelPart& part : lowered.steps[0].kernel->parts()) {
      EXPECT_NE(part.kind, "batch_normalization");
      EXPECT_NE(part.kind, "concat");
    }
  }
}

TEST(OnednnLayout, StandaloneBatchNormIsOneBinaryOpWithItsActivation) {
  for (std::int64_t channels : {16, 5}) {
    for (int threads : {1, 2}) {
      ModelBuilder model({1, 8, 6, 6});
      const std::string activated = model.node("Relu", {model.conv(model.x, 8, channels, 1)});
      const std::string y =
          model.conv(model.node("Relu", {model.batch_norm(activated, channels)}), channels, 8, 1);
      const Evaluated evaluated = evaluate(model.finish(y));
      const Lowered lowered = lower_and_check(evaluated, threads);
      ASSERT_EQ(lowered.steps.size(), 1u);
      std::size_t binaries = 0;
      for (const KernelPart& part : lowered.steps[0].kernel->parts()) {
        EXPECT_NE(part.kind, "batch_normalization");
        EXPECT_NE(part.kind, "eltwise");  // the Relu is a post-op
        binaries += part.kind == "binary";
      }
      EXPECT_EQ(binaries, 1u);
    }
  }
}

TEST(OnednnLayout, ConcatOfConvOutputsStaysInTheRegion) {
  // Channel counts that fill 16-blocks, and ones that do not (plain layout).
  for (const Ints& channels : {Ints{32, 16, 48}, Ints{16, 8}, Ints{3, 5}}) {
    for (std::int64_t axis : {1, -1, 2}) {
      ModelBuilder model({1, 8, 6, 6});
      std::vector<std::string> parts;
      for (std::int64_t c : channels) {
        parts.push_back(model.node("Relu", {model.conv(model.x, 8, c, 1)}));
      }
      if (axis != 1) {
        // Other axes need equal channels: concatenate each part with itself.
        parts = {parts[0], parts[0]};
      }
      const std::string joined = model.node("Concat", parts, {{"axis", axis}});
      const std::int64_t out_channels =
          axis == 1 ? std::accumulate(channels.begin(), channels.end(), std::int64_t{0})
                    : channels[0];
      const std::string y = model.conv(joined, out_channels, 8, 1);
      const Evaluated evaluated = evaluate(model.finish(y));
      const Lowered lowered = lower_and_check(evaluated);
      SCOPED_TRACE(::testing::PrintToString(channels) + " axis " + std::to_string(axis));
      expect_single_region(evaluated, lowered);
    }
  }
}

// A part that only a channel Concat reads is computed into its slice of the Concat's
// buffer when that slice is a dense tensor in the part's layout (batch 1, 16-blocked
// here, whole blocks before it): the Concat then copies nothing, or only the parts that
// are not there (batch 2; a part read elsewhere too).
TEST(OnednnLayout, ConcatPartsAreComputedInTheirSlices) {
  struct Case {
    Ints channels;
    std::int64_t batch;
    bool part_read_twice;
    std::size_t copies;
  };
  for (const Case& c : {Case{{16, 32}, 1, false, 0}, Case{{16, 16, 48}, 1, false, 0},
                        Case{{16, 32}, 2, false, 1}, Case{{16, 32}, 1, true, 1}}) {
    for (int threads : {1, 2}) {
      ModelBuilder model({c.batch, 8, 14, 14});
      const std::string squeezed = model.node("Relu", {model.conv(model.x, 8, 8, 1)});
      std::vector<std::string> parts;
      std::int64_t total = 0;
      for (std::size_t i = 0; i < c.channels.size(); ++i) {
        const std::int64_t kernel = i % 2 == 0 ? 1 : 3;  // 3: the blocked layout (Winograd)
        parts.push_back(model.node("Relu", {model.conv(squeezed, 8, c.channels[i], kernel,
                                                       {{"pads", Ints(4, kernel / 2)}})}));
        total += c.channels[i];
      }
      const std::string joined = model.node("Concat", parts, {{"axis", std::int64_t{1}}});
      std::string y = model.conv(joined, total, 16, 1);
      if (c.part_read_twice) y = model.node("Add", {y, parts[0]});
      const Evaluated evaluated = evaluate(model.finish(y));
      SCOPED_TRACE(::testing::PrintToString(c.channels) + " batch " + std::to_string(c.batch) +
                   (c.part_read_twice ? " part read twice " : " ") + std::to_string(threads) +
                   " threads");
      const Lowered lowered = lower_and_check(evaluated, threads);
      ASSERT_EQ(lowered.steps.size(), 1u);
      std::size_t copies = 0;
      for (const KernelPart& part : lowered.steps[0].kernel->parts())
        copies += part.kind == "custom" || part.kind == "concat";
      EXPECT_EQ(copies, c.copies);
    }
  }
}

TEST(OnednnLayout, ConcatOfRegionInputs) {
  ModelBuilder model({2, 5, 7});
  const std::string y =
      model.node("Concat", {model.x, model.node("Relu", {model.x})}, {{"axis", std::int64_t{1}}});
  const Evaluated evaluated = evaluate(model.finish(y));
  expect_single_region(evaluated, lower_and_check(evaluated));
}

TEST(OnednnLayout, TransposeFromAnyLayout) {
  for (const Ints& perm : {Ints{0, 2, 3, 1}, Ints{0, 3, 1, 2}, Ints{3, 2, 1, 0}, Ints{}}) {
    ModelBuilder model({1, 8, 5, 6});
    const std::string conv = model.node("Relu", {model.conv(model.x, 8, 16, 3)});
    std::map<std::string, AttrValue> attrs;
    if (!perm.empty()) attrs["perm"] = perm;
    const std::string y = model.node("Transpose", {conv}, attrs);
    const Evaluated evaluated = evaluate(model.finish(y));
    const Lowered lowered = lower_and_check(evaluated);
    SCOPED_TRACE(::testing::PrintToString(perm));
    expect_single_region(evaluated, lowered);
  }
}

TEST(OnednnLayout, ChannelShuffle) {
  // ShuffleNet: Reshape [N, g, C/g, H, W], Transpose (0, 2, 1, 3, 4), Reshape back.
  ModelBuilder model({1, 8, 6, 6});
  const std::string conv = model.node("Relu", {model.conv(model.x, 8, 32, 1)});
  const std::string split = model.node("Reshape", {conv, model.constant_i64({1, 2, 16, 6, 6})});
  const std::string swapped = model.node("Transpose", {split}, {{"perm", Ints{0, 2, 1, 3, 4}}});
  const std::string merged = model.node("Reshape", {swapped, model.constant_i64({1, 32, 6, 6})});
  const std::string y = model.conv(merged, 32, 8, 1);
  const Evaluated evaluated = evaluate(model.finish(y));
  expect_single_region(evaluated, lower_and_check(evaluated));
}

}  // namespace
}  // namespace edgeperf::runtime::testing
