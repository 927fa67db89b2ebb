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

bool any_part_contains(const Session& session, const std::string& text) {
  for (const StepInfo& step : session.steps()) {
    for (const KernelPart& part : step.parts) {
      if (part.implementation.find(text) != std::string::npos) return true;
    }
  }
  return false;
}

// Winograd convs pack their weights in a layout that depends on the batch. A plan for
// a batch that the first plan's divides runs the first plan's primitives over parts of the
// batch, so it shares every packed weight, and computes what a session planned at that
// batch computes.
TEST(PackedConstantCache, WinogradConvsShareWeightsAcrossBatchSizes) {
  testing::ModelBuilder model({1, 32, 14, 14});
  const std::map<std::string, graph::AttrValue> same{
      {"pads", std::vector<std::int64_t>{1, 1, 1, 1}}};
  const std::string a = model.node("Relu", {model.conv(model.x, 32, 32, 3, same)});
  const std::string b = model.conv(a, 32, 32, 3, same);
  graph::Graph graph = model.finish(model.node("Relu", {model.node("Add", {b, a})}));
  graph.inputs[0].dims[0] = graph::Dim::named("N");
  SessionOptions options;
  options.backend = BackendKind::onednn;
  Session session(graph, options);
  if (!any_part_contains(session, "wino")) GTEST_SKIP() << "no Winograd convs on this CPU";
  bool ran_in_parts = false;  // some batch's layout differs from batch 1's (the case at issue)
  for (const std::int64_t batch : {2, 4, 8}) {
    const auto inputs = random_inputs(session, 7, batch);
    const auto outputs = session.run(inputs);
    const MemoryPlanInfo plan = session.memory_plan();
    EXPECT_EQ(plan.reused_weight_bytes, plan.packed_weight_bytes) << "batch " << batch;
    ran_in_parts = ran_in_parts || any_part_contains(session, "in parts of the batch");

    SessionOptions fixed = options;
    fixed.input_shapes[graph.inputs[0].name] = {batch, 32, 14, 14};
    Session fresh(graph, fixed);
    const Tensor& got = outputs.begin()->second;
    const Tensor want = fresh.run(inputs).begin()->second;
    ASSERT_EQ(got.shape(), want.shape());
    for (std::int64_t i = 0; i < got.numel(); ++i) {
      const float expected = want.values<float>()[i];
      ASSERT_NEAR(got.values<float>()[i], expected, 1e-4f * (1.0f + std::abs(expected))) << i;
    }
  }
  EXPECT_TRUE(ran_in_parts);
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
