#include "edgeperf/vision/preprocess.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "edgeperf/core/error.h"

namespace edgeperf::vision {
namespace {

// Bilinear taps along one axis, half-pixel centres, clamped at the edges.
struct Taps {
  std::vector<int> first;  // index of the first tap (the second is first + step)
  std::vector<int> second;
  std::vector<float> weight;  // of the second tap
};

Taps taps(int count, double src_start, double src_size, int limit) {
  Taps t;
  t.first.resize(static_cast<std::size_t>(count));
  t.second.resize(t.first.size());
  t.weight.resize(t.first.size());
  const double step = src_size / count;
  for (int i = 0; i < count; ++i) {
    const double at = std::clamp(src_start + (i + 0.5) * step - 0.5, 0.0, limit - 1.0);
    const int lo = static_cast<int>(std::floor(at));
    const auto k = static_cast<std::size_t>(i);
    t.first[k] = lo;
    t.second[k] = std::min(lo + 1, limit - 1);
    t.weight[k] = static_cast<float>(at - lo);
  }
  return t;
}

}  // namespace

Placement place(int frame_width, int frame_height, const PreprocessConfig& config) {
  const double fw = frame_width, fh = frame_height;
  Placement p{0, 0, fw, fh, 0, 0, config.width, config.height};
  const double model_aspect = static_cast<double>(config.width) / config.height;
  if (config.fit == Fit::crop) {
    if (fw / fh > model_aspect) {
      p.src_w = fh * model_aspect;
      p.src_x = (fw - p.src_w) / 2;
    } else {
      p.src_h = fw / model_aspect;
      p.src_y = (fh - p.src_h) / 2;
    }
  } else if (config.fit == Fit::letterbox) {
    const double scale = std::min(config.width / fw, config.height / fh);
    p.dst_w = std::max(1, static_cast<int>(std::lround(fw * scale)));
    p.dst_h = std::max(1, static_cast<int>(std::lround(fh * scale)));
    p.dst_x = (config.width - p.dst_w) / 2;
    p.dst_y = (config.height - p.dst_h) / 2;
  }
  return p;
}

Fit parse_fit(const std::string& name) {
  if (name == "crop") return Fit::crop;
  if (name == "stretch") return Fit::stretch;
  if (name == "letterbox") return Fit::letterbox;
  fail("--fit {}: expected crop, stretch or letterbox", name);
}

void preprocess(const Frame& frame, const PreprocessConfig& config, float* out) {
  EP_CHECK(frame.width > 0 && frame.height > 0 &&
               frame.rgb.size() == static_cast<std::size_t>(frame.width) * frame.height * 3,
           "frame {}: {}x{} with {} bytes", frame.index, frame.width, frame.height,
           frame.rgb.size());
  const Placement p = place(frame.width, frame.height, config);
  // y = pixel * gain[c] + bias[c], the normalization folded into one multiply-add.
  float gain[3], bias[3];
  for (int c = 0; c < 3; ++c) {
    gain[c] = 1.0f / (255.0f * config.std[static_cast<std::size_t>(c)]);
    bias[c] = -config.mean[static_cast<std::size_t>(c)] / config.std[static_cast<std::size_t>(c)];
  }
  const std::size_t plane = static_cast<std::size_t>(config.width) * config.height;
  const auto store = [&](int x, int y, int c, float value) {
    const std::size_t pixel = static_cast<std::size_t>(y) * config.width + x;
    out[config.nchw ? c * plane + pixel : pixel * 3 + static_cast<std::size_t>(c)] = value;
  };
  if (p.dst_w != config.width || p.dst_h != config.height) {
    for (int y = 0; y < config.height; ++y) {
      for (int x = 0; x < config.width; ++x) {
        for (int c = 0; c < 3; ++c) store(x, y, c, config.pad_value * gain[c] + bias[c]);
      }
    }
  }
  const Taps across = taps(p.dst_w, p.src_x, p.src_w, frame.width);
  const Taps down = taps(p.dst_h, p.src_y, p.src_h, frame.height);
  const std::uint8_t* rgb = frame.rgb.data();
  const std::size_t stride = static_cast<std::size_t>(frame.width) * 3;
  std::vector<float> row(static_cast<std::size_t>(frame.width) * 3);
  for (int y = 0; y < p.dst_h; ++y) {
    const auto ky = static_cast<std::size_t>(y);
    const std::uint8_t* top = rgb + static_cast<std::size_t>(down.first[ky]) * stride;
    const std::uint8_t* bottom = rgb + static_cast<std::size_t>(down.second[ky]) * stride;
    const float wy = down.weight[ky];
    // Vertical pass over the whole source row (vectorizes), then horizontal taps.
    for (std::size_t i = 0; i < row.size(); ++i) {
      row[i] = static_cast<float>(top[i]) +
               wy * (static_cast<float>(bottom[i]) - static_cast<float>(top[i]));
    }
    for (int x = 0; x < p.dst_w; ++x) {
      const auto kx = static_cast<std::size_t>(x);
      const float* left = row.data() + static_cast<std::size_t>(across.first[kx]) * 3;
      const float* right = row.data() + static_cast<std::size_t>(across.second[kx]) * 3;
      const float wx = across.weight[kx];
      for (int c = 0; c < 3; ++c) {
        const float value = left[c] + wx * (right[c] - left[c]);
        store(p.dst_x + x, p.dst_y + y, c, value * gain[c] + bias[c]);
      }
    }
  }
}

}  // namespace edgeperf::vision
