// Elementwise unary ops: activations (Relu Clip LeakyRelu Sigmoid HardSigmoid HardSwish Tanh
// Elu Gelu) and math (Neg Abs Sqrt Exp Log Erf Reciprocal Floor Ceil Not).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "edgeperf/graph/ops/clip.h"
#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

bool accepts_integers(const std::string& op) {
  return op == "Relu" || op == "Neg" || op == "Abs" || op == "Clip";
}

void check_unary(const PrepareContext& context) {
  const std::string& op = context.node.op_type;
  if (op == "Clip") {
    check_input_count(context, 1, 3);
  } else {
    check_input_count(context, 1, 1);
  }
  if (op == "Not") {
    check_dtype(context, 0, {DType::boolean}, "X");
  } else if (accepts_integers(op)) {
    check_dtype(context, 0, {DType::f32, DType::i32, DType::i64, DType::i8, DType::u8}, "X");
  } else {
    check_dtype(context, 0, {DType::f32}, "X");
  }
  for (std::size_t i = 1; i < context.inputs.size(); ++i) {
    if (!context.has_input(i)) continue;
    EP_CHECK(context.inputs[i].dtype == context.inputs[0].dtype && context.inputs[i].numel() == 1,
             "node {}: input {} must be a scalar of dtype {}", context.node.label(), i,
             dtype_name(context.inputs[0].dtype));
  }
}

template <typename T, typename F>
RunFn map_values(F f) {
  return [f](std::span<const Tensor> in, std::span<Tensor> out) {
    const T* x = static_cast<const T*>(in[0].raw());
    T* y = static_cast<T*>(out[0].raw());
    const std::int64_t n = out[0].numel();
    for (std::int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  };
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

RunFn float_function(const graph::Node& node) {
  const std::string& op = node.op_type;
  if (op == "Sigmoid") return map_values<float>(sigmoid);
  if (op == "Tanh") return map_values<float>([](float x) { return std::tanh(x); });
  if (op == "Sqrt") return map_values<float>([](float x) { return std::sqrt(x); });
  if (op == "Exp") return map_values<float>([](float x) { return std::exp(x); });
  if (op == "Log") return map_values<float>([](float x) { return std::log(x); });
  if (op == "Erf") return map_values<float>([](float x) { return std::erf(x); });
  if (op == "Reciprocal") return map_values<float>([](float x) { return 1.0f / x; });
  if (op == "Floor") return map_values<float>([](float x) { return std::floor(x); });
  if (op == "Ceil") return map_values<float>([](float x) { return std::ceil(x); });
  if (op == "LeakyRelu") {
    const float alpha = node.attr_float("alpha", 0.01f);
    return map_values<float>([alpha](float x) { return x < 0.0f ? alpha * x : x; });
  }
  if (op == "Elu") {
    const float alpha = node.attr_float("alpha", 1.0f);
    return map_values<float>([alpha](float x) { return x < 0.0f ? alpha * (std::exp(x) - 1) : x; });
  }
  if (op == "HardSigmoid") {
    const float alpha = node.attr_float("alpha", 0.2f);
    const float beta = node.attr_float("beta", 0.5f);
    return map_values<float>([alpha, beta](float x) {
      const float v = alpha * x + beta;
      return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);  // NaN stays NaN
    });
  }
  if (op == "HardSwish") {
    return map_values<float>([](float x) {
      const float v = x / 6.0f + 0.5f;
      return x * (v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v));
    });
  }
  if (op == "Gelu") {
    const bool tanh = node.attr_string("approximate", "none") == "tanh";
    return map_values<float>([tanh](float x) {
      if (tanh) {
        const float inner = 0.7978845608f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + std::tanh(inner));
      }
      return 0.5f * x * (1.0f + std::erf(x * 0.70710678f));
    });
  }
  fail("node {}: unsupported unary op", node.label());
}

template <typename T>
RunFn numeric_function(const graph::Node& node) {
  const std::string& op = node.op_type;
  if (op == "Relu") return map_values<T>([](T x) { return x < T(0) ? T(0) : x; });
  if (op == "Neg") {
    return map_values<T>([](T x) {
      if constexpr (std::is_integral_v<T>)
        return static_cast<T>(0ull - static_cast<std::uint64_t>(x));
      else
        return -x;
    });
  }
  if (op == "Abs") {
    return map_values<T>([](T x) {
      if constexpr (std::is_integral_v<T>) {
        return x < T(0) ? static_cast<T>(0ull - static_cast<std::uint64_t>(x)) : x;
      } else {
        return std::fabs(x);
      }
    });
  }
  return float_function(node);
}

// Clip: bounds come from inputs 1 and 2 (opset 11+, read at run time) or attributes.
template <typename T>
RunFn clip_function(const graph::Node& node) {
  const graph::ops::ClipBounds attrs = graph::ops::ClipBounds::from_attributes(node);
  const bool from_attrs = attrs.has_any();
  const float low_attr = attrs.min.value_or(-std::numeric_limits<float>::infinity());
  const float high_attr = attrs.max.value_or(std::numeric_limits<float>::infinity());
  const bool has_min = node.has_input(1);
  const bool has_max = node.has_input(2);
  return [=](std::span<const Tensor> in, std::span<Tensor> out) {
    T low = std::numeric_limits<T>::lowest();
    T high = std::numeric_limits<T>::max();
    if constexpr (std::is_floating_point_v<T>) {
      if (from_attrs) {
        low = low_attr;
        high = high_attr;
      }
    }
    if (has_min) low = *static_cast<const T*>(in[1].raw());
    if (has_max) high = *static_cast<const T*>(in[2].raw());
    const T* x = static_cast<const T*>(in[0].raw());
    T* y = static_cast<T*>(out[0].raw());
    for (std::int64_t i = 0; i < out[0].numel(); ++i) {
      const T v = x[i] < low ? low : x[i];
      y[i] = v > high ? high : v;
    }
  };
}

}  // namespace

void infer_unary(PrepareContext& context) {
  check_unary(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_unary(const PrepareContext& context) {
  check_unary(context);
  const graph::Node& node = context.node;
  if (node.op_type == "Not") {
    return make_kernel(map_values<bool>([](bool x) { return !x; }));
  }
  if (node.op_type == "Clip" && node.has_attr("min") && context.inputs[0].dtype != DType::f32) {
    fail("node {}: Clip attributes apply to f32 only", node.label());
  }
  RunFn run;
  dispatch_numeric(node, context.inputs[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    run = node.op_type == "Clip" ? clip_function<T>(node) : numeric_function<T>(node);
  });
  return make_kernel(std::move(run));
}

}  // namespace edgeperf::runtime::reference
