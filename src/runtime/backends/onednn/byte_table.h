#pragma once
// dst[i] = table[src[i]]: an 8-bit elementwise chain of a quantized graph
// (DequantizeLinear -> unary ops -> QuantizeLinear) as one lookup per byte. Every byte
// value has its entry, so the table is exact for any chain of per-element functions.
#include <array>
#include <cstddef>
#include <cstdint>

namespace edgeperf::runtime::onednn {

using ByteTable = std::array<std::uint8_t, 256>;

// The oracle.
void apply_byte_table_scalar(const ByteTable& table, const std::uint8_t* src, std::uint8_t* dst,
                             std::size_t count);
// The widest version this CPU runs (AVX-512 VBMI: 64 bytes per two permutes), chosen at
// run time; the scalar loop elsewhere.
void apply_byte_table(const ByteTable& table, const std::uint8_t* src, std::uint8_t* dst,
                      std::size_t count);
// "avx512_vbmi" or "scalar": what apply_byte_table runs here.
const char* byte_table_isa();

}  // namespace edgeperf::runtime::onednn
