#include "conv_geometry.h"

#include <algorithm>

#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

std::vector<std::int64_t> spatial_dims(const Shape& shape) {
  return {shape.begin() + 2, shape.end()};
}

// Output positions o with o * stride + shift inside [0, size): [lo, hi).
void valid_range(std::int64_t size, std::int64_t out_size, std::int64_t stride, std::int64_t shift,
                 std::int64_t* lo, std::int64_t* hi) {
  const std::int64_t first = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
  const std::int64_t last = size - 1 - shift < 0 ? -1 : (size - 1 - shift) / stride;
  *lo = std::min(first, out_size);
  *hi = std::max(*lo, std::min(last + 1, out_size));
}

}  // namespace

ConvGeometry resolve_conv_geometry(const PrepareContext& context, std::size_t x_index,
                                   std::size_t w_index, std::string_view x_name,
                                   std::string_view w_name) {
  const graph::Node& node = context.node;
  const Shape& x = context.inputs[x_index].shape;
  const Shape& w = context.inputs[w_index].shape;
  EP_CHECK(x.size() >= 3 && x.size() <= 5, "node {}: input {} must have rank 3 to 5, got {}",
           node.label(), x_name, shape_to_string(x));
  EP_CHECK(w.size() == x.size(), "node {}: weight {} {} must have the rank of {} {}", node.label(),
           w_name, shape_to_string(w), x_name, shape_to_string(x));
  ConvGeometry g;
  g.batch = x[0];
  g.in_channels = x[1];
  g.out_channels = w[0];
  g.group = node.attr_int("group", 1);
  EP_CHECK(g.group >= 1 && g.in_channels % g.group == 0 && g.out_channels % g.group == 0,
           "node {}: group {} does not divide input channels {} and output channels {}",
           node.label(), g.group, g.in_channels, g.out_channels);
  EP_CHECK(w[1] * g.group == g.in_channels,
           "node {}: weight {} {} expects {} input channels per group, {} {} has {} with group {}",
           node.label(), w_name, shape_to_string(w), w[1], x_name, shape_to_string(x),
           g.in_channels, g.group);
  const std::vector<std::int64_t> kernel = spatial_dims(w);
  if (node.has_attr("kernel_shape")) {
    EP_CHECK(node.attr_ints("kernel_shape") == kernel,
             "node {}: kernel_shape attribute does not match weight shape {}", node.label(),
             shape_to_string(w));
  }
  const Window window = resolve_window(node, spatial_dims(x), kernel, false);
  g.input = to_dims3(spatial_dims(x), 1);
  g.kernel = to_dims3(kernel, 1);
  g.output = to_dims3(window.output, 1);
  g.strides = to_dims3(window.strides, 1);
  g.dilations = to_dims3(window.dilations, 1);
  g.pads = to_dims3(window.pads_begin, 0);
  g.output_shape = {g.batch, g.out_channels};
  g.output_shape.insert(g.output_shape.end(), window.output.begin(), window.output.end());
  return g;
}

std::vector<Tap> kernel_taps(const ConvGeometry& g) {
  std::vector<Tap> taps;
  for (std::int64_t index = 0; index < g.kernel_size(); ++index) {
    const Dims3 k{index / (g.kernel[1] * g.kernel[2]), index / g.kernel[2] % g.kernel[1],
                  index % g.kernel[2]};
    Tap tap;
    tap.index = index;
    bool empty = false;
    for (int a = 0; a < 3; ++a) {
      tap.shift[a] = k[a] * g.dilations[a] - g.pads[a];
      valid_range(g.input[a], g.output[a], g.strides[a], tap.shift[a], &tap.lo[a], &tap.hi[a]);
      empty = empty || tap.lo[a] == tap.hi[a];
    }
    if (!empty) taps.push_back(tap);
  }
  return taps;
}

}  // namespace edgeperf::runtime::reference
