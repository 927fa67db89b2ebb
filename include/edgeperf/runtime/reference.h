#pragma once
// The reference backend: plain C++ for every supported op. It is the oracle the
// other backends are tested against, and it defines shape inference for all ops.
#include <span>
#include <string>
#include <string_view>

#include "edgeperf/runtime/kernel.h"

namespace edgeperf::runtime {

std::span<const KernelRegistration> reference_kernels();
// Registry keys are op types for the default ONNX domain and "<domain>.<op_type>"
// otherwise ("com.microsoft.MatMulNBits").
std::string registry_key(const graph::Node& node);
// nullptr when the op is not supported. By registry key, or for a node.
const KernelRegistration* find_reference_kernel(std::string_view key);
const KernelRegistration* find_reference_kernel(const graph::Node& node);

}  // namespace edgeperf::runtime
