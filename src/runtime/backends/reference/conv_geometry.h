#pragma once
// Geometry shared by the Conv-like ops (Conv, QLinearConv, ConvInteger): channels, groups,
// the sliding window, and the kernel taps with the output ranges each reads inside the input.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "edgeperf/runtime/kernel.h"
#include "spatial.h"

namespace edgeperf::runtime::reference {

struct ConvGeometry {
  std::int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  Dims3 input{}, kernel{}, output{}, strides{}, dilations{}, pads{};
  Shape output_shape;
  std::int64_t in_plane() const { return input[0] * input[1] * input[2]; }
  std::int64_t out_plane() const { return output[0] * output[1] * output[2]; }
  std::int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
};

// Reads the data input (x_index) and weight (w_index) shapes and the node's window
// attributes; `x_name` and `w_name` name the inputs in errors. Checks ranks, groups
// and kernel_shape; dtypes and bias are the caller's.
ConvGeometry resolve_conv_geometry(const PrepareContext& context, std::size_t x_index,
                                   std::size_t w_index, std::string_view x_name,
                                   std::string_view w_name);

// One kernel position with the output ranges that read inside the input.
struct Tap {
  std::int64_t index = 0;  // position in the kernel
  Dims3 shift{};           // input position = output position * stride + shift
  Dims3 lo{}, hi{};        // valid output range [lo, hi) per axis
};

// Taps in kernel order, skipping those that never read inside the input.
std::vector<Tap> kernel_taps(const ConvGeometry& g);

}  // namespace edgeperf::runtime::reference
