#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgeperf {

enum class DType : std::uint8_t { f32, f16, i8, u8, i32, i64, boolean };

// "512 B", "1.5 KiB", "3.2 MiB": a byte count for messages.
std::string bytes_text(std::size_t bytes);

std::size_t dtype_size(DType dtype);
std::string_view dtype_name(DType dtype);
// Parses the names dtype_name() prints ("f32", "i64", "bool", ...); throws Error otherwise.
DType parse_dtype(std::string_view name);

// IEEE 754 binary16 stored as uint16_t.
using float16_bits = std::uint16_t;
float half_to_float(float16_bits bits);
float16_bits float_to_half(float value);

template <typename T>
constexpr DType dtype_of();
// clang-format off
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<std::uint16_t>() { return DType::f16; }
template <> constexpr DType dtype_of<std::int8_t>() { return DType::i8; }
template <> constexpr DType dtype_of<std::uint8_t>() { return DType::u8; }
template <> constexpr DType dtype_of<std::int32_t>() { return DType::i32; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::i64; }
template <> constexpr DType dtype_of<bool>() { return DType::boolean; }
// clang-format on

}  // namespace edgeperf
