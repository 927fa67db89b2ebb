#include "rle.h"

#include <algorithm>
#include <cstring>

#include "edgeperf/core/error.h"

namespace edgeperf::columnar::rle {
namespace {

// Bit-packed runs are capped at 63 groups of 8 so their header is one byte
// that can be patched once the run is complete.
constexpr std::size_t kMaxGroupsPerRun = 63;
constexpr std::size_t kMinRleRun = 8;

std::uint8_t* put_varint(std::uint64_t value, std::uint8_t* out) {
  while (value >= 0x80) {
    *out++ = static_cast<std::uint8_t>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  *out++ = static_cast<std::uint8_t>(value);
  return out;
}

// Packs 8 values LSB first into exactly bit_width bytes. Stores 4 bytes at a
// time, so up to 3 bytes past the group may be scribbled (the buffer has slack).
std::uint8_t* pack_group(const std::uint32_t* values, std::size_t available, int bit_width,
                         std::uint8_t* out) {
  std::uint64_t bits = 0;
  int filled = 0;
  for (std::size_t j = 0; j < 8; ++j) {
    const std::uint64_t value = j < available ? values[j] : 0;
    bits |= value << filled;
    filled += bit_width;
    if (filled >= 32) {
      const auto word = static_cast<std::uint32_t>(bits);
      std::memcpy(out, &word, 4);
      out += 4;
      bits >>= 32;
      filled -= 32;
    }
  }
  const auto word = static_cast<std::uint32_t>(bits);
  std::memcpy(out, &word, 4);
  return out + filled / 8;
}

std::size_t run_length(const std::uint32_t* values, std::size_t count) {
  std::size_t run = 1;
  while (run < count && values[run] == values[0]) ++run;
  return run;
}

}  // namespace

int bit_width_for(std::uint32_t max_value) {
  int width = 1;
  while (width < 32 && (max_value >> width) != 0) ++width;
  return width;
}

void encode(const std::uint32_t* values, std::size_t count, int bit_width, std::string& out) {
  const std::size_t value_bytes = (static_cast<std::size_t>(bit_width) + 7) / 8;
  // Worst case per 8 values: a full group plus its share of a run header, or
  // an RLE run (10-byte header + value); plus slack for 4-byte stores.
  const std::size_t start = out.size();
  const std::size_t per_group = std::max<std::size_t>(static_cast<std::size_t>(bit_width) + 1, 14);
  out.resize(start + (count / 8 + 2) * per_group + 16);
  auto* const base = reinterpret_cast<std::uint8_t*>(out.data());
  std::uint8_t* p = base + start;
  std::uint8_t* header = nullptr;
  std::size_t groups = 0;
  auto close_packed_run = [&] {
    if (header == nullptr) return;
    *header = static_cast<std::uint8_t>((groups << 1) | 1);
    header = nullptr;
    groups = 0;
  };
  std::size_t i = 0;
  while (i < count) {
    const std::size_t run = run_length(values + i, count - i);
    if (run >= kMinRleRun) {
      close_packed_run();
      p = put_varint(static_cast<std::uint64_t>(run) << 1, p);
      const std::uint32_t value = values[i];
      for (std::size_t b = 0; b < value_bytes; ++b)
        *p++ = static_cast<std::uint8_t>(value >> (8 * b));
      i += run;
      continue;
    }
    if (header == nullptr) header = p++;
    p = pack_group(values + i, count - i, bit_width, p);
    ++groups;
    i += 8;
    if (groups == kMaxGroupsPerRun) close_packed_run();
  }
  close_packed_run();
  out.resize(static_cast<std::size_t>(p - base));
}

std::size_t decode(const std::uint8_t* data, std::size_t size, int bit_width, std::uint32_t* out,
                   std::size_t count) {
  EP_CHECK(bit_width >= 0 && bit_width <= 32, "RLE bit width {} is not in 0..32", bit_width);
  const std::size_t value_bytes = (static_cast<std::size_t>(bit_width) + 7) / 8;
  const std::uint64_t mask = bit_width == 32 ? 0xffffffffull : ((1ull << bit_width) - 1);
  std::size_t pos = 0;
  std::size_t done = 0;
  while (done < count) {
    std::uint64_t header = 0;
    for (int shift = 0;; shift += 7) {
      EP_CHECK(pos < size, "RLE data ends after {} of {} values", done, count);
      EP_CHECK(shift < 64, "RLE run header is malformed at byte {}", pos);
      const std::uint8_t b = data[pos++];
      header |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    if ((header & 1) == 0) {
      const std::uint64_t run = header >> 1;
      EP_CHECK(value_bytes <= size - pos, "RLE data ends after {} of {} values", done, count);
      std::uint32_t value = 0;
      for (std::size_t b = 0; b < value_bytes; ++b)
        value |= std::uint32_t{data[pos + b]} << (8 * b);
      pos += value_bytes;
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(run, count - done));
      std::fill(out + done, out + done + take, value);
      done += take;
      continue;
    }
    const std::uint64_t groups = header >> 1;
    const std::uint64_t run_bytes = groups * static_cast<std::uint64_t>(bit_width);
    // A run may be cut short by the end of the page only after the last value.
    const std::size_t available = size - pos;
    const std::size_t values_in_run =
        static_cast<std::size_t>(std::min<std::uint64_t>(groups * 8, count - done));
    const std::size_t needed_bits = values_in_run * static_cast<std::size_t>(bit_width);
    EP_CHECK((needed_bits + 7) / 8 <= available, "RLE data ends after {} of {} values", done,
             count);
    const std::uint8_t* packed = data + pos;
    for (std::size_t j = 0; j < values_in_run; ++j) {
      const std::size_t bit = j * static_cast<std::size_t>(bit_width);
      const std::size_t first = bit / 8;
      std::uint64_t word = 0;
      std::memcpy(&word, packed + first, std::min<std::size_t>(8, available - first));
      out[done + j] = static_cast<std::uint32_t>((word >> (bit % 8)) & mask);
    }
    done += values_in_run;
    pos += static_cast<std::size_t>(std::min<std::uint64_t>(run_bytes, available));
  }
  return pos;
}

}  // namespace edgeperf::columnar::rle
