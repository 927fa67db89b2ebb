#pragma once
// The one-thread-per-part loop of our byte kernels' run() (depthwise convs, max pool,
// layer norm): each has run_part(src, dst, part, parts) and max_parts().
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace edgeperf::runtime::onednn {

// kernel.run_part for every part of min(threads, kernel.max_parts()), one per thread.
template <typename Kernel>
void run_in_parts(const Kernel& kernel, const std::uint8_t* src, std::uint8_t* dst, int threads) {
  const auto parts = static_cast<int>(
      std::clamp<std::int64_t>(threads, 1, std::max<std::int64_t>(1, kernel.max_parts())));
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
  for (int part = 0; part < parts; ++part) kernel.run_part(src, dst, part, parts);
}

}  // namespace edgeperf::runtime::onednn
