#pragma once
// Structured channel pruning: removes whole output channels of Conv/Gemm layers (lowest L1
// or L2 filter norm) and rewrites every dependent tensor so the result is a smaller dense
// model. Dependencies followed: BatchNormalization parameters, depthwise convolutions
// (their channels follow their input), consumers' input channels (Conv weight columns,
// Gemm/MatMul weight rows, also through Flatten/Reshape of [C, H, W] maps), Concat offsets,
// element-wise ops and activations. Channels that meet at an element-wise op (a residual
// Add or Mul) form one group pruned with one shared mask (sum of norms) or not at all.
// Channels reaching a graph output, an op not understood, or an excluded layer are kept.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::prune {

enum class ChannelNorm { l1, l2 };

struct ChannelPruneOptions {
  double ratio = 0.3;  // fraction of each prunable group's channels removed, in [0, 1)
  ChannelNorm norm = ChannelNorm::l1;
  std::set<std::string> exclude;  // node names whose output channels are kept
  // > 1: each group's kept channel count is rounded to the nearest multiple of this (at
  // least one multiple, at most every channel), which suits blocked SIMD layouts.
  std::int64_t channel_multiple = 1;
  // Shapes for inputs with open symbolic dims (by input name), as runtime::SessionOptions.
  std::map<std::string, Shape> input_shapes;
};

struct ChannelPruneResult {
  graph::Graph model;
  std::vector<std::string> log;  // one line per channel group: pruned or kept, and why
};

// Throws Error when the ratio is outside [0, 1) or would remove every channel of a layer,
// when an excluded node does not exist, or when the model has no prunable layer.
ChannelPruneResult prune_channels(const graph::Graph& model, const ChannelPruneOptions& options);

}  // namespace edgeperf::prune
