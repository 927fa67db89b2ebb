#pragma once
// Layer helpers shared by the zoo's model builders (private to models/zoo).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "edgeperf/graph/builder.h"

namespace edgeperf::zoo::detail {

enum class Activation { none, relu, relu6 };

struct ConvSpec {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  std::array<std::int64_t, 2> kernel{1, 1};
  std::int64_t stride = 1;
  std::array<std::int64_t, 4> pads{0, 0, 0, 0};  // ONNX order: top, left, bottom, right
  std::int64_t groups = 1;
  bool bias = false;
};

// A convolution with "same"-style symmetric padding for an odd square kernel.
ConvSpec square_conv(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel,
                     std::int64_t stride = 1, std::int64_t groups = 1, bool bias = false);

// Wraps GraphBuilder with deterministic weight initialization: every tensor gets its own
// seed derived from the model seed and its creation order.
class ModelBuilder {
 public:
  ModelBuilder(std::string model_name, std::uint64_t seed);

  std::string input(const std::string& name, std::vector<std::int64_t> static_dims);

  // Kaiming-uniform weights; `next` is the activation that follows (it sets the gain).
  std::string conv(const std::string& x, const ConvSpec& spec, Activation next,
                   const std::string& name);
  // Inference-mode BatchNormalization with non-trivial deterministic statistics.
  std::string batch_norm(const std::string& x, std::int64_t channels, const std::string& name);
  std::string activation(const std::string& x, Activation kind, const std::string& name);
  std::string conv_bn(const std::string& x, const ConvSpec& spec, Activation act,
                      const std::string& name);
  // Gemm(transB=1) with bias: weight [out, in].
  std::string dense(const std::string& x, std::int64_t in_features, std::int64_t out_features,
                    Activation next, const std::string& name);
  std::string global_pool_flatten(const std::string& x, const std::string& name);

  graph::GraphBuilder& builder() { return builder_; }

  // Declares `value` as the output [batch, features] and validates the graph.
  graph::Graph finish(const std::string& value, std::int64_t features);

 private:
  std::uint64_t next_seed();
  Tensor uniform(const Shape& shape, double low, double high);
  std::string relu6_bound(bool upper);

  graph::GraphBuilder builder_;
  std::uint64_t seed_;
  std::uint64_t tensor_count_ = 0;
  std::string relu6_min_;
  std::string relu6_max_;
};

graph::Graph build_mobilenet_v2(std::uint64_t seed);
graph::Graph build_resnet18(std::uint64_t seed);
graph::Graph build_ds_cnn(std::uint64_t seed);
graph::Graph build_fc_autoencoder(std::uint64_t seed);
graph::Graph build_digits_cnn(std::uint64_t seed);

}  // namespace edgeperf::zoo::detail
