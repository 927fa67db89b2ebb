#pragma once
// Dynamic INT8 matmul: the pattern ONNX Runtime's dynamic quantizer writes,
//   DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_s8, x_zp[, 0]) -> Cast(float)
//   -> Mul(., Mul(x_scale, w_scale)) [-> Add(., bias)] [-> Relu]
// as one step: quantize x at run time, u8 x s8 inner product in oneDNN (VNNI), then
// the zero-point correction, scale, bias and Relu.
#include <vector>

#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime::onednn {

// Steps for every such pattern whose nodes form a contiguous run; marks them in `taken`.
std::vector<Step> lower_dynamic_matmuls(const LoweringInput& input, std::vector<bool>& taken);

}  // namespace edgeperf::runtime::onednn
