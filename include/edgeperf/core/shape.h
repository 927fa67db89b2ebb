#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace edgeperf {

using Shape = std::vector<std::int64_t>;

// Tensors above this many elements are rejected: no edge model needs them, and
// it keeps every byte count far from overflow.
inline constexpr std::int64_t kMaxTensorElements = std::int64_t{1} << 32;

// Product of the dimensions. Throws Error naming `what` when a dimension is
// negative or the count exceeds kMaxTensorElements (no overflow is possible).
std::int64_t element_count(const Shape& shape, const std::string& what = "tensor");

std::string shape_to_string(const Shape& shape);  // "[1, 3, 224, 224]"

// Row-major strides in elements.
std::vector<std::int64_t> contiguous_strides(const Shape& shape);

}  // namespace edgeperf
