#include "edgeperf/runtime/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace edgeperf::runtime {
namespace {

std::size_t align_up(std::size_t value) {
  return (value + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

bool lifetimes_overlap(const BufferRequest& a, const BufferRequest& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}

}  // namespace

ArenaPlan plan_arena(const std::vector<BufferRequest>& requests) {
  std::vector<std::size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return requests[a].bytes > requests[b].bytes;
  });

  ArenaPlan plan;
  plan.offsets.assign(requests.size(), 0);
  struct Placed {
    std::size_t offset, end, request;
  };
  std::vector<Placed> placed;  // sorted by offset
  for (std::size_t index : order) {
    const BufferRequest& request = requests[index];
    const std::size_t size = align_up(std::max<std::size_t>(request.bytes, 1));
    std::size_t offset = 0;
    for (const Placed& other : placed) {
      if (!lifetimes_overlap(request, requests[other.request])) continue;
      if (offset + size <= other.offset) break;  // fits in the gap before `other`
      offset = std::max(offset, other.end);
    }
    plan.offsets[index] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    const Placed entry{offset, offset + size, index};
    placed.insert(std::upper_bound(placed.begin(), placed.end(), entry,
                                   [](const Placed& a, const Placed& b) {
                                     return a.offset < b.offset;
                                   }),
                  entry);
  }
  return plan;
}

}  // namespace edgeperf::runtime
