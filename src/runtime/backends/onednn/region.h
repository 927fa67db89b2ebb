#pragma once
// A region: a contiguous run of supported nodes compiled into one oneDNN step.
// Activations stay in the layouts the primitives choose; only region inputs and
// outputs are reordered from/to plain row-major.
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime::onednn {

// Thrown while building a region when oneDNN cannot make a primitive for a node;
// the backend then leaves that node to the reference backend and retries.
struct NodeRejected {
  std::size_t node_index;
};

// Builds the step for nodes [first, last); `enabled` marks the nodes the backend
// may claim (every node in the range is enabled). Throws NodeRejected.
Step build_region(const LoweringInput& input, std::size_t first, std::size_t last,
                  const std::vector<bool>& enabled);

}  // namespace edgeperf::runtime::onednn
