#pragma once
// Assigns arena offsets to buffers with known lifetimes so that buffers alive at
// the same time never overlap. Greedy by size (largest first), first fit into the
// gaps left by overlapping-lifetime buffers: simple and close to optimal for the
// chain-like graphs of vision models.
#include <cstddef>
#include <vector>

namespace edgeperf::runtime {

struct BufferRequest {
  std::size_t bytes = 0;
  std::size_t first_step = 0;  // step that writes it
  std::size_t last_step = 0;   // last step that reads it (inclusive)
};

struct ArenaPlan {
  std::vector<std::size_t> offsets;  // one per request, aligned
  std::size_t arena_bytes = 0;
};

inline constexpr std::size_t kArenaAlignment = 64;

ArenaPlan plan_arena(const std::vector<BufferRequest>& requests);

}  // namespace edgeperf::runtime
