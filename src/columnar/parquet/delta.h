#pragma once
// DELTA_BINARY_PACKED decoding (Parquet Encodings.md), as DuckDB and other
// writers use for integer columns in format v2 files.
#include <cstddef>
#include <cstdint>
#include <span>

namespace edgeperf::columnar::delta {

// Decodes exactly `count` values; throws Error when the data is malformed or short.
void decode(std::span<const std::uint8_t> data, std::size_t count, std::int32_t* out);
void decode(std::span<const std::uint8_t> data, std::size_t count, std::int64_t* out);

}  // namespace edgeperf::columnar::delta
