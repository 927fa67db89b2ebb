#pragma once
// Small graphs with random weights for the oneDNN backend tests, and checks on the
// steps they lower to.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/runtime/backend.h"
#include "onednn_fixture.h"

namespace edgeperf::runtime::testing {

using graph::AttrValue;
using graph::Dim;
using graph::GraphBuilder;

inline std::vector<Dim> fixed_dims(const Shape& shape) {
  std::vector<Dim> dims;
  for (std::int64_t size : shape) dims.push_back(Dim::fixed(size));
  return dims;
}

// Builds graphs with random weights; output() declares the last value as the graph output.
class ModelBuilder {
 public:
  explicit ModelBuilder(const Shape& input_shape, std::int64_t opset = 13)
      : builder_("test", opset) {
    x = builder_.input("x", DType::f32, fixed_dims(input_shape));
  }

  std::string weight(const Shape& shape, double low = -1.0, double high = 1.0) {
    return builder_.initializer("w", random_tensor(DType::f32, shape, seed_++, low, high));
  }

  // A float constant (a Resize's scales, say).
  std::string constant_f32(const std::vector<float>& values) {
    return builder_.initializer(
        "f", make_tensor<float>({static_cast<std::int64_t>(values.size())}, values));
  }

  // An int64 constant (a Reshape's shape, say).
  std::string constant_i64(const std::vector<std::int64_t>& values) {
    return builder_.initializer(
        "c", make_tensor<std::int64_t>({static_cast<std::int64_t>(values.size())}, values));
  }

  std::string conv(const std::string& input, std::int64_t in_channels, std::int64_t out_channels,
                   std::int64_t kernel, std::map<std::string, AttrValue> attrs = {},
                   bool bias = true) {
    const std::int64_t group = attrs.count("group") ? std::get<std::int64_t>(attrs.at("group")) : 1;
    std::vector<std::string> inputs = {
        input, weight({out_channels, in_channels / group, kernel, kernel}, -0.5, 0.5)};
    if (bias) inputs.push_back(weight({out_channels}));
    return builder_.node("Conv", inputs, std::move(attrs));
  }

  std::string batch_norm(const std::string& input, std::int64_t channels) {
    return builder_.node("BatchNormalization",
                         {input, weight({channels}, 0.5, 1.5), weight({channels}),
                          weight({channels}, -0.2, 0.2), weight({channels}, 0.5, 2.0)},
                         {{"epsilon", 1e-3f}});
  }

  std::string relu6(const std::string& input) {
    const std::string low = builder_.initializer("lo", make_tensor<float>({}, {0.0f}));
    const std::string high = builder_.initializer("hi", make_tensor<float>({}, {6.0f}));
    return builder_.node("Clip", {input, low, high});
  }

  std::string node(const std::string& op, std::vector<std::string> inputs,
                   std::map<std::string, AttrValue> attrs = {}) {
    return builder_.node(op, std::move(inputs), std::move(attrs));
  }

  graph::Graph finish(const std::string& output) {
    builder_.output(output, DType::f32, {});
    return builder_.build();
  }
  graph::Graph finish(const std::vector<std::string>& outputs) {
    for (const std::string& output : outputs) builder_.output(output, DType::f32, {});
    return builder_.build();
  }

  std::string x;

 private:
  GraphBuilder builder_;
  std::uint64_t seed_ = 100;
};

// Number of oneDNN primitives a step runs, from its label "(n nodes, p primitives)".
inline int primitive_count(const Step& step) {
  const std::size_t comma = step.label.rfind(", ");
  int count = -1;
  std::sscanf(step.label.c_str() + comma + 2, "%d primitives", &count);
  return count;
}

// Everything claimed in one region.
inline void expect_single_region(const Evaluated& evaluated, const Lowered& lowered) {
  ASSERT_EQ(lowered.steps.size(), 1u);
  EXPECT_EQ(lowered.claimed_nodes, evaluated.lowering.nodes.size());
  EXPECT_EQ(lowered.steps[0].backend, "onednn");
}

}  // namespace edgeperf::runtime::testing
