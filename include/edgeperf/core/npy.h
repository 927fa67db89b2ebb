#pragma once
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

#include "edgeperf/core/tensor.h"

namespace edgeperf {

// NumPy .npy format, version 1.0 to 3.0, little-endian, C order, the dtypes of DType.
// Throws Error naming `source` (a path or label) and the part at fault.
Tensor parse_npy(std::span<const std::byte> bytes, const std::string& source);
Tensor read_npy(const std::filesystem::path& path);
std::string serialize_npy(const Tensor& tensor);
void write_npy(const std::filesystem::path& path, const Tensor& tensor);  // atomic

}  // namespace edgeperf
