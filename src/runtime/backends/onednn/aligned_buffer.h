#pragma once
// Zeroed heap arrays on a 64-byte boundary (a cache line, the widest vector load),
// for the buffers oneDNN primitives and our kernels read and write.
#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "edgeperf/core/error.h"

namespace edgeperf::runtime::onednn {

struct AlignedFree {
  void operator()(void* pointer) const { std::free(pointer); }
};
template <typename T>
using AlignedArray = std::unique_ptr<T[], AlignedFree>;

inline constexpr std::size_t kBufferAlignment = 64;

template <typename T>
AlignedArray<T> aligned_array(std::size_t count) {
  const std::size_t bytes = std::max<std::size_t>(count * sizeof(T), 1);
  const std::size_t rounded = (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
  auto* pointer = static_cast<T*>(std::aligned_alloc(kBufferAlignment, rounded));
  EP_CHECK(pointer != nullptr, "onednn: cannot allocate {} bytes", bytes);
  std::memset(pointer, 0, rounded);
  return AlignedArray<T>(pointer);
}

}  // namespace edgeperf::runtime::onednn
