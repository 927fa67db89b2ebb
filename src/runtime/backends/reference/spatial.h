#pragma once
// Sliding-window geometry shared by Conv, ConvTranspose and the pools.
#include <array>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::runtime::reference {

struct Window {
  std::vector<std::int64_t> kernel;
  std::vector<std::int64_t> strides;
  std::vector<std::int64_t> dilations;
  std::vector<std::int64_t> pads_begin;
  std::vector<std::int64_t> pads_end;
  std::vector<std::int64_t> output;  // output spatial sizes
};

// Reads strides/dilations/pads/auto_pad from the node and computes the output sizes
// for `input` spatial sizes. Throws naming the node on bad attributes or a kernel
// larger than the padded input.
Window resolve_window(const graph::Node& node, const std::vector<std::int64_t>& input,
                      const std::vector<std::int64_t>& kernel, bool ceil_mode);

// Up to 3 spatial dims, right-aligned into D, H, W with `fill` in the missing leading ones.
using Dims3 = std::array<std::int64_t, 3>;
Dims3 to_dims3(const std::vector<std::int64_t>& values, std::int64_t fill);

}  // namespace edgeperf::runtime::reference
