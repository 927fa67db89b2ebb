#include "layers.h"

#include <cmath>

#include "edgeperf/core/random.h"

namespace edgeperf::zoo::detail {
namespace {

using graph::Dim;

// SplitMix64's finalizer: spreads (seed, tensor index) over the seed space so that
// neighbouring model seeds do not share tensors.
std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Kaiming-uniform bound: keeps the activation variance roughly constant through depth.
// A ReLU that follows halves the variance, hence the gain of sqrt(2) before it.
double weight_bound(std::int64_t fan_in, Activation next) {
  const double gain_squared = next == Activation::none ? 1.0 : 2.0;
  return std::sqrt(3.0 * gain_squared / static_cast<double>(fan_in));
}

}  // namespace

ConvSpec square_conv(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel,
                     std::int64_t stride, std::int64_t groups, bool bias) {
  const std::int64_t pad = (kernel - 1) / 2;
  return ConvSpec{in_channels, out_channels, {kernel, kernel}, stride, {pad, pad, pad, pad},
                  groups,      bias};
}

ModelBuilder::ModelBuilder(std::string model_name, std::uint64_t seed)
    : builder_(std::move(model_name), 13), seed_(seed) {}

std::uint64_t ModelBuilder::next_seed() {
  ++tensor_count_;
  return mix(seed_ ^ mix(tensor_count_ * 0x9e3779b97f4a7c15ull));
}

Tensor ModelBuilder::uniform(const Shape& shape, double low, double high) {
  return random_tensor(DType::f32, shape, next_seed(), low, high);
}

std::string ModelBuilder::input(const std::string& name, std::vector<std::int64_t> static_dims) {
  std::vector<Dim> dims{Dim::named("batch")};
  for (std::int64_t size : static_dims) dims.push_back(Dim::fixed(size));
  return builder_.input(name, DType::f32, std::move(dims));
}

std::string ModelBuilder::conv(const std::string& x, const ConvSpec& spec, Activation next,
                               const std::string& name) {
  const std::int64_t in_per_group = spec.in_channels / spec.groups;
  const std::int64_t fan_in = in_per_group * spec.kernel[0] * spec.kernel[1];
  const double bound = weight_bound(fan_in, next);
  std::vector<std::string> inputs{
      x, builder_.initializer(name + ".weight", uniform({spec.out_channels, in_per_group,
                                                         spec.kernel[0], spec.kernel[1]},
                                                        -bound, bound))};
  if (spec.bias) {
    const double bias_bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    inputs.push_back(builder_.initializer(name + ".bias",
                                          uniform({spec.out_channels}, -bias_bound, bias_bound)));
  }
  std::map<std::string, graph::AttrValue> attrs{
      {"kernel_shape", std::vector<std::int64_t>{spec.kernel[0], spec.kernel[1]}},
      {"strides", std::vector<std::int64_t>{spec.stride, spec.stride}},
      {"pads", std::vector<std::int64_t>(spec.pads.begin(), spec.pads.end())},
      {"dilations", std::vector<std::int64_t>{1, 1}},
      {"group", spec.groups}};
  return builder_.node("Conv", std::move(inputs), std::move(attrs), name);
}

std::string ModelBuilder::batch_norm(const std::string& x, std::int64_t channels,
                                     const std::string& name) {
  const std::string scale = builder_.initializer(name + ".weight", uniform({channels}, 0.8, 1.2));
  const std::string bias = builder_.initializer(name + ".bias", uniform({channels}, -0.1, 0.1));
  const std::string mean =
      builder_.initializer(name + ".running_mean", uniform({channels}, -0.1, 0.1));
  const std::string var =
      builder_.initializer(name + ".running_var", uniform({channels}, 0.5, 2.0));
  return builder_.node("BatchNormalization", {x, scale, bias, mean, var},
                       {{"epsilon", 1e-5f}, {"momentum", 0.9f}}, name);
}

std::string ModelBuilder::relu6_bound(bool upper) {
  std::string& value = upper ? relu6_max_ : relu6_min_;
  if (value.empty()) {
    value = builder_.initializer(upper ? "relu6_max" : "relu6_min",
                                 make_tensor<float>(Shape{}, {upper ? 6.0f : 0.0f}));
  }
  return value;
}

std::string ModelBuilder::activation(const std::string& x, Activation kind,
                                     const std::string& name) {
  switch (kind) {
    case Activation::none:
      return x;
    case Activation::relu:
      return builder_.node("Relu", {x}, {}, name);
    case Activation::relu6:
      return builder_.node("Clip", {x, relu6_bound(false), relu6_bound(true)}, {}, name);
  }
  return x;
}

std::string ModelBuilder::conv_bn(const std::string& x, const ConvSpec& spec, Activation act,
                                  const std::string& name) {
  const std::string conv_out = conv(x, spec, act, name + ".conv");
  const std::string bn_out = batch_norm(conv_out, spec.out_channels, name + ".bn");
  return activation(bn_out, act, name + ".act");
}

std::string ModelBuilder::dense(const std::string& x, std::int64_t in_features,
                                std::int64_t out_features, Activation next,
                                const std::string& name) {
  const double bound = weight_bound(in_features, next);
  const double bias_bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  const std::string weight =
      builder_.initializer(name + ".weight", uniform({out_features, in_features}, -bound, bound));
  const std::string bias =
      builder_.initializer(name + ".bias", uniform({out_features}, -bias_bound, bias_bound));
  return builder_.node(
      "Gemm", {x, weight, bias},
      {{"alpha", 1.0f}, {"beta", 1.0f}, {"transA", std::int64_t{0}}, {"transB", std::int64_t{1}}},
      name);
}

std::string ModelBuilder::global_pool_flatten(const std::string& x, const std::string& name) {
  const std::string pooled = builder_.node("GlobalAveragePool", {x}, {}, name + ".pool");
  return builder_.node("Flatten", {pooled}, {{"axis", std::int64_t{1}}}, name + ".flatten");
}

graph::Graph ModelBuilder::finish(const std::string& value, std::int64_t features) {
  builder_.output(value, DType::f32, {Dim::named("batch"), Dim::fixed(features)});
  return builder_.build();
}

}  // namespace edgeperf::zoo::detail
