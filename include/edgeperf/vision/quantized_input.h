#pragma once
// An int8 model's quantized input fed directly: when the model's one f32 input goes only
// into a per-tensor QuantizeLinear (what static QDQ quantization writes), the input is
// retyped to that node's integer type and the node removed, so preprocessing writes the
// quantized values itself (y = saturate(round_half_even(x / scale) + zero_point), the
// ONNX definition) and the first layer reads them without an f32 tensor in between.
#include <cstdint>
#include <optional>

#include "edgeperf/graph/graph.h"

namespace edgeperf::vision {

struct InputQuantization {
  float scale = 1;
  std::int32_t zero_point = 0;
  bool is_signed = false;  // int8, else uint8
};

// Rewrites `graph` as above and returns the quantization; nullopt (graph untouched) when
// the pattern is absent.
std::optional<InputQuantization> take_input_quantization(graph::Graph& graph);

}  // namespace edgeperf::vision
