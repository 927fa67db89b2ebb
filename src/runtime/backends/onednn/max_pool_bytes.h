#pragma once
// MaxPool over 8-bit channels-last images (u8 or s8), windows clipped to the image: padding
// never wins. Quantization is monotonic, so the max of the bytes is the byte of the max;
// when the output is quantized otherwise, one 256-entry table (byte_table.h) maps each
// pooled byte. oneDNN 2.6's int8 pooling took 60 us for ResNet-18's 3x3/2 pool of 64
// channels at 112 x 112 on one thread, about 2 ns per window tap.
#include <cstdint>
#include <optional>

#include "byte_table.h"

namespace edgeperf::runtime::onednn {

struct MaxPoolBytesShape {
  std::int64_t images = 1, channels = 1;
  std::int64_t in_height = 1, in_width = 1, out_height = 1, out_width = 1;
  std::int64_t kernel_height = 1, kernel_width = 1, stride_height = 1, stride_width = 1;
  std::int64_t pad_top = 0, pad_left = 0;  // padding after the image is implied by the sizes
};

// Every window holds at least one pixel of the image, and every size is positive.
bool max_pool_bytes_supported(const MaxPoolBytesShape& shape);

// The oracle: one output byte at a time.
void max_pool_bytes_scalar(const MaxPoolBytesShape& shape, bool is_signed, const std::uint8_t* src,
                           std::uint8_t* dst);

// Output rows [first_row, end_row) of all images' rows, for one ISA.
using RowsFn = void (*)(const MaxPoolBytesShape& shape, const std::uint8_t* src, std::uint8_t* dst,
                        std::int64_t first_row, std::int64_t end_row, const ByteTable* requantize);

class MaxPoolBytes {
 public:
  // `requantize`: applied to every pooled byte (another output scale or zero point).
  MaxPoolBytes(const MaxPoolBytesShape& shape, bool is_signed,
               std::optional<ByteTable> requantize = std::nullopt);
  // Output rows split between `threads` in contiguous ranges.
  void run(const std::uint8_t* src, std::uint8_t* dst, int threads) const;
  // Part `part` of `parts` of run's work (parts <= max_parts()).
  void run_part(const std::uint8_t* src, std::uint8_t* dst, int part, int parts) const;
  std::int64_t max_parts() const { return shape_.images * shape_.out_height; }
  // What run() uses on this CPU: "avx512", "avx2" or "generic".
  const char* isa() const { return isa_; }

 private:
  MaxPoolBytesShape shape_;
  const char* isa_ = nullptr;
  RowsFn pool_rows_ = nullptr;
  std::optional<ByteTable> requantize_;
};

}  // namespace edgeperf::runtime::onednn
