#pragma once
// QDQ test graphs and the oneDNN-against-reference harness shared by the int8 tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include "edgeperf/core/error.h"
#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/runtime/session.h"
#include "int8_patterns.h"
#include "onednn_models.h"

namespace edgeperf::runtime::qdq_test {

using graph::AttrValue;
using graph::Dim;

using testing::fixed_dims;

// Builds QDQ graphs the way ONNX Runtime's quantizer lays them out: activations
// QuantizeLinear -> DequantizeLinear, weights as s8 initializers behind DequantizeLinear,
// biases as int32 initializers with scale s_in * s_w.
class QdqBuilder {
 public:
  explicit QdqBuilder(std::uint64_t seed, std::int64_t opset = 13)
      : builder_("qdq_test", opset), rng_(seed) {}

  struct Quantized {
    std::string name;  // the f32 output of the DequantizeLinear
    float scale;
    std::int32_t zero_point;
  };

  std::string input(const Shape& shape) {
    return builder_.input("x", DType::f32, fixed_dims(shape));
  }

  std::string quantize(const std::string& x, float scale, std::int32_t zero_point,
                       DType type = DType::u8) {
    return builder_.node("QuantizeLinear", {x, scalar(scale), zero(zero_point, type)});
  }

  // QuantizeLinear to u8 with the default zero point 0: the input left out, or named "".
  std::string quantize_default_zero(const std::string& x, float scale, bool empty_input) {
    std::vector<std::string> inputs = {x, scalar(scale)};
    if (empty_input) inputs.emplace_back();
    return builder_.node("QuantizeLinear", std::move(inputs));
  }

  Quantized dequantize(const std::string& q, float scale, std::int32_t zero_point,
                       DType type = DType::u8) {
    return {builder_.node("DequantizeLinear", {q, scalar(scale), zero(zero_point, type)}), scale,
            zero_point};
  }

  // Q then DQ of an f32 value.
  Quantized qdq(const std::string& x, float scale, std::int32_t zero_point,
                DType type = DType::u8) {
    return dequantize(quantize(x, scale, zero_point, type), scale, zero_point, type);
  }

  // s8 weights with real values about uniform in [-1, 1] / sqrt(fan_in); per-channel
  // scales differ by channel. Returns the DequantizeLinear output and the scales.
  std::pair<std::string, std::vector<float>> weights(const Shape& shape, bool per_channel,
                                                     std::int64_t axis = 0) {
    const std::int64_t fan_in = element_count(shape) / shape[static_cast<std::size_t>(axis)];
    const std::int64_t channels = per_channel ? shape[static_cast<std::size_t>(axis)] : 1;
    std::vector<float> scales;
    for (std::int64_t c = 0; c < channels; ++c) {
      scales.push_back(static_cast<float>((0.5 + 0.25 * static_cast<double>(c % 3)) /
                                          std::sqrt(static_cast<double>(fan_in)) / 127.0));
    }
    Tensor values(DType::i8, shape);
    std::uniform_int_distribution<int> uniform(-weight_limit_, weight_limit_);
    for (std::int8_t& value : values.values<std::int8_t>()) {
      value = static_cast<std::int8_t>(uniform(rng_));
    }
    const std::string q = builder_.initializer("w_q", values);
    const std::string scale =
        builder_.initializer("w_scale", per_channel ? make_tensor<float>({channels}, scales)
                                                    : make_tensor<float>({}, {scales[0]}));
    std::map<std::string, AttrValue> attrs;
    if (per_channel) attrs["axis"] = axis;
    return {builder_.node("DequantizeLinear", {q, scale}, attrs), scales};
  }

  std::string bias(std::int64_t channels, float input_scale, const std::vector<float>& scales) {
    Tensor values(DType::i32, {channels});
    std::vector<float> bias_scales;
    std::uniform_int_distribution<int> uniform(-2000, 2000);
    for (std::int64_t c = 0; c < channels; ++c) {
      values.values<std::int32_t>()[static_cast<std::size_t>(c)] = uniform(rng_);
      bias_scales.push_back(input_scale *
                            scales[scales.size() == 1 ? 0 : static_cast<std::size_t>(c)]);
    }
    const std::string q = builder_.initializer("b_q", values);
    const bool per_channel = scales.size() > 1;
    const std::string scale =
        builder_.initializer("b_scale", per_channel ? make_tensor<float>({channels}, bias_scales)
                                                    : make_tensor<float>({}, {bias_scales[0]}));
    std::map<std::string, AttrValue> attrs;
    if (per_channel) attrs["axis"] = std::int64_t{0};
    return builder_.node("DequantizeLinear", {q, scale}, attrs);
  }

  std::string conv(const Quantized& x, std::int64_t in_channels, std::int64_t out_channels,
                   std::int64_t kernel, std::int64_t stride, std::int64_t pad, std::int64_t group,
                   bool per_channel) {
    auto [w, scales] = weights({out_channels, in_channels / group, kernel, kernel}, per_channel);
    const std::string b = bias(out_channels, x.scale, scales);
    return builder_.node("Conv", {x.name, w, b},
                         {{"strides", std::vector<std::int64_t>{stride, stride}},
                          {"pads", std::vector<std::int64_t>{pad, pad, pad, pad}},
                          {"group", group}});
  }

  std::string matmul(const Quantized& x, std::int64_t k, std::int64_t n, bool per_channel,
                     bool gemm) {
    if (gemm) {
      auto [w, scales] = weights({n, k}, per_channel, 0);
      return builder_.node("Gemm", {x.name, w, bias(n, x.scale, scales)},
                           {{"transB", std::int64_t{1}}});
    }
    auto [w, scales] = weights({k, n}, per_channel, 1);
    return builder_.node("MatMul", {x.name, w});
  }

  std::string node(const std::string& op, std::vector<std::string> inputs,
                   std::map<std::string, AttrValue> attrs = {}) {
    return builder_.node(op, std::move(inputs), std::move(attrs));
  }

  // A constant f32 tensor with values uniform in [low, high].
  std::string constant(const Shape& shape, float low, float high) {
    Tensor values(DType::f32, shape);
    std::uniform_real_distribution<float> uniform(low, high);
    for (float& value : values.values<float>()) value = uniform(rng_);
    return builder_.initializer("c", values);
  }

  // A constant 1-D int64 tensor (a Reshape's shape, a Slice's starts).
  std::string ints(const std::vector<std::int64_t>& values) {
    return builder_.initializer(
        "i", make_tensor<std::int64_t>({static_cast<std::int64_t>(values.size())}, values));
  }

  // Weights drawn from [-63, 63], as `edgeperf quantize --reduce-range` writes them.
  void use_seven_bit_weights() { weight_limit_ = 63; }

  std::string clip(const std::string& x, float low, float high) {
    return builder_.node("Clip", {x, scalar(low), scalar(high)});
  }

  graph::Graph finish(const std::string& output, DType dtype) {
    builder_.output(output, dtype, {});
    return builder_.build();
  }

 private:
  std::string scalar(float value) {
    return builder_.initializer("s", make_tensor<float>({}, {value}));
  }
  std::string zero(std::int32_t value, DType type) {
    if (type == DType::i8) {
      return builder_.initializer("z",
                                  make_tensor<std::int8_t>({}, {static_cast<std::int8_t>(value)}));
    }
    return builder_.initializer("z",
                                make_tensor<std::uint8_t>({}, {static_cast<std::uint8_t>(value)}));
  }

  graph::GraphBuilder builder_;
  std::mt19937 rng_;
  int weight_limit_ = 127;
};

struct Comparison {
  double max_lsb = 0.0;        // largest difference in quantization steps
  std::size_t off_by_one = 0;  // elements that differ at all
  std::size_t count = 0;
};

// Difference between two outputs in units of `step` (1 for integer outputs).
inline Comparison compare(const Tensor& actual, const Tensor& expected, double step) {
  Comparison result;
  EXPECT_EQ(actual.dtype(), expected.dtype());
  EXPECT_EQ(actual.shape(), expected.shape());
  if (actual.shape() != expected.shape() || actual.dtype() != expected.dtype()) return result;
  const std::vector<double> a = actual.to_doubles();
  const std::vector<double> b = expected.to_doubles();
  result.count = a.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double lsb = std::fabs(a[i] - b[i]) / step;
    if (std::isnan(lsb)) result.max_lsb = INFINITY;
    result.max_lsb = std::max(result.max_lsb, lsb);
    if (lsb > 1e-3) ++result.off_by_one;
  }
  return result;
}

inline float max_abs(const Tensor& tensor) {
  float result = 0.0f;
  for (double value : tensor.to_doubles())
    result = std::max(result, static_cast<float>(std::fabs(value)));
  return result;
}

struct RunResult {
  Tensor onednn;
  Tensor reference;
  std::vector<StepInfo> steps;
  MemoryPlanInfo memory;
};

// `tune_threads` false: the oneDNN session runs on `threads` even where one measures faster.
inline RunResult run_both(const graph::Graph& graph, int threads = 1, bool tune_threads = true) {
  SessionOptions options;
  options.threads = threads;
  options.tune_threads = tune_threads;
  options.backend = BackendKind::reference;
  Session reference(graph, options);
  options.backend = BackendKind::onednn;
  Session onednn(graph, options);
  const auto inputs = random_inputs(reference, 11);
  const std::string& output = graph.outputs.at(0).name;
  RunResult result;
  result.reference = reference.run(inputs).at(output);
  result.onednn = onednn.run(inputs).at(output);
  result.steps = onednn.steps();
  result.memory = onednn.memory_plan();
  return result;
}

inline std::size_t onednn_steps(const RunResult& result) {
  std::size_t count = 0;
  for (const StepInfo& step : result.steps) count += step.backend == "onednn";
  return count;
}

inline bool all_onednn(const RunResult& result) {
  return onednn_steps(result) == result.steps.size();
}

// Where oneDNN's int8 products are exact for full-range weights (VNNI), QOperator and dynamic int8
// ops run in oneDNN steps (`steps` of them, when given); elsewhere they fall to the reference
// backend's exact int32.
inline void expect_int8_ops_claimed_where_exact(const RunResult& result,
                                                std::optional<std::size_t> steps = std::nullopt) {
  if (onednn::cpu_has_vnni()) {
    EXPECT_TRUE(all_onednn(result));
    if (steps) {
      EXPECT_EQ(result.steps.size(), *steps);
    }
  } else {
    EXPECT_FALSE(all_onednn(result));
  }
}

inline constexpr float kInputScale = 2.0f / 255.0f;  // inputs are uniform in [-1, 1)

// Debian's arm64 oneDNN 2.6 has no optimized int8 primitives for these patterns (no ACL,
// and its JIT kernels need SVE): tests that count int8 primitives or reorders assert x86
// oneDNN's layouts and coverage only (docs/arm.md).
inline bool x86_onednn() {
#if defined(__x86_64__)
  return true;
#else
  return false;
#endif
}

}  // namespace edgeperf::runtime::qdq_test
