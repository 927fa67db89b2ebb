// InitializerReleases: released pages read as zeros until refilled; which initializers
// a session may release.
#include "edgeperf/runtime/initializer_releases.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"

namespace edgeperf::runtime {
namespace {

constexpr std::int64_t kElements = std::int64_t{1} << 20;  // 4 MiB of f32

// A refill that writes back what `tensor` held when this was called.
InitializerReleases::Refill refill_from_copy(const Tensor& tensor) {
  auto copy =
      std::make_shared<std::vector<std::byte>>(tensor.bytes().begin(), tensor.bytes().end());
  return [copy](void* bytes) { std::memcpy(bytes, copy->data(), copy->size()); };
}

bool equal_bytes(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

TEST(InitializerReleases, ReleasedPagesReadZeroUntilRefilled) {
  const Tensor weights = random_tensor(DType::f32, {kElements}, 3, 1.0, 2.0);
  const Tensor original = weights.clone();
  InitializerReleases releases({"w"});
  ASSERT_TRUE(releases.may_release("w"));
  releases.release("w", weights, refill_from_copy(weights));
  EXPECT_TRUE(releases.is_released("w"));
  EXPECT_FALSE(releases.may_release("w"));
  EXPECT_EQ(releases.released_bytes(), weights.nbytes());
  // Every value was in [1, 2]; the middle of the buffer is whole pages, now zero.
  EXPECT_EQ(weights.data<float>()[kElements / 2], 0.0f);
  releases.refill_all();
  EXPECT_EQ(releases.size(), 0u);
  EXPECT_TRUE(equal_bytes(weights, original));
}

TEST(InitializerReleases, RefillFromRefillsOnlyTheLaterReleases) {
  const Tensor a = random_tensor(DType::f32, {kElements}, 4, 1.0, 2.0);
  const Tensor b = random_tensor(DType::f32, {kElements}, 5, 1.0, 2.0);
  const Tensor b_original = b.clone();
  InitializerReleases releases({"a", "b"});
  releases.release("a", a, refill_from_copy(a));
  releases.release("b", b, refill_from_copy(b));
  releases.refill_from(1);
  EXPECT_EQ(releases.released_names(), std::vector<std::string>{"a"});
  EXPECT_TRUE(equal_bytes(b, b_original));
  EXPECT_EQ(a.data<float>()[kElements / 2], 0.0f);
  releases.refill("a");
  EXPECT_EQ(releases.size(), 0u);
  EXPECT_NE(a.data<float>()[kElements / 2], 0.0f);
}

TEST(InitializerReleases, OnlyCandidatesAreReleasable) {
  const Tensor weights = random_tensor(DType::f32, {kElements}, 6);
  InitializerReleases releases({"w"});
  EXPECT_FALSE(releases.may_release("other"));
  EXPECT_THROW(releases.release("other", weights, refill_from_copy(weights)), Error);
}

// x · W1 and x · W2 + W2 (W2 read twice), W3 a graph output, small read once.
graph::Graph graph_with_initializers() {
  graph::GraphBuilder builder("releasable");
  const std::string x =
      builder.input("x", DType::f32, {graph::Dim::fixed(2), graph::Dim::fixed(1024)});
  const auto big = [&](const char* name, std::uint64_t seed) {
    return builder.initializer(name, random_tensor(DType::f32, {1024, 1024}, seed));
  };
  const std::string w1 = big("W1", 1), w2 = big("W2", 2), w3 = big("W3", 3);
  const std::string small = builder.initializer("small", random_tensor(DType::f32, {1024}, 4));
  const std::string y1 = builder.node("MatMul", {x, w1});
  const std::string y2 = builder.node("Add", {builder.node("MatMul", {x, w2}), w2});
  const std::string y3 = builder.node("Add", {builder.node("MatMul", {x, w3}), small});
  builder.output(y1, DType::f32, {});
  builder.output(y2, DType::f32, {});
  builder.output(y3, DType::f32, {});
  builder.output(w3, DType::f32, {});
  return builder.build();
}

TEST(InitializerReleases, SessionMayReleaseOnlySoleOwnedSingleReaderInitializers) {
  const graph::Graph graph = graph_with_initializers();
  graph::Graph owned = graph;
  EXPECT_TRUE(releasable_initializers(owned, 1 << 20).empty()) << "shared with `graph`";
  for (auto& [name, tensor] : owned.initializers) tensor = tensor.clone();
  EXPECT_EQ(releasable_initializers(owned, 1 << 20), (std::set<std::string>{"W1"}));
  EXPECT_EQ(releasable_initializers(owned, 1), (std::set<std::string>{"W1", "small"}));
}

}  // namespace
}  // namespace edgeperf::runtime
