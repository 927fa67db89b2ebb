#pragma once
// Frame to model input: crop or letterbox to the model's aspect ratio, bilinear resize
// (half-pixel centres, as torchvision and OpenCV's INTER_LINEAR), per-channel
// normalization, and the model's layout, in one pass.
#include <array>
#include <cstdint>
#include <string>

#include "edgeperf/vision/source.h"

namespace edgeperf::vision {

enum class Fit {
  crop,       // the largest centred region with the model's aspect ratio, resized
  stretch,    // the whole frame, resized to the model's size
  letterbox,  // the whole frame scaled to fit, centred, the rest filled with pad_value
};
Fit parse_fit(const std::string& name);  // throws Error naming the accepted values

enum class Resize {
  bilinear,  // half-pixel centres, as torchvision and OpenCV's INTER_LINEAR
  area,      // the mean of the covered source pixels when shrinking (INTER_AREA); no aliasing
};
Resize parse_resize(const std::string& name);

struct PreprocessConfig {
  int width = 224, height = 224;  // the model input's
  bool nchw = true;               // false: NHWC
  bool batched = true;            // false: [3, H, W] with no batch axis
  bool uint8 = false;             // the model takes uint8 pixels, not normalized floats
  // The model takes its input quantized (vision/quantized_input.h): normalized values
  // written as round_half_even(x / scale) + zero_point, saturated to int8 or uint8.
  bool quantized = false;
  float quant_scale = 1;
  int quant_zero_point = 0;
  bool quant_signed = false;
  Fit fit = Fit::crop;
  Resize resize = Resize::bilinear;
  // y = (pixel / 255 - mean[c]) / std[c]
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  float pad_value = 114;  // letterbox fill, in pixel units (0-255)
};

// Where the model's pixels come from: the region of the frame (src) that is resized into
// the region of the model input (dst); outside dst (letterbox) the input is padding.
struct Placement {
  double src_x = 0, src_y = 0, src_w = 0, src_h = 0;
  int dst_x = 0, dst_y = 0, dst_w = 0, dst_h = 0;
};
Placement place(int frame_width, int frame_height, const PreprocessConfig& config);

// Writes height * width * 3 floats to `out`.
void preprocess(const Frame& frame, const PreprocessConfig& config, float* out);
// For a model that takes uint8 pixels (TensorFlow's image_tensor, say): resized and
// placed the same way, rounded, not normalized; letterbox padding is pad_value.
void preprocess_u8(const Frame& frame, const PreprocessConfig& config, std::uint8_t* out);
// For config.quantized: normalized, then quantized; `out` holds int8 or uint8 values.
void preprocess_quantized(const Frame& frame, const PreprocessConfig& config, void* out);

}  // namespace edgeperf::vision
