#include "spatial.h"

#include <algorithm>

#include "edgeperf/core/error.h"
#include "edgeperf/graph/ops/conv.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

void check_values(const graph::Node& node, const char* key, const std::vector<std::int64_t>& values,
                  std::int64_t minimum) {
  for (std::int64_t value : values) {
    EP_CHECK(value >= minimum && value <= kMaxParameter,
             "node {}: attribute '{}' has invalid value {}", node.label(), key, value);
  }
}

std::int64_t divide_rounding(std::int64_t numerator, std::int64_t denominator, bool ceil) {
  return ceil ? (numerator + denominator - 1) / denominator : numerator / denominator;
}

}  // namespace

Window resolve_window(const graph::Node& node, const std::vector<std::int64_t>& input,
                      const std::vector<std::int64_t>& kernel, bool ceil_mode) {
  const std::size_t rank = input.size();
  EP_CHECK(kernel.size() == rank, "node {}: kernel has {} dims for {} spatial dims", node.label(),
           kernel.size(), rank);
  Window window;
  window.kernel = kernel;
  for (std::int64_t k : kernel) {
    EP_CHECK(k >= 1 && k <= kMaxParameter, "node {}: kernel size {} is invalid", node.label(), k);
  }
  const graph::ops::ConvAttrs attrs = graph::ops::ConvAttrs::read(node, rank);
  check_values(node, "strides", attrs.strides, 1);
  check_values(node, "dilations", attrs.dilations, 1);
  check_values(node, "pads", attrs.pads, 0);
  window.strides = attrs.strides;
  window.dilations = attrs.dilations;
  window.pads_begin = attrs.pads_begin();
  window.pads_end = attrs.pads_end();
  window.output.resize(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::int64_t extent = (kernel[i] - 1) * window.dilations[i] + 1;
    const std::int64_t stride = window.strides[i];
    if (attrs.same_padding()) {
      const std::int64_t out = divide_rounding(input[i], stride, true);
      const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * stride + extent - input[i]);
      const std::int64_t small = total / 2;
      window.pads_begin[i] =
          attrs.auto_pad == graph::ops::AutoPad::same_upper ? small : total - small;
      window.pads_end[i] = total - window.pads_begin[i];
      window.output[i] = out;
      continue;
    }
    if (attrs.auto_pad == graph::ops::AutoPad::valid) {
      window.pads_begin[i] = 0;
      window.pads_end[i] = 0;
    }
    const std::int64_t padded = input[i] + window.pads_begin[i] + window.pads_end[i];
    EP_CHECK(padded >= extent,
             "node {}: kernel extent {} is larger than the padded input {} on spatial dim {}",
             node.label(), extent, padded, i);
    std::int64_t out = divide_rounding(padded - extent, stride, ceil_mode) + 1;
    // A window must start inside the input or the left padding (ceil_mode).
    if (ceil_mode && (out - 1) * stride >= input[i] + window.pads_begin[i]) --out;
    window.output[i] = out;
  }
  return window;
}

Dims3 to_dims3(const std::vector<std::int64_t>& values, std::int64_t fill) {
  Dims3 dims{fill, fill, fill};
  const std::size_t shift = 3 - values.size();
  for (std::size_t i = 0; i < values.size(); ++i) dims[shift + i] = values[i];
  return dims;
}

}  // namespace edgeperf::runtime::reference
