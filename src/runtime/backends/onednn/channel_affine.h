#pragma once
// y = act(x * scale[c] + shift[c]) over `pixels` rows of `lanes` channels each: row p of x
// starts at x + p * x_stride, of y at y + p * y_stride (a channel block of a blocked or plain
// layout: both strides = lanes; a slice of a channels-last tensor: the tensors' channel
// counts). act is a leaky ReLU (slope 0: ReLU) or none. DenseNet's pre-activation
// BatchNormalization, applied while its Concat copies each part into place.
#include <cstdint>

namespace edgeperf::runtime::onednn {

struct ChannelAffine {
  const float* scale;  // [lanes]
  const float* shift;  // [lanes]
  bool relu = false;
  float slope = 0.0f;  // y < 0 becomes y * slope when relu
};

template <typename In, typename Out>
struct AffineRows {
  const In* x;
  std::int64_t x_stride;
  Out* y;
  std::int64_t y_stride;
  std::int64_t pixels, lanes;
};
using ChannelRows = AffineRows<float, float>;

// The oracle.
void channel_affine_scalar(const ChannelAffine& affine, const ChannelRows& rows);
// The widest version this CPU runs (AVX-512, AVX2 or the baseline, chosen at run time).
void channel_affine(const ChannelAffine& affine, const ChannelRows& rows);
// Quantized on the way out: y = saturate(round(act(x * scale[c] + shift[c])) + zero),
// rounding half to even (QuantizeLinear with the output's scale folded into scale and
// shift). x is bytes (the input's dequantization folded in too) or floats. DenseNet's
// int8 pre-activation: Concat, BatchNormalization, ReLU and QuantizeLinear at once.
// From bytes, every version computes the oracle's bytes when each scale has at most 16
// significant bits (byte_affine_scale): a byte times such a scale is exact, so a fused
// multiply-add and a multiply then an add round the same. From floats they may differ by
// one where the value lies within a rounding error of a half.
struct ByteAffine : ChannelAffine {
  std::int32_t zero = 0;
};

// `scale` rounded to 16 significant bits.
float byte_affine_scale(float scale);

#define EP_CHANNEL_AFFINE_QUANTIZE(In, Out)                                              \
  void channel_affine_scalar(const ByteAffine& affine, const AffineRows<In, Out>& rows); \
  void channel_affine(const ByteAffine& affine, const AffineRows<In, Out>& rows);
EP_CHANNEL_AFFINE_QUANTIZE(std::uint8_t, std::uint8_t)
EP_CHANNEL_AFFINE_QUANTIZE(std::int8_t, std::int8_t)
EP_CHANNEL_AFFINE_QUANTIZE(float, std::uint8_t)
EP_CHANNEL_AFFINE_QUANTIZE(float, std::int8_t)
#undef EP_CHANNEL_AFFINE_QUANTIZE

// "avx512", "avx2" or "baseline": what channel_affine runs here.
const char* channel_affine_isa();

}  // namespace edgeperf::runtime::onednn
