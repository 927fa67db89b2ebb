#pragma once
// The RLE / bit-packed hybrid encoding of Parquet (definition levels and
// dictionary indices), bit widths 0..32.
#include <cstddef>
#include <cstdint>
#include <string>

namespace edgeperf::columnar::rle {

// Bits needed to store values 0..max_value (at least 1).
int bit_width_for(std::uint32_t max_value);

// Appends `count` values as a hybrid stream without length prefix.
void encode(const std::uint32_t* values, std::size_t count, int bit_width, std::string& out);

// Decodes exactly `count` values from [data, data+size); throws Error when the
// stream ends early or is malformed. Returns the bytes consumed.
std::size_t decode(const std::uint8_t* data, std::size_t size, int bit_width, std::uint32_t* out,
                   std::size_t count);

}  // namespace edgeperf::columnar::rle
