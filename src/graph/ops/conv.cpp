#include "edgeperf/graph/ops/conv.h"

#include "edgeperf/core/error.h"

namespace edgeperf::graph::ops {
namespace {

std::vector<std::int64_t> ints_of_length(const Node& node, const char* key, std::size_t length,
                                         std::int64_t fallback) {
  std::vector<std::int64_t> values =
      node.attr_ints(key, std::vector<std::int64_t>(length, fallback));
  EP_CHECK(values.size() == length, "node {}: attribute '{}' has {} values, expected {}",
           node.label(), key, values.size(), length);
  return values;
}

AutoPad parse_auto_pad(const Node& node) {
  const std::string text = node.attr_string("auto_pad", "NOTSET");
  if (text == "NOTSET") return AutoPad::notset;
  if (text == "VALID") return AutoPad::valid;
  if (text == "SAME_UPPER") return AutoPad::same_upper;
  if (text == "SAME_LOWER") return AutoPad::same_lower;
  fail("node {}: unknown auto_pad '{}'", node.label(), text);
}

}  // namespace

ConvAttrs ConvAttrs::read(const Node& node, std::size_t spatial_rank) {
  ConvAttrs attrs;
  attrs.group = node.attr_int("group", 1);
  attrs.kernel_shape = node.attr_ints("kernel_shape");
  attrs.strides = ints_of_length(node, "strides", spatial_rank, 1);
  attrs.dilations = ints_of_length(node, "dilations", spatial_rank, 1);
  attrs.pads = ints_of_length(node, "pads", 2 * spatial_rank, 0);
  attrs.auto_pad = parse_auto_pad(node);
  return attrs;
}

std::vector<std::int64_t> ConvAttrs::pads_begin() const {
  return {pads.begin(), pads.begin() + static_cast<std::ptrdiff_t>(pads.size() / 2)};
}

std::vector<std::int64_t> ConvAttrs::pads_end() const {
  return {pads.begin() + static_cast<std::ptrdiff_t>(pads.size() / 2), pads.end()};
}

}  // namespace edgeperf::graph::ops
