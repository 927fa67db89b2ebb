#pragma once
// Depthwise 5x5 and 7x7 convolution of channels-last u8 activations with s8 weights, on
// AVX-512 VNNI. oneDNN 2.6 runs these layers (MobileNetV3, EfficientNet, MNASNet: 5x5;
// ConvNeXt: 7x7) on its jit_int8 kernel at about the speed of its f32 one.
//
// A channel's vertical taps fill two 32-bit lanes, rows 0-3 and rows 4-6 padded with
// zeros, so one input column costs two VNNI ops per 16 channels. Per output row and
// 64-channel block, each input column is shuffled into that form once, into a buffer,
// rather than once per output that reads it (up to 7 times); then each quarter of the
// channels runs over a tile of output columns with its weights in registers.
//
// Lifecycle: construct (packs weights and requantization constants), then run.
#include <cstdint>
#include <span>
#include <vector>

#include "depthwise_u8.h"

namespace edgeperf::runtime::onednn {

class DepthwiseConvU8Wide {
 public:
  static bool available();  // x86 with AVX-512 BW and VNNI (CpuFeatures)
  static bool supports(const DepthwiseU8Shape& shape);

  // weights: [channels, 1, kernel, kernel] row-major.
  DepthwiseConvU8Wide(const DepthwiseU8Shape& shape, std::span<const std::int8_t> weights,
                      const DepthwiseU8Requant& requant);

  // src: [images, in_height, in_width, channels]; dst: [images, out_h, out_w, channels].
  void run(const std::uint8_t* src, std::uint8_t* dst, int threads) const;
  // Part `part` of `parts` of run's work (parts <= max_parts()).
  void run_part(const std::uint8_t* src, std::uint8_t* dst, int part, int parts) const;
  std::int64_t max_parts() const { return shape_.images * shape_.out_height * blocks_; }

  std::size_t packed_bytes() const;     // weights and requantization constants
  std::size_t workspace_bytes() const;  // the padding row (the column buffers are on the stack)

 private:
  void run_row(const std::uint8_t* src, std::uint8_t* dst, std::int64_t out_row,
               std::int64_t block) const;

  DepthwiseU8Shape shape_;
  std::uint8_t min_, max_;
  std::int64_t blocks_;  // 64-channel blocks
  // Per block: [quarter][kw][set][64 bytes]: 16 channels' taps of one column, set 0 rows
  // 0-3 and set 1 rows 4-6 and zeros, as 4 bytes per channel in the order of the
  // AVX-512 byte unpacks (for_each_vnni_lane).
  AlignedBytes weights_;
  std::vector<float> scale_;           // per block: [quarter][16], lanes as the accumulators
  std::vector<float> offset_;          // same order
  std::vector<std::uint8_t> pad_row_;  // one input row of zero points, for rows outside
};

}  // namespace edgeperf::runtime::onednn
