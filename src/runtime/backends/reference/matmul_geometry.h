#pragma once
// Geometry shared by the MatMul-like ops (MatMul, QLinearMatMul, MatMulInteger): numpy
// semantics, with batch broadcasting and 1-D operands.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgeperf/runtime/kernel.h"

namespace edgeperf::runtime::reference {

struct MatMulGeometry {
  std::int64_t m = 0, k = 0, n = 0;
  Shape batch;                        // broadcast batch shape
  std::vector<std::int64_t> a_batch;  // per batch index: element offset of A's matrix
  std::vector<std::int64_t> b_batch;
  Shape output;
};

// Element offsets, one per index of `batch`, of the matrices of an operand whose batch
// dims are `operand_batch` (broadcast to `batch`) and whose matrices hold matrix_size elements.
std::vector<std::int64_t> batch_offsets(const Shape& operand_batch, const Shape& batch,
                                        std::int64_t matrix_size);

// Reads the shapes of inputs a_index and b_index; checks ranks, the inner dimension and
// that the batch dims broadcast. Dtypes are the caller's.
MatMulGeometry resolve_matmul_geometry(const PrepareContext& context, std::size_t a_index,
                                       std::size_t b_index);

}  // namespace edgeperf::runtime::reference
