#pragma once
// Regions: contiguous runs of nodes compiled into one oneDNN step each. Activations
// stay in the layouts the primitives choose; only region inputs and outputs are
// reordered from/to plain row-major.
#include <cstddef>
#include <functional>
#include <vector>

#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime::onednn {

class PackedConstantCache;

// What the provider gives every region it builds.
struct RegionSettings {
  // Our own int8 kernels (3x3 depthwise u8, RGB input quantization); false: oneDNN's
  // primitives only (OnednnOptions::own_int8_kernels).
  bool own_int8_kernels = true;
  // The session's packed weights, shared by its plans; null: each region packs its own.
  PackedConstantCache* packed_constants = nullptr;
};

// What lower_regions did, for tests and diagnostics.
struct RegionStats {
  std::size_t regions = 0;   // steps returned
  std::size_t refused = 0;   // nodes oneDNN refused at primitive creation
  std::size_t rebuilds = 0;  // regions built again from their start after a refusal
};

// Lowers every maximal run of nodes that the op table matches (and that are not
// `taken` already) into region steps. Matching creates nothing, so a node no op
// matches never costs a rebuild; see region.cpp for the nodes oneDNN refuses.
// Tests: oneDNN "refuses" node `index` when this returns true (after lowering it).
using SimulatedRefusal = std::function<bool(std::size_t index)>;

std::vector<Step> lower_regions(const LoweringInput& input, const std::vector<bool>& taken,
                                RegionStats* stats = nullptr, const SimulatedRefusal& refuse = {},
                                const RegionSettings& settings = {});

}  // namespace edgeperf::runtime::onednn
