// The fused crop/letterbox + bilinear resize + normalize against a plain double-precision
// computation from the definition (half-pixel centres, clamped edges).
#include "edgeperf/vision/preprocess.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "edgeperf/core/error.h"

namespace edgeperf::vision {
namespace {

Frame random_frame(int width, int height, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Frame frame{width, height,
              std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3), 0, 0};
  for (auto& byte : frame.rgb) byte = static_cast<std::uint8_t>(rng() & 0xff);
  return frame;
}

double pixel(const Frame& f, int x, int y, int c) {
  x = std::clamp(x, 0, f.width - 1);
  y = std::clamp(y, 0, f.height - 1);
  return f.rgb[(static_cast<std::size_t>(y) * f.width + x) * 3 + static_cast<std::size_t>(c)];
}

double bilinear(const Frame& f, double sx, double sy, int c) {
  sx = std::clamp(sx, 0.0, f.width - 1.0);
  sy = std::clamp(sy, 0.0, f.height - 1.0);
  const int x0 = static_cast<int>(std::floor(sx)), y0 = static_cast<int>(std::floor(sy));
  const double ax = sx - x0, ay = sy - y0;
  const double top = pixel(f, x0, y0, c) * (1 - ax) + pixel(f, x0 + 1, y0, c) * ax;
  const double bottom = pixel(f, x0, y0 + 1, c) * (1 - ax) + pixel(f, x0 + 1, y0 + 1, c) * ax;
  return top * (1 - ay) + bottom * ay;
}

// The expected output, written from the definition of each fit.
std::vector<double> expected(const Frame& f, const PreprocessConfig& config) {
  std::vector<double> out(static_cast<std::size_t>(config.width) * config.height * 3);
  double sx0 = 0, sy0 = 0, sw = f.width, sh = f.height;
  double dx0 = 0, dy0 = 0, dw = config.width, dh = config.height;
  const double aspect = static_cast<double>(config.width) / config.height;
  if (config.fit == Fit::crop) {
    if (static_cast<double>(f.width) / f.height > aspect) {
      sw = f.height * aspect;
      sx0 = (f.width - sw) / 2;
    } else {
      sh = f.width / aspect;
      sy0 = (f.height - sh) / 2;
    }
  } else if (config.fit == Fit::letterbox) {
    const double scale = std::min(config.width / static_cast<double>(f.width),
                                  config.height / static_cast<double>(f.height));
    dw = std::max(1.0, std::round(f.width * scale));
    dh = std::max(1.0, std::round(f.height * scale));
    dx0 = std::floor((config.width - dw) / 2);
    dy0 = std::floor((config.height - dh) / 2);
  }
  const std::size_t plane = static_cast<std::size_t>(config.width) * config.height;
  for (int y = 0; y < config.height; ++y) {
    for (int x = 0; x < config.width; ++x) {
      const bool inside = x >= dx0 && x < dx0 + dw && y >= dy0 && y < dy0 + dh;
      for (int c = 0; c < 3; ++c) {
        const double value = inside ? bilinear(f, sx0 + (x - dx0 + 0.5) * sw / dw - 0.5,
                                               sy0 + (y - dy0 + 0.5) * sh / dh - 0.5, c)
                                    : config.pad_value;
        const double normalized = (value / 255.0 - config.mean[static_cast<std::size_t>(c)]) /
                                  config.std[static_cast<std::size_t>(c)];
        const std::size_t at = static_cast<std::size_t>(y) * config.width + x;
        out[config.nchw ? c * plane + at : at * 3 + static_cast<std::size_t>(c)] = normalized;
      }
    }
  }
  return out;
}

void expect_close(const Frame& frame, const PreprocessConfig& config) {
  std::vector<float> actual(static_cast<std::size_t>(config.width) * config.height * 3, NAN);
  preprocess(frame, config, actual.data());
  const std::vector<double> want = expected(frame, config);
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR(actual[i], want[i], 2e-4) << "element " << i;
  }
}

TEST(Preprocess, CropStretchAndLetterboxMatchTheDefinition) {
  for (const auto& [width, height] :
       std::vector<std::pair<int, int>>{{640, 480}, {480, 640}, {97, 61}, {224, 224}}) {
    const Frame frame = random_frame(width, height, static_cast<std::uint32_t>(width * 7 + height));
    for (Fit fit : {Fit::crop, Fit::stretch, Fit::letterbox}) {
      for (bool nchw : {true, false}) {
        SCOPED_TRACE(testing::Message() << width << "x" << height << " fit "
                                        << static_cast<int>(fit) << (nchw ? " nchw" : " nhwc"));
        PreprocessConfig config;
        config.width = 160;
        config.height = 128;
        config.fit = fit;
        config.nchw = nchw;
        expect_close(frame, config);
      }
    }
  }
}

TEST(Preprocess, UpscalesSmallFramesAndNormalizes) {
  PreprocessConfig config;
  config.width = config.height = 32;
  config.mean = {0.5f, 0.25f, 0.0f};
  config.std = {0.5f, 1.0f, 2.0f};
  expect_close(random_frame(9, 7, 3), config);
}

// Area resize, from its definition: each output pixel is the mean of the source area it
// covers, partly covered pixels weighted by the part covered.
TEST(Preprocess, AreaResizeIsTheMeanOfTheCoveredPixels) {
  const Frame frame = random_frame(640, 480, 11);
  PreprocessConfig config;
  config.width = 160;
  config.height = 128;
  config.resize = Resize::area;
  config.fit = Fit::stretch;
  config.mean = {0, 0, 0};
  config.std = {1, 1, 1};
  std::vector<float> actual(160 * 128 * 3);
  preprocess(frame, config, actual.data());
  const double sx = 640.0 / 160, sy = 480.0 / 128;
  const auto coverage = [](int pixel, double from, double to) {
    return std::max(0.0, std::min<double>(pixel + 1, to) - std::max<double>(pixel, from));
  };
  for (int y = 0; y < 128; y += 7) {
    for (int x = 0; x < 160; x += 5) {
      for (int c = 0; c < 3; ++c) {
        double sum = 0;
        for (int j = static_cast<int>(y * sy); j < static_cast<int>(std::ceil((y + 1) * sy)); ++j) {
          for (int i = static_cast<int>(x * sx); i < static_cast<int>(std::ceil((x + 1) * sx));
               ++i) {
            sum += pixel(frame, i, j, c) * coverage(i, x * sx, (x + 1) * sx) *
                   coverage(j, y * sy, (y + 1) * sy);
          }
        }
        const double want = sum / (sx * sy) / 255.0;
        ASSERT_NEAR(actual[static_cast<std::size_t>(c) * 160 * 128 + y * 160 + x], want, 1e-4)
            << x << "," << y << " channel " << c;
      }
    }
  }
}

// A uint8 model input: the same resampling, rounded, not normalized.
TEST(Preprocess, Uint8InputIsTheRoundedResample) {
  const Frame frame = random_frame(97, 61, 5);
  PreprocessConfig config;
  config.width = 64;
  config.height = 48;
  config.fit = Fit::letterbox;
  config.nchw = false;
  std::vector<std::uint8_t> actual(64 * 48 * 3);
  preprocess_u8(frame, config, actual.data());
  PreprocessConfig identity = config;
  identity.mean = {0, 0, 0};
  identity.std = {1.0f / 255, 1.0f / 255, 1.0f / 255};  // (v / 255 - 0) / (1 / 255) = v
  const std::vector<double> want = expected(frame, identity);
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_LE(std::abs(actual[i] - want[i]), 0.5 + 1e-3) << "element " << i;
  }
  EXPECT_THROW(parse_resize("bicubic"), Error);
}

// A quantized model input: the normalized value, then round_half_even(x / scale) + zero
// point, saturated (ONNX QuantizeLinear), for uint8 and int8.
TEST(Preprocess, QuantizedInputIsTheQuantizedNormalizedValue) {
  const Frame frame = random_frame(120, 90, 9);
  for (bool is_signed : {false, true}) {
    PreprocessConfig config;
    config.width = 48;
    config.height = 40;
    config.quantized = true;
    config.quant_scale = 0.02f;
    config.quant_zero_point = is_signed ? -3 : 120;
    config.quant_signed = is_signed;
    std::vector<std::uint8_t> bytes(48 * 40 * 3);
    preprocess_quantized(frame, config, bytes.data());
    const std::vector<double> want = expected(frame, config);
    int off_by_one = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double q = std::clamp(std::nearbyint(want[i] / 0.02) + config.quant_zero_point,
                                  is_signed ? -128.0 : 0.0, is_signed ? 127.0 : 255.0);
      const int got = is_signed ? static_cast<std::int8_t>(bytes[i]) : bytes[i];
      ASSERT_LE(std::abs(got - q), 1) << "element " << i;
      off_by_one += got != q;  // a value within float rounding of a .5 boundary
    }
    EXPECT_LT(off_by_one, static_cast<int>(want.size() / 100));
  }
}

TEST(Preprocess, RejectsAFrameWhoseBytesDoNotMatchItsSize) {
  Frame frame = random_frame(8, 8, 1);
  frame.rgb.resize(10);
  std::vector<float> out(224 * 224 * 3);
  EXPECT_THROW(preprocess(frame, PreprocessConfig{}, out.data()), Error);
  EXPECT_THROW(parse_fit("zoom"), Error);
}

}  // namespace
}  // namespace edgeperf::vision
