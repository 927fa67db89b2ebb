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

struct ChannelRows {
  const float* x;
  std::int64_t x_stride;
  float* y;
  std::int64_t y_stride;
  std::int64_t pixels, lanes;
};

// The oracle.
void channel_affine_scalar(const ChannelAffine& affine, const ChannelRows& rows);
// The widest version this CPU runs (AVX-512, AVX2 or the baseline, chosen at run time).
void channel_affine(const ChannelAffine& affine, const ChannelRows& rows);
// "avx512", "avx2" or "baseline": what channel_affine runs here.
const char* channel_affine_isa();

}  // namespace edgeperf::runtime::onednn
