#pragma once
// The reference backend: plain C++ for every supported op. It is the oracle the
// other backends are tested against, and it defines shape inference for all ops.
#include <span>
#include <string_view>

#include "edgeperf/runtime/kernel.h"

namespace edgeperf::runtime {

std::span<const KernelRegistration> reference_kernels();
// nullptr when the op is not supported (default ONNX domain only).
const KernelRegistration* find_reference_kernel(std::string_view op_type);

}  // namespace edgeperf::runtime
