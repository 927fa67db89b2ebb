#pragma once
// OpTester: builds one node, runs the reference kernel's infer/create/run and compares
// outputs, in the spirit of XNNPACK's operator testers.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/reference.h"

namespace edgeperf::runtime::reference_test {

class OpTester {
 public:
  explicit OpTester(std::string op_type, std::size_t outputs = 1) {
    node_.name = "node";
    node_.op_type = std::move(op_type);
    for (std::size_t i = 0; i < outputs; ++i) node_.outputs.push_back("y" + std::to_string(i));
  }

  OpTester& attr(const std::string& key, graph::AttrValue value) {
    node_.attrs[key] = std::move(value);
    return *this;
  }
  // A runtime input (not known at prepare time).
  OpTester& input(Tensor value) { return add(std::move(value), false); }
  // An input known at prepare time (initializer or folded constant).
  OpTester& constant(Tensor value) { return add(std::move(value), true); }
  OpTester& absent() {
    node_.inputs.push_back("");
    values_.emplace_back();
    constant_.push_back(false);
    return *this;
  }
  // Operator domain ("com.microsoft"); the default ONNX domain when not called.
  OpTester& domain(std::string value) {
    node_.domain = std::move(value);
    return *this;
  }
  OpTester& opset(std::int64_t value) {
    opset_ = value;
    return *this;
  }

  const graph::Node& node() const { return node_; }

  // Runs infer() and returns the output descriptors (throws what infer throws).
  std::vector<TensorDesc> infer() {
    PrepareContext context = make_context();
    registration().infer(context);
    output_values_ = context.output_values;
    return context.outputs;
  }

  // infer + create + run; returns the outputs.
  std::vector<Tensor> run() {
    PrepareContext context = make_context();
    registration().infer(context);
    std::unique_ptr<Kernel> kernel = registration().create(context);
    std::vector<Tensor> outputs;
    for (const TensorDesc& desc : context.outputs) outputs.emplace_back(desc.dtype, desc.shape);
    std::vector<Tensor> inputs;
    for (const auto& value : values_) inputs.push_back(value ? *value : Tensor());
    kernel->run(RunContext{2}, inputs, outputs);
    return outputs;
  }

  const std::vector<std::optional<Tensor>>& output_values() const { return output_values_; }

 private:
  OpTester& add(Tensor value, bool is_constant) {
    node_.inputs.push_back("x" + std::to_string(node_.inputs.size()));
    values_.emplace_back(std::move(value));
    constant_.push_back(is_constant);
    return *this;
  }

  const KernelRegistration& registration() const {
    const KernelRegistration* found = find_reference_kernel(node_);
    if (found == nullptr) throw Error("no reference kernel for " + registry_key(node_));
    return *found;
  }

  PrepareContext make_context() const {
    PrepareContext context{node_, {}, {}, {}, {}, opset_};
    for (std::size_t i = 0; i < values_.size(); ++i) {
      if (values_[i]) {
        context.inputs.push_back(TensorDesc{values_[i]->dtype(), values_[i]->shape(), true});
      } else {
        context.inputs.push_back(TensorDesc{DType::f32, {}, false});
      }
      context.constants.push_back(constant_[i] && values_[i] ? &*values_[i] : nullptr);
    }
    return context;
  }

  graph::Node node_;
  std::vector<std::optional<Tensor>> values_;
  std::vector<bool> constant_;
  std::int64_t opset_ = 13;
  std::vector<std::optional<Tensor>> output_values_;
};

inline Tensor f32(Shape shape, std::vector<float> values) {
  return make_tensor<float>(std::move(shape), values);
}
inline Tensor i64(Shape shape, std::vector<std::int64_t> values) {
  return make_tensor<std::int64_t>(std::move(shape), values);
}
inline Tensor i32(Shape shape, std::vector<std::int32_t> values) {
  return make_tensor<std::int32_t>(std::move(shape), values);
}

// Element-wise comparison of float tensors with absolute+relative tolerance; NaN == NaN.
inline void expect_close(const Tensor& actual, const Tensor& expected, double tolerance = 1e-5) {
  ASSERT_EQ(actual.dtype(), expected.dtype());
  ASSERT_EQ(actual.shape(), expected.shape());
  const auto a = actual.to_doubles();
  const auto e = expected.to_doubles();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(e[i])) {
      EXPECT_TRUE(std::isnan(a[i])) << "at " << i;
      continue;
    }
    EXPECT_NEAR(a[i], e[i], tolerance * (1.0 + std::fabs(e[i]))) << "at flat index " << i;
  }
}

template <typename T>
std::vector<T> values_of(const Tensor& tensor) {
  const auto span = tensor.values<T>();
  return {span.begin(), span.end()};
}

// Expects `body` to throw edgeperf::Error whose message contains `fragment`.
template <typename Body>
void expect_error(Body&& body, const std::string& fragment) {
  try {
    body();
    ADD_FAILURE() << "expected an Error containing '" << fragment << "'";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

}  // namespace edgeperf::runtime::reference_test
