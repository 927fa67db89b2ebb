#include "edgeperf/core/shape.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "edgeperf/core/error.h"

namespace edgeperf {

std::int64_t element_count(const Shape& shape, const std::string& what) {
  std::int64_t count = 1;
  for (std::int64_t dim : shape) {
    EP_CHECK(dim >= 0, "{} has a negative dimension in shape {}", what, shape_to_string(shape));
    if (dim == 0) return 0;
  }
  for (std::int64_t dim : shape) {
    EP_CHECK(dim <= kMaxTensorElements && count <= kMaxTensorElements / dim,
             "{} shape {} has too many elements (limit 2^32)", what, shape_to_string(shape));
    count *= dim;
  }
  return count;
}

std::string shape_to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::vector<std::int64_t> contiguous_strides(const Shape& shape) {
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

}  // namespace edgeperf
