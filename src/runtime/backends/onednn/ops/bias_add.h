#pragma once
// A bias written as its own node after a matmul (MatMul -> Add of a constant vector, as
// torch and our int4 rewrite export Linear layers), absorbed as the primitive's bias.
#include <cstddef>
#include <optional>

#include "ops.h"

namespace edgeperf::runtime::onednn::ops {

struct BiasAdd {
  std::size_t node;  // the Add
  const Tensor* bias;
  Shape dims;  // [1, ..., 1, N] at the output's rank
};

// The Add reading node `index`'s output that adds a constant over its last axis ([N] or
// [1, ..., 1, N], N = `n`) and may join its chain; nullopt when there is none. `rank`:
// the rank of the primitive's output.
std::optional<BiasAdd> find_bias_add(const RegionContext& context, std::size_t index,
                                     std::int64_t n, std::size_t rank);

}  // namespace edgeperf::runtime::onednn::ops
