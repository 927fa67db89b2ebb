// ResNet-18 (He et al. 2016) as torchvision builds it: 224x224, 1000 classes.
#include <fmt/format.h>

#include "layers.h"

namespace edgeperf::zoo::detail {
namespace {

// Two 3x3 convolutions plus a shortcut (a strided 1x1 projection when the shape changes).
std::string basic_block(ModelBuilder& model, const std::string& x, std::int64_t in_channels,
                        std::int64_t out_channels, std::int64_t stride, const std::string& name) {
  std::string y = model.conv_bn(x, square_conv(in_channels, out_channels, 3, stride),
                                Activation::relu, name + ".1");
  y = model.conv_bn(y, square_conv(out_channels, out_channels, 3), Activation::none, name + ".2");
  std::string shortcut = x;
  if (stride != 1 || in_channels != out_channels) {
    shortcut = model.conv_bn(x, square_conv(in_channels, out_channels, 1, stride), Activation::none,
                             name + ".downsample");
  }
  const std::string sum = model.builder().node("Add", {shortcut, y}, {}, name + ".add");
  return model.activation(sum, Activation::relu, name + ".relu");
}

}  // namespace

graph::Graph build_resnet18(std::uint64_t seed) {
  ModelBuilder model("resnet18", seed);
  std::string x = model.input("input", {3, 224, 224});
  x = model.conv_bn(x, square_conv(3, 64, 7, 2), Activation::relu, "stem");
  x = model.builder().node("MaxPool", {x},
                           {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
                            {"strides", std::vector<std::int64_t>{2, 2}},
                            {"pads", std::vector<std::int64_t>{1, 1, 1, 1}}},
                           "stem.maxpool");
  std::int64_t channels = 64;
  constexpr std::int64_t kStageChannels[] = {64, 128, 256, 512};
  int stage = 1;
  for (std::int64_t out_channels : kStageChannels) {
    for (int block = 0; block < 2; ++block) {
      const std::int64_t stride = (block == 0 && stage > 1) ? 2 : 1;
      x = basic_block(model, x, channels, out_channels, stride,
                      fmt::format("layer{}.{}", stage, block));
      channels = out_channels;
    }
    ++stage;
  }
  x = model.global_pool_flatten(x, "head");
  x = model.dense(x, channels, 1000, Activation::none, "fc");
  return model.finish(x, 1000);
}

}  // namespace edgeperf::zoo::detail
