#include "delta.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "edgeperf/core/error.h"

namespace edgeperf::columnar::delta {
namespace {

constexpr std::uint64_t kMaxBlockValues = std::uint64_t{1} << 16;

class Cursor {
 public:
  explicit Cursor(std::span<const std::uint8_t> data) : data_(data) {}

  std::uint64_t uleb() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      EP_CHECK(pos_ < data_.size(), "DELTA_BINARY_PACKED data ends at byte {}", pos_);
      const std::uint8_t b = data_[pos_++];
      value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return value;
    }
    fail("DELTA_BINARY_PACKED varint is malformed at byte {}", pos_);
  }
  std::uint64_t zigzag() {
    const std::uint64_t raw = uleb();
    return (raw >> 1) ^ (~(raw & 1) + 1);
  }
  std::span<const std::uint8_t> take(std::size_t length) {
    EP_CHECK(length <= data_.size() - pos_, "DELTA_BINARY_PACKED data ends at byte {}", pos_);
    const auto part = data_.subspan(pos_, length);
    pos_ += length;
    return part;
  }
  std::size_t left() const { return data_.size() - pos_; }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

// Value `index` of a little-endian bit-packed run of `width` (0..64) bits each.
std::uint64_t unpack(std::span<const std::uint8_t> packed, std::size_t index, int width) {
  if (width == 0) return 0;
  const std::size_t bit = index * static_cast<std::size_t>(width);
  const std::size_t first = bit / 8;
  const int shift = static_cast<int>(bit % 8);
  std::uint8_t bytes[16] = {};
  std::memcpy(bytes, packed.data() + first, std::min<std::size_t>(9, packed.size() - first));
  std::uint64_t low = 0;
  std::memcpy(&low, bytes, 8);
  std::uint64_t value = low >> shift;
  if (shift + width > 64) value |= static_cast<std::uint64_t>(bytes[8]) << (64 - shift);
  return width == 64 ? value : value & ((std::uint64_t{1} << width) - 1);
}

template <typename T>
void decode_values(std::span<const std::uint8_t> data, std::size_t count, T* out) {
  Cursor cursor(data);
  const std::uint64_t block_values = cursor.uleb();
  const std::uint64_t miniblocks = cursor.uleb();
  const std::uint64_t total = cursor.uleb();
  std::uint64_t value = cursor.zigzag();
  EP_CHECK(block_values > 0 && block_values <= kMaxBlockValues && miniblocks > 0 &&
               miniblocks <= block_values && block_values % miniblocks == 0 &&
               (block_values / miniblocks) % 8 == 0,
           "DELTA_BINARY_PACKED block of {} values in {} miniblocks is invalid", block_values,
           miniblocks);
  EP_CHECK(total >= count, "DELTA_BINARY_PACKED holds {} values, the page needs {}", total, count);
  if (count == 0) return;
  const std::uint64_t per_miniblock = block_values / miniblocks;
  out[0] = static_cast<T>(value);
  std::size_t done = 1;
  std::vector<int> widths(miniblocks);
  while (done < count) {
    const std::uint64_t min_delta = cursor.zigzag();
    const auto width_bytes = cursor.take(miniblocks);
    for (std::size_t m = 0; m < miniblocks; ++m) widths[m] = width_bytes[m];
    for (std::size_t m = 0; m < miniblocks && done < count; ++m) {
      EP_CHECK(widths[m] <= 64, "DELTA_BINARY_PACKED miniblock bit width {} exceeds 64", widths[m]);
      const auto packed = cursor.take(per_miniblock * static_cast<std::uint64_t>(widths[m]) / 8);
      const std::size_t take =
          static_cast<std::size_t>(std::min<std::uint64_t>(per_miniblock, count - done));
      for (std::size_t i = 0; i < take; ++i) {
        value += min_delta + unpack(packed, i, widths[m]);  // wraps, as the spec intends
        out[done++] = static_cast<T>(value);
      }
    }
  }
}

}  // namespace

void decode(std::span<const std::uint8_t> data, std::size_t count, std::int32_t* out) {
  decode_values(data, count, out);
}

void decode(std::span<const std::uint8_t> data, std::size_t count, std::int64_t* out) {
  decode_values(data, count, out);
}

}  // namespace edgeperf::columnar::delta
