// Concat -> channel shuffle -> Slices (ops/channel_shuffle.cpp) as one op, against the
// reference backend: f32 and int8 parts, halves or uneven slices, QuantizeLinear after a
// slice or after the whole shuffled tensor, another reader of the shuffled tensor.
#include <iterator>
#include <set>

#include "qdq_builder.h"

namespace edgeperf::runtime {
namespace {

using namespace qdq_test;  // NOLINT(google-build-using-namespace)

enum class Parts { byte_and_float, bytes, floats };
enum class Readers { halves, uneven, quantized_whole, other_reader };

struct ShuffleCase {
  DType type;
  Parts parts;
  std::int64_t groups;
  Readers readers;
};

constexpr std::int64_t kHalf = 12;  // channels a part
// Two images of 9 x 9: 162 pixels, more than one of the op's chunks of 64.
constexpr std::int64_t kBatch = 2, kSide = 9;

constexpr std::int64_t kShuffle[] = {0, 2, 1, 3, 4};

// Concat(parts) -> Reshape [N, groups, C / groups, H, W] -> Transpose(perm) -> Reshape
// [N, C, H, W]: a channel shuffle when perm is kShuffle.
std::string shuffle_chain(QdqBuilder& model, const std::vector<std::string>& parts,
                          std::int64_t groups, std::vector<std::int64_t> perm) {
  const std::int64_t channels = kHalf * static_cast<std::int64_t>(parts.size());
  const std::string joined = model.node("Concat", parts, {{"axis", std::int64_t{1}}});
  const std::string grouped = model.node(
      "Reshape", {joined, model.ints({kBatch, groups, channels / groups, kSide, kSide})});
  const std::string swapped = model.node("Transpose", {grouped}, {{"perm", std::move(perm)}});
  return model.node("Reshape", {swapped, model.ints({kBatch, channels, kSide, kSide})});
}

// x -> two parts -> Concat -> Reshape -> Transpose -> Reshape -> readers, joined again
// into one f32 output.
graph::Graph shuffle_model(const ShuffleCase& c) {
  QdqBuilder model(31);
  const std::string x = model.input({kBatch, kHalf, kSide, kSide});
  const bool u8 = c.type == DType::u8;
  const std::string byte_part = model.qdq(x, 3.0f / 255.0f, u8 ? 120 : -3, c.type).name;
  const std::string other = c.parts == Parts::bytes
                                ? model.qdq(x, 5.0f / 255.0f, u8 ? 131 : 5, c.type).name
                                : model.node("Relu", {x});
  const std::string first =
      c.parts == Parts::floats ? model.node("LeakyRelu", {x}, {{"alpha", 0.5f}}) : byte_part;
  const std::int64_t channels = 2 * kHalf;
  const std::string shuffled =
      shuffle_chain(model, {first, other}, c.groups, {std::begin(kShuffle), std::end(kShuffle)});
  const float out_scale = 4.0f / 255.0f;
  const std::int32_t out_zero = u8 ? 100 : -10;
  auto requantized = [&](const std::string& value) {
    return model
        .dequantize(model.quantize(value, out_scale, out_zero, c.type), out_scale, out_zero, c.type)
        .name;
  };
  std::vector<std::string> outputs;
  if (c.readers == Readers::quantized_whole) {
    outputs.push_back(requantized(shuffled));
  } else {
    const std::int64_t split = c.readers == Readers::uneven ? kHalf - 3 : kHalf;
    const std::string axes = model.ints({1});
    const std::string low =
        model.node("Slice", {shuffled, model.ints({0}), model.ints({split}), axes});
    const std::string high =
        model.node("Slice", {shuffled, model.ints({split}), model.ints({channels}), axes});
    outputs = {low, requantized(high)};
    if (c.readers == Readers::other_reader) outputs.push_back(model.node("Relu", {shuffled}));
  }
  const std::string y = outputs.size() == 1
                            ? model.node("Identity", {outputs[0]})
                            : model.node("Concat", outputs, {{"axis", std::int64_t{1}}});
  return model.finish(y, DType::f32);
}

// The op types of the op of kind `kind` that computed a node of type `op` (an input's
// reorder is the node's too); empty when there is none.
std::multiset<std::string> ops_of_part_with(const RunResult& result, const std::string& op,
                                            const std::string& kind = "custom") {
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) {
      std::multiset<std::string> ops;
      for (std::size_t node : part.nodes) ops.insert(step.ops.at(node));
      if (part.kind == kind && ops.count(op) > 0) return ops;
    }
  }
  return {};
}

class ChannelShuffleGraph : public ::testing::TestWithParam<std::tuple<ShuffleCase, int>> {};

TEST_P(ChannelShuffleGraph, OneOpComputesWhatTheReferenceDoes) {
  const auto& [c, threads] = GetParam();
  const graph::Graph graph = shuffle_model(c);
  const RunResult result = run_both(graph, threads);
  // The same float operations as the reference's DequantizeLinear and QuantizeLinear.
  EXPECT_EQ(compare(result.onednn, result.reference, 1e-6).max_lsb, 0.0);
  EXPECT_TRUE(all_onednn(result));
  // The reshapes, the transpose, the slices and the QuantizeLinear after a slice or
  // after the whole tensor are the shuffle's.
  std::multiset<std::string> expected = {"Concat", "Reshape", "Reshape", "Transpose",
                                         "QuantizeLinear"};
  if (c.readers != Readers::quantized_whole) expected.insert({"Slice", "Slice"});
  EXPECT_EQ(ops_of_part_with(result, "Concat"), expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ChannelShuffleGraph,
    ::testing::Combine(
        ::testing::Values(ShuffleCase{DType::u8, Parts::byte_and_float, 2, Readers::halves},
                          ShuffleCase{DType::i8, Parts::byte_and_float, 2, Readers::halves},
                          ShuffleCase{DType::u8, Parts::bytes, 2, Readers::quantized_whole},
                          ShuffleCase{DType::u8, Parts::floats, 2, Readers::halves},
                          ShuffleCase{DType::i8, Parts::bytes, 2, Readers::uneven},
                          ShuffleCase{DType::u8, Parts::byte_and_float, 3, Readers::halves},
                          ShuffleCase{DType::u8, Parts::byte_and_float, 2, Readers::other_reader}),
        ::testing::Values(1, 2)));

// A Transpose that is no shuffle (its perm swaps other axes) leaves the Concat to the
// Concat ops: the result is still the reference's.
TEST(ChannelShuffleGraph, AnotherPermutationIsNotAShuffle) {
  QdqBuilder model(37);
  const std::string x = model.input({kBatch, kHalf, kSide, kSide});
  const std::string a = model.qdq(x, 3.0f / 255.0f, 120).name;
  const std::string y = shuffle_chain(model, {a, model.node("Relu", {x})}, 2, {0, 1, 2, 4, 3});
  const graph::Graph graph = model.finish(y, DType::f32);
  const RunResult result = run_both(graph);
  EXPECT_EQ(compare(result.onednn, result.reference, 1e-6).max_lsb, 0.0);
  EXPECT_EQ(ops_of_part_with(result, "Concat").count("Transpose"), 0U);  // no shuffle op
}

// A constant part: not the shuffle's (nor the f32 Concat's); the model still runs and
// matches the reference.
TEST(ChannelShuffleGraph, AConstantPartIsLeftToTheReference) {
  QdqBuilder model(41);
  const std::string x = model.input({kBatch, kHalf, kSide, kSide});
  const std::string a = model.qdq(x, 3.0f / 255.0f, 120).name;
  const std::string c = model.constant({kBatch, kHalf, kSide, kSide}, -1.0f, 1.0f);
  const std::string y = shuffle_chain(model, {a, c}, 2, {std::begin(kShuffle), std::end(kShuffle)});
  const graph::Graph graph = model.finish(y, DType::f32);
  const RunResult result = run_both(graph);
  EXPECT_EQ(compare(result.onednn, result.reference, 1e-6).max_lsb, 0.0);
  EXPECT_EQ(ops_of_part_with(result, "Concat").count("Transpose"), 0U);
}

}  // namespace
}  // namespace edgeperf::runtime
