// The session-wide cache of packed weights: a plan for a new input shape shares what
// earlier plans packed, by content, and a packed copy lives only while a kernel uses it.
#include "packed_constants.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "edgeperf/runtime/session.h"
#include "onednn_models.h"

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::memory;

const dnnl::engine& cpu() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

memory::desc plain(memory::dims dims) {
  return memory::desc(dims, memory::data_type::f32, memory::format_tag::abcd);
}
memory::desc blocked(memory::dims dims) {
  return memory::desc(dims, memory::data_type::f32, memory::format_tag::ABcd16b16a);
}

std::vector<float> weights(float offset) {
  std::vector<float> values(32 * 16 * 3 * 3);
  std::iota(values.begin(), values.end(), offset);
  return values;
}

const float* data_of(const PackedConstant& packed) {
  return static_cast<const float*>(packed.memory.get_data_handle());
}

TEST(PackedConstantCache, EqualBytesAtAnotherAddressShareOneCopy) {
  PackedConstantCache cache;
  const memory::dims dims{32, 16, 3, 3};
  const std::vector<float> first = weights(0), second = weights(0);
  const PackedConstant a = cache.pack(cpu(), blocked(dims), plain(dims), first.data());
  const PackedConstant b = cache.pack(cpu(), blocked(dims), plain(dims), second.data());
  EXPECT_FALSE(a.reused);
  EXPECT_TRUE(b.reused);
  EXPECT_EQ(data_of(a), data_of(b));
  EXPECT_EQ(cache.stats().packed, 1u);
  EXPECT_EQ(cache.stats().reused, 1u);
}

TEST(PackedConstantCache, OtherBytesOrLayoutsArePackedAgain) {
  PackedConstantCache cache;
  const memory::dims dims{32, 16, 3, 3};
  std::vector<float> values = weights(0);
  const PackedConstant a = cache.pack(cpu(), blocked(dims), plain(dims), values.data());
  values.back() += 1.0f;  // one element differs
  const PackedConstant b = cache.pack(cpu(), blocked(dims), plain(dims), values.data());
  const PackedConstant c = cache.pack(cpu(), plain(dims), plain(dims), values.data());
  EXPECT_FALSE(b.reused);
  EXPECT_FALSE(c.reused);
  EXPECT_NE(data_of(a), data_of(b));
  EXPECT_EQ(cache.stats().packed, 3u);
  // The packed copy holds the new values (the reorder ran): the plain layout is a copy.
  EXPECT_EQ(data_of(c)[values.size() - 1], values.back());
}

TEST(PackedConstantCache, ACopyNoKernelHoldsIsPackedAgain) {
  PackedConstantCache cache;
  const memory::dims dims{32, 16, 3, 3};
  const std::vector<float> values = weights(2);
  cache.pack(cpu(), blocked(dims), plain(dims), values.data());  // dropped at once
  const PackedConstant again = cache.pack(cpu(), blocked(dims), plain(dims), values.data());
  EXPECT_FALSE(again.reused);
  EXPECT_EQ(cache.stats().packed, 2u);
}

TEST(PackedConstantCache, HashesDifferForOneFlippedBitAnywhere) {
  std::vector<unsigned char> bytes(1003, 7);
  std::uint64_t base[2];
  hash_bytes_128(bytes.data(), bytes.size(), base);
  for (std::size_t position : {0u, 7u, 31u, 32u, 999u, 1000u, 1002u}) {
    bytes[position] ^= 1;
    std::uint64_t flipped[2];
    hash_bytes_128(bytes.data(), bytes.size(), flipped);
    EXPECT_NE(flipped[0], base[0]) << position;
    EXPECT_NE(flipped[1], base[1]) << position;
    bytes[position] ^= 1;
  }
  std::uint64_t shorter[2];
  hash_bytes_128(bytes.data(), bytes.size() - 1, shorter);
  EXPECT_NE(shorter[0], base[0]);
}

// A session's plan for a second batch size shares the first plan's packed weights
// (1x1 and depthwise convs: their weight layouts do not depend on the batch), and
// still computes the same values as a session planned at that size from the start.
TEST(PackedConstantCache, ANewBatchSizeReusesTheSessionsPackedWeights) {
  testing::ModelBuilder model({1, 16, 8, 8});
  const std::string y = model.node(
      "Relu", {model.conv(model.node("Relu", {model.conv(model.x, 16, 32, 1)}), 32, 32, 1)});
  graph::Graph graph = model.finish(y);
  graph.inputs[0].dims[0] = graph::Dim::named("N");
  SessionOptions options;
  options.backend = BackendKind::onednn;
  Session session(graph, options);
  const std::size_t packed = session.memory_plan().packed_weight_bytes;
  ASSERT_GT(packed, 0u);
  EXPECT_EQ(session.memory_plan().reused_weight_bytes, 0u);
  const auto batch3 = random_inputs(session, 5, 3);
  const auto outputs = session.run(batch3);
  EXPECT_EQ(session.plans_built(), 2u);
  EXPECT_EQ(session.memory_plan().reused_weight_bytes, session.memory_plan().packed_weight_bytes);

  options.input_shapes[graph.inputs[0].name] = {3, 16, 8, 8};
  Session fresh(graph, options);
  const auto expected = fresh.run(batch3);
  const Tensor& got = outputs.begin()->second;
  const Tensor& want = expected.begin()->second;
  ASSERT_EQ(got.shape(), want.shape());
  for (std::int64_t i = 0; i < got.numel(); ++i)
    ASSERT_EQ(got.values<float>()[i], want.values<float>()[i]) << i;
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
