#include "edgeperf/vision/preprocess.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "edgeperf/core/error.h"

namespace edgeperf::vision {
namespace {

// The source pixels (and weights) that make each output pixel along one axis.
struct Taps {
  std::vector<int> begin;     // per output index: its first entry in index/weight
  std::vector<int> index;     // source pixel
  std::vector<float> weight;  // its weight; an output's weights sum to 1
  int taps(std::size_t output) const { return begin[output + 1] - begin[output]; }
};

// Bilinear: half-pixel centres, clamped at the edges.
void add_bilinear(Taps& t, double centre, int limit) {
  const double at = std::clamp(centre, 0.0, limit - 1.0);
  const int lo = static_cast<int>(std::floor(at));
  const auto upper = static_cast<float>(at - lo);
  t.index.push_back(lo);
  t.weight.push_back(1.0f - upper);
  t.index.push_back(std::min(lo + 1, limit - 1));
  t.weight.push_back(upper);
}

// Area: the mean of the source pixels the output pixel covers, partial ones weighted by
// the part covered (OpenCV's INTER_AREA when shrinking).
void add_area(Taps& t, double from, double to, int limit) {
  const double span = to - from;
  for (int i = static_cast<int>(std::floor(from)); i < static_cast<int>(std::ceil(to)); ++i) {
    const double covered = std::min<double>(i + 1, to) - std::max<double>(i, from);
    if (covered <= 0) continue;
    t.index.push_back(std::clamp(i, 0, limit - 1));
    t.weight.push_back(static_cast<float>(covered / span));
  }
}

Taps taps(int count, double src_start, double src_size, int limit, Resize resize) {
  Taps t;
  const double step = src_size / count;
  t.begin.push_back(0);
  for (int i = 0; i < count; ++i) {
    if (resize == Resize::area && step > 1) {
      add_area(t, src_start + i * step, src_start + (i + 1) * step, limit);
    } else {  // area only shrinks; enlarging is bilinear, as in OpenCV
      add_bilinear(t, src_start + (i + 0.5) * step - 0.5, limit);
    }
    t.begin.push_back(static_cast<int>(t.index.size()));
  }
  return t;
}

// Resizes the placed region of the frame and hands each output pixel's three channel
// values (0-255 scale) to store(x, y, channel, value).
template <typename Store>
void resample(const Frame& frame, const PreprocessConfig& config, const Placement& p, Store store) {
  const Taps across = taps(p.dst_w, p.src_x, p.src_w, frame.width, config.resize);
  const Taps down = taps(p.dst_h, p.src_y, p.src_h, frame.height, config.resize);
  const std::uint8_t* rgb = frame.rgb.data();
  const std::size_t stride = static_cast<std::size_t>(frame.width) * 3;
  std::vector<float> row(stride);
  for (int y = 0; y < p.dst_h; ++y) {
    const auto ky = static_cast<std::size_t>(y);
    // Vertical pass over the whole source row (vectorizes), then horizontal taps.
    std::fill(row.begin(), row.end(), 0.0f);
    for (int k = down.begin[ky]; k < down.begin[ky + 1]; ++k) {
      const std::uint8_t* source = rgb + static_cast<std::size_t>(down.index[k]) * stride;
      const float w = down.weight[static_cast<std::size_t>(k)];
      for (std::size_t i = 0; i < row.size(); ++i) row[i] += w * static_cast<float>(source[i]);
    }
    for (int x = 0; x < p.dst_w; ++x) {
      const auto kx = static_cast<std::size_t>(x);
      float value[3] = {0, 0, 0};
      for (int k = across.begin[kx]; k < across.begin[kx + 1]; ++k) {
        const float* source = row.data() + static_cast<std::size_t>(across.index[k]) * 3;
        const float w = across.weight[static_cast<std::size_t>(k)];
        for (int c = 0; c < 3; ++c) value[c] += w * source[c];
      }
      for (int c = 0; c < 3; ++c) store(p.dst_x + x, p.dst_y + y, c, value[c]);
    }
  }
}

void check_frame(const Frame& frame) {
  EP_CHECK(frame.width > 0 && frame.height > 0 &&
               frame.rgb.size() == static_cast<std::size_t>(frame.width) * frame.height * 3,
           "frame {}: {}x{} with {} bytes", frame.index, frame.width, frame.height,
           frame.rgb.size());
}

// Writes into the model's layout; fills the whole input with padding first when the
// frame does not cover it (letterbox).
template <typename T, typename Convert>
void write_input(const Frame& frame, const PreprocessConfig& config, T* out, Convert convert) {
  check_frame(frame);
  const Placement p = place(frame.width, frame.height, config);
  const std::size_t plane = static_cast<std::size_t>(config.width) * config.height;
  const auto store = [&](int x, int y, int c, float value) {
    const std::size_t pixel = static_cast<std::size_t>(y) * config.width + x;
    out[config.nchw ? c * plane + pixel : pixel * 3 + static_cast<std::size_t>(c)] =
        convert(c, value);
  };
  if (p.dst_w != config.width || p.dst_h != config.height) {
    for (int y = 0; y < config.height; ++y) {
      for (int x = 0; x < config.width; ++x) {
        for (int c = 0; c < 3; ++c) store(x, y, c, config.pad_value);
      }
    }
  }
  resample(frame, config, p, store);
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

Resize parse_resize(const std::string& name) {
  if (name == "bilinear") return Resize::bilinear;
  if (name == "area") return Resize::area;
  fail("--resize {}: expected bilinear or area", name);
}

namespace {

// (pixel / 255 - mean[c]) / std[c] folded into one multiply-add: pixel * gain[c] + bias[c].
struct Normalize {
  explicit Normalize(const PreprocessConfig& config) {
    for (std::size_t c = 0; c < 3; ++c) {
      gain[c] = 1.0f / (255.0f * config.std[c]);
      bias[c] = -config.mean[c] / config.std[c];
    }
  }
  float operator()(int c, float pixel) const { return pixel * gain[c] + bias[c]; }
  float gain[3], bias[3];
};

}  // namespace

void preprocess(const Frame& frame, const PreprocessConfig& config, float* out) {
  write_input(frame, config, out, Normalize(config));
}

void preprocess_quantized(const Frame& frame, const PreprocessConfig& config, void* out) {
  const Normalize normalize(config);
  const float inverse = 1.0f / config.quant_scale;
  const auto quantize = [&](int c, float value, float low, float high) {
    const float normalized = normalize(c, value);
    // nearbyint rounds half to even under the default rounding mode, as ONNX specifies.
    return std::clamp(
        std::nearbyint(normalized * inverse) + static_cast<float>(config.quant_zero_point), low,
        high);
  };
  if (config.quant_signed) {
    write_input(frame, config, static_cast<std::int8_t*>(out), [&](int c, float value) {
      return static_cast<std::int8_t>(quantize(c, value, -128.0f, 127.0f));
    });
  } else {
    write_input(frame, config, static_cast<std::uint8_t*>(out), [&](int c, float value) {
      return static_cast<std::uint8_t>(quantize(c, value, 0.0f, 255.0f));
    });
  }
}

void preprocess_u8(const Frame& frame, const PreprocessConfig& config, std::uint8_t* out) {
  write_input(frame, config, out, [](int, float value) {
    return static_cast<std::uint8_t>(std::clamp(std::lround(value), 0L, 255L));
  });
}

}  // namespace edgeperf::vision
