#include <gtest/gtest.h>

#include "edgeperf/runtime/memory_planner.h"

namespace edgeperf::runtime {
namespace {

bool overlaps(std::size_t a_offset, std::size_t a_bytes, std::size_t b_offset, std::size_t b_bytes) {
  return a_offset < b_offset + b_bytes && b_offset < a_offset + a_bytes;
}

TEST(MemoryPlanner, ChainReusesMemory) {
  // a -> b -> c -> d: each buffer dies after the next step reads it.
  std::vector<BufferRequest> chain;
  for (std::size_t step = 0; step < 4; ++step) chain.push_back({1000, step, step + 1});
  const ArenaPlan plan = plan_arena(chain);
  EXPECT_LE(plan.arena_bytes, 2 * 1024u);  // two live buffers at a time
}

TEST(MemoryPlanner, LiveBuffersNeverOverlapAndAreAligned) {
  std::vector<BufferRequest> requests = {
      {300, 0, 5}, {1000, 1, 2}, {64, 2, 3}, {5000, 3, 4}, {100, 0, 1}, {700, 4, 6}, {1, 5, 6}};
  const ArenaPlan plan = plan_arena(requests);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % kArenaAlignment, 0u);
    EXPECT_LE(plan.offsets[i] + requests[i].bytes, plan.arena_bytes);
    for (std::size_t j = i + 1; j < requests.size(); ++j) {
      const bool live_together = requests[i].first_step <= requests[j].last_step &&
                                 requests[j].first_step <= requests[i].last_step;
      if (live_together) {
        EXPECT_FALSE(overlaps(plan.offsets[i], requests[i].bytes, plan.offsets[j], requests[j].bytes))
            << i << " and " << j;
      }
    }
  }
}

TEST(MemoryPlanner, EmptyPlanIsEmpty) { EXPECT_EQ(plan_arena({}).arena_bytes, 0u); }

}  // namespace
}  // namespace edgeperf::runtime
