#pragma once
// Concat -> channel shuffle -> channel slices in one pass over channels-last pixels.
// ShuffleNet's units end with Concat(parts) -> Reshape [N, g, C/g, H, W] -> Transpose
// (0, 2, 1, 3, 4) -> Reshape [N, C, H, W] and then slice the result along the channels,
// often straight into a QuantizeLinear. Run op by op that is a copy per op, each a
// reorder; here each pixel's parts are read once (dequantized when they are bytes) and
// every slice written in its own type.
//
// Shuffled channel j is channel (j % g) * (C / g) + j / g of the concatenation.
#include <cstdint>
#include <vector>

namespace edgeperf::runtime::onednn {

enum class ShuffleType { f32, u8, s8 };

// A dense channels-last tensor: `channels` values a pixel; bytes with a per-tensor scale
// and zero point (x = (q - zero) * scale).
struct ShuffleTensor {
  ShuffleType type = ShuffleType::f32;
  float scale = 1.0f;
  std::int32_t zero = 0;
  std::int64_t channels = 0;
};

// Channels [first, first + channels) of the shuffled tensor, in its own type: a byte
// output is q = saturate(round_half_even(x / scale) + zero), as QuantizeLinear.
struct ShuffleOutput : ShuffleTensor {
  std::int64_t first = 0;
};

struct ChannelShuffleSpec {
  std::vector<ShuffleTensor> parts;  // concatenated along the channels
  std::int64_t groups = 1;           // g, a divisor of the parts' channel total
  std::vector<ShuffleOutput> outputs;
};

// Lifecycle: construct (checks the spec, maps the channels), then run on pixel ranges.
class ChannelShuffle {
 public:
  explicit ChannelShuffle(ChannelShuffleSpec spec);

  std::int64_t channels() const { return channels_; }
  const ChannelShuffleSpec& spec() const { return spec_; }
  // Pixels [begin, end) of every part into every output; `parts` and `outputs` point at
  // pixel 0. The widest version this CPU runs (AVX-512, AVX2 or baseline).
  void run(const void* const* parts, void* const* outputs, std::int64_t begin,
           std::int64_t end) const;
  // The oracle: one value at a time, straight from the definition.
  void run_scalar(const void* const* parts, void* const* outputs, std::int64_t begin,
                  std::int64_t end) const;
  // Concatenated channel of each output's channels, in order.
  const std::vector<std::vector<std::int32_t>>& sources() const { return sources_; }

 private:
  ChannelShuffleSpec spec_;
  std::int64_t channels_ = 0;
  std::vector<std::vector<std::int32_t>> sources_;
};

// "avx512", "avx2" or "baseline": what ChannelShuffle::run runs here.
const char* channel_shuffle_isa();

}  // namespace edgeperf::runtime::onednn
