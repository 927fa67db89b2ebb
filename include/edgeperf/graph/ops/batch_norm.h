#pragma once
// An inference BatchNormalization as a per-channel affine map, and its folding into the
// weights and bias of the layer before it.
#include <cstdint>
#include <span>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::graph::ops {

// How a layer's weights hold its output channels.
enum class ChannelLayout {
  rows,     // channel-major: [C, ...] (Conv, Gemm with transB=1, sparse rows)
  columns,  // channel-minor: [K, C] (Gemm with transB=0)
};

// BN(y) = (y - mean) * s + beta with s = gamma / sqrt(var + epsilon), computed in double:
// folding rounds to f32 once, at the end.
struct BatchNormParams {
  std::vector<double> scale;  // s[c]
  std::vector<double> shift;  // beta[c] - mean[c] * s[c]

  // From the four f32 parameter tensors (inputs 1..4) of equal length.
  static BatchNormParams from_tensors(const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                      const Tensor& variance, float epsilon);
  static float epsilon_of(const Node& batch_norm) {
    return batch_norm.attr_float("epsilon", 1e-5f);
  }

  std::int64_t channels() const { return static_cast<std::int64_t>(scale.size()); }

  // w' = w * s per output channel, b' = b * s + shift. `bias` holds one value per channel
  // (zeros for a layer without bias); `weights` holds channels() channels in `layout`.
  void fold_into(std::span<float> weights, std::span<float> bias,
                 ChannelLayout layout = ChannelLayout::rows) const;
};

}  // namespace edgeperf::graph::ops
