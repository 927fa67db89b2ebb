#pragma once
// Helpers shared by the reference kernels: input checks, axis handling,
// broadcasting and a kernel built from a run function.
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgeperf/core/error.h"
#include "edgeperf/runtime/kernel.h"

namespace edgeperf::runtime::reference {

using RunFn = std::function<void(std::span<const Tensor> inputs, std::span<Tensor> outputs)>;

// A kernel whose run() calls `run`; captured state holds the copies of constants it needs.
// `workspace_bytes` / `packed_weight_bytes` are what the kernel reports holding.
std::unique_ptr<Kernel> make_kernel(RunFn run, std::size_t workspace_bytes = 0);
// Same, for kernels that parallelize with OpenMP over RunContext::threads threads.
using ParallelRunFn =
    std::function<void(int threads, std::span<const Tensor> inputs, std::span<Tensor> outputs)>;
std::unique_ptr<Kernel> make_parallel_kernel(ParallelRunFn run,
                                             std::size_t packed_weight_bytes = 0);

// Checks min <= inputs <= max and that the first `min` inputs are present.
void check_input_count(const PrepareContext& context, std::size_t min, std::size_t max);
// Checks the node has between min and max outputs and sizes context.outputs accordingly.
void prepare_outputs(PrepareContext& context, std::size_t min, std::size_t max);
void set_output(PrepareContext& context, std::size_t index, DType dtype, Shape shape);

void check_dtype(const PrepareContext& context, std::size_t index,
                 std::initializer_list<DType> allowed, const char* name);
void check_same_dtype(const PrepareContext& context, std::size_t a, std::size_t b);
bool is_float(DType dtype);
bool is_integer(DType dtype);

// Returns axis in [0, rank); negative axes count from the end. Throws naming the node.
std::int64_t normalize_axis(const graph::Node& node, std::int64_t axis, std::int64_t rank);
std::vector<std::int64_t> normalize_axes(const graph::Node& node, std::vector<std::int64_t> axes,
                                         std::int64_t rank);

// The constant value of input `index`; throws DataDependentShape when it is known only
// at run time (the session then interprets the node with every input known).
const Tensor& require_constant(const PrepareContext& context, std::size_t index, const char* name);
bool all_inputs_constant(const PrepareContext& context);
// For ops whose output shape depends on input values (NonZero, NonMaxSuppression): their
// infer() computes the outputs into context.output_values when every input is known and
// calls this first, which throws DataDependentShape (saying `why`) when one is not.
void require_all_constant(const PrepareContext& context, const char* why);
std::vector<std::int64_t> constant_ints(const PrepareContext& context, std::size_t index,
                                        const char* name);
// Ints from input `index` when present, else from attribute `attr` (ops that moved
// an attribute to an input). `found` tells whether either was given.
std::vector<std::int64_t> ints_from_input_or_attr(const PrepareContext& context, std::size_t index,
                                                  const char* attr, bool* found);

// Numpy-style multidirectional broadcast; throws naming the node on mismatch.
Shape broadcast_shapes(const graph::Node& node, const Shape& a, const Shape& b);
// Element strides of `input` when read at the indices of `output` (0 on broadcast dims).
std::vector<std::int64_t> broadcast_strides(const Shape& input, const Shape& output);

// Copies a strided view of `source` (element strides per output dim, starting at
// element `offset`) into the dense `destination` of shape `shape`.
void copy_strided(const std::byte* source, std::int64_t offset,
                  const std::vector<std::int64_t>& strides, const Shape& shape,
                  std::size_t element_size, std::byte* destination);

// Calls visit(row_offsets...) over all output rows: for every index of the leading
// dims of `shape`, the element offset of each operand (given by its strides).
template <typename Visit>
void for_each_row(const Shape& shape, const std::vector<std::vector<std::int64_t>>& strides,
                  Visit&& visit) {
  const std::size_t rank = shape.size();
  const std::size_t operands = strides.size();
  std::vector<std::int64_t> offsets(operands, 0);
  if (rank == 0) {
    visit(offsets, std::int64_t{1});
    return;
  }
  for (std::int64_t d : shape)
    if (d == 0) return;
  std::vector<std::int64_t> index(rank, 0);
  const std::int64_t inner = shape[rank - 1];
  while (true) {
    visit(offsets, inner);
    std::size_t axis = rank - 1;
    while (true) {
      if (axis == 0) return;
      --axis;
      ++index[axis];
      for (std::size_t k = 0; k < operands; ++k) offsets[k] += strides[k][axis];
      if (index[axis] < shape[axis]) break;
      for (std::size_t k = 0; k < operands; ++k) offsets[k] -= strides[k][axis] * shape[axis];
      index[axis] = 0;
    }
  }
}

// Calls f(T{}) with T the C++ type of `dtype` among f32, i32, i64 (else throws).
template <typename F>
void dispatch_numeric(const graph::Node& node, DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32:
      f(float{});
      return;
    case DType::i32:
      f(std::int32_t{});
      return;
    case DType::i64:
      f(std::int64_t{});
      return;
    case DType::i8:
      f(std::int8_t{});
      return;
    case DType::u8:
      f(std::uint8_t{});
      return;
    default:
      fail("node {}: dtype {} is not supported", node.label(), dtype_name(dtype));
  }
}

// Attribute and shape-parameter values above this are rejected, so that sums and
// products of a few of them cannot overflow int64.
inline constexpr std::int64_t kMaxParameter = kMaxTensorElements;

inline std::int64_t product(const Shape& shape, std::size_t begin, std::size_t end) {
  std::int64_t result = 1;
  for (std::size_t i = begin; i < end && i < shape.size(); ++i) result *= shape[i];
  return result;
}

}  // namespace edgeperf::runtime::reference
