#pragma once
// Shared helpers of the columnar kernels (internal).
#include <omp.h>

#include <algorithm>
#include <cstddef>

namespace edgeperf::columnar::detail {

inline int resolve_threads(int threads) { return threads > 0 ? threads : omp_get_max_threads(); }

// Threads worth using for n items when each thread should get at least min_per_thread.
inline int threads_for(std::size_t n, int threads, std::size_t min_per_thread) {
  const std::size_t useful = std::max<std::size_t>(1, n / std::max<std::size_t>(1, min_per_thread));
  return static_cast<int>(
      std::min<std::size_t>(static_cast<std::size_t>(resolve_threads(threads)), useful));
}

// [begin, end) of part `index` of `parts` nearly equal parts of n, rounded to `align` items.
struct Range {
  std::size_t begin, end;
};
inline Range split_range(std::size_t n, int parts, int index, std::size_t align = 1) {
  auto bound = [&](int i) {
    if (i >= parts) return n;
    std::size_t b = n / static_cast<std::size_t>(parts) * static_cast<std::size_t>(i);
    b = b / align * align;
    return std::min(b, n);
  };
  return {bound(index), bound(index + 1)};
}

}  // namespace edgeperf::columnar::detail
