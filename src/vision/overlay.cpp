// Overlays burned into rendered frames (--out, --serve): text needs a font this does not
// carry, so labels are left to the browser view, which gets them as data.
#include <stb/stb_image_write.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "edgeperf/core/error.h"
#include "stages.h"

namespace edgeperf::vision {
namespace {

void paint(Frame& frame, int x, int y, const std::array<std::uint8_t, 3>& colour) {
  if (x < 0 || y < 0 || x >= frame.width || y >= frame.height) return;
  std::uint8_t* pixel = frame.rgb.data() + (static_cast<std::size_t>(y) * frame.width + x) * 3;
  std::copy(colour.begin(), colour.end(), pixel);
}

}  // namespace

std::array<std::uint8_t, 3> class_colour(int label) {
  // Golden-angle hues: neighbouring class indices get distant colours.
  const double hue = std::fmod(label * 137.508, 360.0) / 60.0;
  const double x = 1 - std::fabs(std::fmod(hue, 2.0) - 1);
  std::array<double, 3> rgb{};
  switch (static_cast<int>(hue)) {
    case 0:
      rgb = {1, x, 0};
      break;
    case 1:
      rgb = {x, 1, 0};
      break;
    case 2:
      rgb = {0, 1, x};
      break;
    case 3:
      rgb = {0, x, 1};
      break;
    case 4:
      rgb = {x, 0, 1};
      break;
    default:
      rgb = {1, 0, x};
      break;
  }
  return {static_cast<std::uint8_t>(55 + 200 * rgb[0]),
          static_cast<std::uint8_t>(55 + 200 * rgb[1]),
          static_cast<std::uint8_t>(55 + 200 * rgb[2])};
}

std::string encode_jpeg(const Frame& frame, int quality) {
  std::string bytes;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                               static_cast<std::size_t>(size));
  };
  EP_CHECK(stbi_write_jpg_to_func(append, &bytes, frame.width, frame.height, 3, frame.rgb.data(),
                                  quality) != 0,
           "frame {}: cannot encode it as JPEG ({}x{})", frame.index, frame.width, frame.height);
  return bytes;
}

void draw_confidence(Frame& frame, float probability) {
  const int bar = std::max(2, frame.height / 40);
  const int length =
      static_cast<int>(std::lround(std::clamp(probability, 0.0f, 1.0f) * frame.width));
  for (int y = 0; y < std::min(bar, frame.height); ++y) {
    for (int x = 0; x < frame.width; ++x) {
      paint(frame, x, y,
            x < length ? std::array<std::uint8_t, 3>{40, 220, 90}
                       : std::array<std::uint8_t, 3>{20, 20, 20});
    }
  }
}

void draw_boxes(Frame& frame, const std::vector<Detection>& detections) {
  const int thickness = std::max(1, std::min(frame.width, frame.height) / 240);
  for (const Detection& d : detections) {
    const auto colour = class_colour(d.label);
    const int x1 = static_cast<int>(d.box.x1), y1 = static_cast<int>(d.box.y1);
    const int x2 = static_cast<int>(d.box.x2), y2 = static_cast<int>(d.box.y2);
    for (int t = 0; t < thickness; ++t) {
      for (int x = x1; x <= x2; ++x) {
        paint(frame, x, y1 + t, colour);
        paint(frame, x, y2 - t, colour);
      }
      for (int y = y1; y <= y2; ++y) {
        paint(frame, x1 + t, y, colour);
        paint(frame, x2 - t, y, colour);
      }
    }
  }
}

void blend_mask(Frame& frame, const ClassMask& mask, const PreprocessConfig& input) {
  const Placement p = place(frame.width, frame.height, input);
  const double to_model_x = p.dst_w / p.src_w, to_model_y = p.dst_h / p.src_h;
  const double mask_x = static_cast<double>(mask.width) / input.width;
  const double mask_y = static_cast<double>(mask.height) / input.height;
  for (int y = 0; y < frame.height; ++y) {
    const double model_y = p.dst_y + (y + 0.5 - p.src_y) * to_model_y;
    if (model_y < p.dst_y || model_y >= p.dst_y + p.dst_h) continue;
    const int my = std::min(mask.height - 1, static_cast<int>(model_y * mask_y));
    for (int x = 0; x < frame.width; ++x) {
      const double model_x = p.dst_x + (x + 0.5 - p.src_x) * to_model_x;
      if (model_x < p.dst_x || model_x >= p.dst_x + p.dst_w) continue;
      const int mx = std::min(mask.width - 1, static_cast<int>(model_x * mask_x));
      const int label = mask.labels[static_cast<std::size_t>(my) * mask.width + mx];
      if (label == 0) continue;  // background stays as captured
      const auto colour = class_colour(label);
      std::uint8_t* pixel = frame.rgb.data() + (static_cast<std::size_t>(y) * frame.width + x) * 3;
      for (int c = 0; c < 3; ++c) pixel[c] = static_cast<std::uint8_t>((pixel[c] + colour[c]) / 2);
    }
  }
}

}  // namespace edgeperf::vision
