// A small CNN for the 8x8 handwritten digits of sklearn's load_digits. Its layer sequence
// is exactly the one tools/train_digits.py trains and exports (models/fixtures).
#include "layers.h"

namespace edgeperf::zoo::detail {

graph::Graph build_digits_cnn(std::uint64_t seed) {
  ModelBuilder model("digits_cnn", seed);
  std::string x = model.input("input", {1, 8, 8});
  x = model.conv(x, square_conv(1, 16, 3, 1, 1, true), Activation::relu, "conv1");
  x = model.activation(x, Activation::relu, "relu1");
  x = model.conv(x, square_conv(16, 32, 3, 1, 1, true), Activation::relu, "conv2");
  x = model.activation(x, Activation::relu, "relu2");
  x = model.builder().node("MaxPool", {x},
                           {{"kernel_shape", std::vector<std::int64_t>{2, 2}},
                            {"strides", std::vector<std::int64_t>{2, 2}},
                            {"pads", std::vector<std::int64_t>{0, 0, 0, 0}}},
                           "pool");
  x = model.builder().node("Flatten", {x}, {{"axis", std::int64_t{1}}}, "flatten");
  x = model.dense(x, 32 * 4 * 4, 64, Activation::relu, "fc1");
  x = model.activation(x, Activation::relu, "relu3");
  x = model.dense(x, 64, 10, Activation::none, "fc2");
  return model.finish(x, 10);
}

}  // namespace edgeperf::zoo::detail
