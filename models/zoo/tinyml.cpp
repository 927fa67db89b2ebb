// The MLPerf Tiny reference models: keyword spotting (DS-CNN) and anomaly detection
// (fully connected autoencoder). Convolutions and dense layers keep their biases as in
// the Keras reference implementations.
#include <fmt/format.h>

#include "layers.h"

namespace edgeperf::zoo::detail {

graph::Graph build_ds_cnn(std::uint64_t seed) {
  constexpr std::int64_t kWidth = 64;
  ModelBuilder model("ds_cnn", seed);
  std::string x = model.input("input", {1, 49, 10});
  // 10x4 kernel, stride 2, TensorFlow "same" padding on 49x10: output 25x5.
  const ConvSpec stem{1, kWidth, {10, 4}, 2, {4, 1, 5, 1}, 1, true};
  x = model.conv_bn(x, stem, Activation::relu, "stem");
  for (int block = 0; block < 4; ++block) {
    const std::string name = fmt::format("block{}", block);
    x = model.conv_bn(x, square_conv(kWidth, kWidth, 3, 1, kWidth, true), Activation::relu,
                      name + ".depthwise");
    x = model.conv_bn(x, square_conv(kWidth, kWidth, 1, 1, 1, true), Activation::relu,
                      name + ".pointwise");
  }
  x = model.global_pool_flatten(x, "head");
  x = model.dense(x, kWidth, 12, Activation::none, "fc");
  return model.finish(x, 12);
}

graph::Graph build_fc_autoencoder(std::uint64_t seed) {
  constexpr std::int64_t kInput = 640;
  constexpr std::int64_t kHidden = 128;
  constexpr std::int64_t kBottleneck = 8;
  constexpr std::int64_t kWidths[] = {kHidden, kHidden, kHidden, kHidden, kBottleneck,
                                      kHidden, kHidden, kHidden, kHidden};
  ModelBuilder model("fc_autoencoder", seed);
  std::string x = model.input("input", {kInput});
  std::int64_t features = kInput;
  int layer = 0;
  for (std::int64_t width : kWidths) {
    const std::string name = fmt::format("dense{}", layer++);
    x = model.dense(x, features, width, Activation::relu, name);
    x = model.batch_norm(x, width, name + ".bn");
    x = model.activation(x, Activation::relu, name + ".relu");
    features = width;
  }
  x = model.dense(x, features, kInput, Activation::none, "reconstruction");
  return model.finish(x, kInput);
}

}  // namespace edgeperf::zoo::detail
