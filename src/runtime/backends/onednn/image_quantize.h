#pragma once
// QuantizeLinear of a planar (NCHW) f32 image with three channels straight into
// channels-last (NHWC) u8, the layout the first int8 conv reads. oneDNN 2.6 does this
// as two reorders (quantize, then transpose the bytes), each as slow as the whole job.
#include <cstdint>

namespace edgeperf::runtime::onednn {

struct ImageQuantize {
  std::int64_t images = 1;
  std::int64_t pixels = 0;  // height * width
  float inverse_scale = 1;  // 1 / scale, as oneDNN's quantizing reorder multiplies
  std::uint8_t zero_point = 0;
};

// A vector kernel runs here: AVX-512 VBMI on x86 (CpuFeatures), NEON on arm64.
bool image_quantize_available();

// src: [images, 3, pixels] f32; dst: [images, pixels, 3] u8 with
// dst = clamp(round_half_even(src * inverse_scale) + zero_point, 0, 255).
void quantize_rgb_to_nhwc_u8(const ImageQuantize& job, const float* src, std::uint8_t* dst,
                             int threads);

// The same in plain C++: the tests' oracle.
void quantize_rgb_to_nhwc_u8_scalar(const ImageQuantize& job, const float* src, std::uint8_t* dst);

}  // namespace edgeperf::runtime::onednn
