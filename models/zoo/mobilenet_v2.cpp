// MobileNetV2 (Sandler et al. 2018) as torchvision builds it: width 1.0, 224x224, 1000 classes.
#include <fmt/format.h>

#include "layers.h"

namespace edgeperf::zoo::detail {
namespace {

struct StageSpec {
  std::int64_t expansion;
  std::int64_t channels;
  std::int64_t repeats;
  std::int64_t first_stride;
};

constexpr StageSpec kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                 {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

// Expand (1x1) -> depthwise 3x3 -> linear projection (1x1), with a residual when the
// block keeps resolution and width.
std::string inverted_residual(ModelBuilder& model, const std::string& x, std::int64_t in_channels,
                              std::int64_t out_channels, std::int64_t stride,
                              std::int64_t expansion, const std::string& name) {
  const std::int64_t hidden = in_channels * expansion;
  std::string y = x;
  if (expansion != 1) {
    y = model.conv_bn(y, square_conv(in_channels, hidden, 1), Activation::relu6, name + ".expand");
  }
  y = model.conv_bn(y, square_conv(hidden, hidden, 3, stride, hidden), Activation::relu6,
                    name + ".depthwise");
  y = model.conv_bn(y, square_conv(hidden, out_channels, 1), Activation::none, name + ".project");
  if (stride == 1 && in_channels == out_channels) {
    y = model.builder().node("Add", {x, y}, {}, name + ".add");
  }
  return y;
}

}  // namespace

graph::Graph build_mobilenet_v2(std::uint64_t seed) {
  ModelBuilder model("mobilenet_v2", seed);
  std::string x = model.input("input", {3, 224, 224});
  std::int64_t channels = 32;
  x = model.conv_bn(x, square_conv(3, channels, 3, 2), Activation::relu6, "features.0");
  int block = 1;
  for (const StageSpec& stage : kStages) {
    for (std::int64_t i = 0; i < stage.repeats; ++i, ++block) {
      const std::int64_t stride = i == 0 ? stage.first_stride : 1;
      x = inverted_residual(model, x, channels, stage.channels, stride, stage.expansion,
                            fmt::format("features.{}", block));
      channels = stage.channels;
    }
  }
  constexpr std::int64_t kLastChannels = 1280;
  x = model.conv_bn(x, square_conv(channels, kLastChannels, 1), Activation::relu6,
                    fmt::format("features.{}", block));
  x = model.global_pool_flatten(x, "head");
  x = model.dense(x, kLastChannels, 1000, Activation::none, "classifier");
  return model.finish(x, 1000);
}

}  // namespace edgeperf::zoo::detail
