#pragma once
// Depthwise 3x3 convolution of channels-last u8 activations with s8 weights: the int8
// layer oneDNN 2.6 runs slowest (its brdgmm kernel does one VNNI multiply-add per 16
// channels, as many instructions as f32). Here the three vertical taps of a channel
// (and a zero) share one 32-bit lane, so one VNNI instruction does 64 multiply-adds,
// and each input column's taps are shuffled into place once for all the outputs that
// read them.
//
// Lifecycle: construct (packs weights and requantization constants), then run.
#include <cstdint>
#include <new>
#include <span>
#include <vector>

namespace edgeperf::runtime::onednn {

// 64-byte aligned, so the kernel loads whole cache lines.
template <typename T>
struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <typename U>
  explicit CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(std::size_t count) {
    return static_cast<T*>(::operator new (count * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* pointer, std::size_t) { ::operator delete (pointer, std::align_val_t{64}); }
  bool operator==(const CacheLineAllocator&) const = default;
};
using AlignedBytes = std::vector<std::int8_t, CacheLineAllocator<std::int8_t>>;

struct DepthwiseU8Shape {
  std::int64_t images = 1;
  std::int64_t channels = 0;
  std::int64_t in_height = 0, in_width = 0;
  std::int64_t out_height = 0, out_width = 0;
  std::int64_t stride = 1;  // both directions
  std::int64_t pad_top = 0, pad_left = 0;
  std::int64_t kernel = 3;  // the window's height and width
};

// y[c] = clamp(round(acc[c] * scale[c] + offset[c]), min, max) where acc[c] sums
// x * w over the kernel's window, with padding read as input_zero_point.
struct DepthwiseU8Requant {
  std::uint8_t input_zero_point = 0;
  std::vector<float> scale;   // per channel: s_in * s_w[c] / s_out
  std::vector<float> offset;  // per channel: (bias[c] - z_in * sum(w[c])) * scale[c] + z_out
  std::uint8_t min = 0, max = 255;
};

// The geometry both kernels run, whatever the kernel size and the CPU: stride 1 or 2 in
// both directions, each padding smaller than the window, and every output's window
// starting inside the input.
bool depthwise_window_fits(const DepthwiseU8Shape& shape);

// The channel order of the AVX-512 kernels' accumulators: accumulator `quarter` (16
// channels) of a 64-channel block holds, in 128-bit lane L and dword j, channel
// 16 * L + 4 * quarter + j, the order the byte unpacks of the input rows produce.
// visit(block, quarter, dword, channel) runs for each lane that holds a channel.
template <typename Visit>
void for_each_vnni_lane(std::int64_t channels, const Visit& visit) {
  for (std::int64_t block = 0; block * 64 < channels; ++block) {
    for (std::int64_t quarter = 0; quarter < 4; ++quarter) {
      for (std::int64_t dword = 0; dword < 16; ++dword) {
        const std::int64_t channel = block * 64 + 16 * (dword / 4) + 4 * quarter + dword % 4;
        if (channel < channels) visit(block, quarter, dword, channel);
      }
    }
  }
}

// Each channel's requantization scale and offset at its accumulator lane, [block][quarter]
// [16], zero in lanes past the last channel: what both AVX-512 kernels load beside their
// accumulators.
void pack_vnni_requant(std::int64_t channels, const DepthwiseU8Requant& requant,
                       std::vector<float>& scale, std::vector<float>& offset);

class DepthwiseConvU8 {
 public:
  // A vector kernel runs here (CpuFeatures): AVX-512 BW and VNNI on x86; on arm64 NEON,
  // with SDOT where the CPU has dotprod (Cortex-A76 and later) and widening multiply-adds
  // where it does not (Cortex-A72).
  static bool available();
  static bool supports(const DepthwiseU8Shape& shape);

  // weights: [channels, 1, 3, 3] row-major.
  DepthwiseConvU8(const DepthwiseU8Shape& shape, std::span<const std::int8_t> weights,
                  const DepthwiseU8Requant& requant);

  // src: [images, in_height, in_width, channels]; dst: [images, out_h, out_w, channels].
  void run(const std::uint8_t* src, std::uint8_t* dst, int threads) const;
  // Part `part` of `parts` of run's work (parts <= max_parts()).
  void run_part(const std::uint8_t* src, std::uint8_t* dst, int part, int parts) const;
  std::int64_t max_parts() const { return shape_.images * shape_.out_height * blocks_; }

  std::size_t packed_bytes() const;     // weights and requantization constants
  std::size_t workspace_bytes() const;  // the padding row

 private:
  void run_row(const std::uint8_t* src, std::uint8_t* dst, std::int64_t out_row,
               std::int64_t block) const;
  void pack_for_vnni(std::span<const std::int8_t> weights, const DepthwiseU8Requant& requant);
  void pack_for_neon(std::span<const std::int8_t> weights, const DepthwiseU8Requant& requant);
  void run_group_neon(const std::uint8_t* const rows[3], std::uint8_t* out, std::int64_t group,
                      std::int64_t count) const;
  void run_group_dotprod(const std::uint8_t* const rows[3], std::uint8_t* out, std::int64_t group,
                         std::int64_t count) const;

  DepthwiseU8Shape shape_;
  std::uint8_t input_zero_point_;
  std::uint8_t min_, max_;
  std::int64_t blocks_;  // 64-channel blocks
  // Packed by pack_for_vnni or pack_for_neon, in the layout its kernel reads (see there).
  AlignedBytes weights_;
  std::vector<float> scale_;           // per block: [quarter][16], lanes as the accumulators
  std::vector<float> offset_;          // same order
  std::vector<std::uint8_t> pad_row_;  // one input row of zero points, for rows outside
  // arm64 with dotprod: SDOT multiplies signed bytes, so inputs run as x - 128 and each
  // channel's accumulator starts at 128 * sum(w) to compensate.
  bool dotprod_ = false;
  std::vector<std::int32_t> compensation_;
};

// Calls row_block(image_src, image_dst, out_row, block) for part `part` of `parts` of the
// output rows of every image times the 64-channel blocks, in contiguous ranges: the work
// split of both depthwise kernels.
template <typename RowBlock>
void for_row_blocks_of_part(const DepthwiseU8Shape& shape, std::int64_t blocks,
                            const std::uint8_t* src, std::uint8_t* dst, int part, int parts,
                            const RowBlock& row_block) {
  const std::int64_t total = shape.images * shape.out_height * blocks;
  const std::int64_t in_image = shape.in_height * shape.in_width * shape.channels;
  const std::int64_t out_image = shape.out_height * shape.out_width * shape.channels;
  for (std::int64_t index = total * part / parts; index < total * (part + 1) / parts; ++index) {
    const std::int64_t row = index / blocks;
    const std::int64_t image = row / shape.out_height;
    row_block(src + image * in_image, dst + image * out_image, row % shape.out_height,
              index % blocks);
  }
}

// The same arithmetic in plain C++, for any kernel size: the oracle for the kernels' tests.
// weights: [channels, 1, kernel, kernel] row-major.
void depthwise_u8_scalar(const DepthwiseU8Shape& shape, std::span<const std::int8_t> weights,
                         const DepthwiseU8Requant& requant, const std::uint8_t* src,
                         std::uint8_t* dst);

}  // namespace edgeperf::runtime::onednn
