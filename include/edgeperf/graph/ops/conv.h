#pragma once
// The window attributes of Conv-like nodes (Conv, ConvTranspose, QLinearConv, ConvInteger,
// FusedConv) and the pools: group, kernel_shape, strides, dilations, pads and auto_pad.
#include <cstdint>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::graph::ops {

enum class AutoPad { notset, valid, same_upper, same_lower };

struct ConvAttrs {
  std::int64_t group = 1;
  std::vector<std::int64_t> kernel_shape;  // empty when the attribute is absent
  std::vector<std::int64_t> strides;       // one per spatial dim (default 1)
  std::vector<std::int64_t> dilations;     // one per spatial dim (default 1)
  std::vector<std::int64_t> pads;          // begins then ends, 2 per spatial dim (default 0)
  AutoPad auto_pad = AutoPad::notset;

  // Reads the attributes of `node` for `spatial_rank` spatial dims. Throws Error naming
  // the node on a list of the wrong length or an unknown auto_pad; values are the caller's
  // to check.
  static ConvAttrs read(const Node& node, std::size_t spatial_rank);

  bool same_padding() const {
    return auto_pad == AutoPad::same_upper || auto_pad == AutoPad::same_lower;
  }
  // The begin and end pads as written (VALID and SAME are the caller's to resolve).
  std::vector<std::int64_t> pads_begin() const;
  std::vector<std::int64_t> pads_end() const;
};

}  // namespace edgeperf::graph::ops
