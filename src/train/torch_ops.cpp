// ONNX operators as differentiable libtorch calls. The semantics follow the ONNX operator
// specification; the registry at the end is plain data, one entry per op type.
#include "torch_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>

#include "edgeperf/core/error.h"

namespace edgeperf::train::detail {
namespace {

using Inputs = std::vector<at::Tensor>;
using OpFn = std::function<at::Tensor(const graph::Node&, const Inputs&)>;

at::ScalarType torch_type(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return at::kFloat;
    case DType::f16:
      return at::kHalf;
    case DType::i8:
      return at::kChar;
    case DType::u8:
      return at::kByte;
    case DType::i32:
      return at::kInt;
    case DType::i64:
      return at::kLong;
    case DType::boolean:
      return at::kBool;
  }
  fail("unknown dtype");
}

std::vector<std::int64_t> int_values(const at::Tensor& tensor) {
  const at::Tensor flat = tensor.to(at::kLong).contiguous().flatten();
  return {flat.data_ptr<std::int64_t>(), flat.data_ptr<std::int64_t>() + flat.numel()};
}

const at::Tensor& input(const graph::Node& node, const Inputs& inputs, std::size_t index) {
  EP_CHECK(index < inputs.size() && inputs[index].defined(), "node {}: input {} is missing",
           node.label(), index);
  return inputs[index];
}

bool has(const Inputs& inputs, std::size_t index) {
  return index < inputs.size() && inputs[index].defined();
}

std::int64_t normalized_axis(const graph::Node& node, std::int64_t axis, std::int64_t rank) {
  const std::int64_t normalized = axis < 0 ? axis + rank : axis;
  EP_CHECK(normalized >= 0 && normalized < rank, "node {}: axis {} is out of range for rank {}",
           node.label(), axis, rank);
  return normalized;
}

// ONNX pads [x1_begin, x2_begin, ..., x1_end, x2_end, ...] over the last `spatial` axes
// as torch's pad list (last axis first: begin, end).
std::vector<std::int64_t> torch_pad_list(const std::vector<std::int64_t>& pads) {
  const std::size_t axes = pads.size() / 2;
  std::vector<std::int64_t> list;
  for (std::size_t axis = axes; axis-- > 0;) {
    list.push_back(pads[axis]);
    list.push_back(pads[axis + axes]);
  }
  return list;
}

// Pads for auto_pad SAME_UPPER / SAME_LOWER: output = ceil(input / stride).
std::vector<std::int64_t> same_pads(const graph::Node& node, const at::Tensor& x,
                                    const std::vector<std::int64_t>& kernel,
                                    const std::vector<std::int64_t>& strides,
                                    const std::vector<std::int64_t>& dilations) {
  const std::size_t spatial = kernel.size();
  std::vector<std::int64_t> pads(2 * spatial, 0);
  const bool lower = node.attr_string("auto_pad", "NOTSET") == "SAME_LOWER";
  for (std::size_t axis = 0; axis < spatial; ++axis) {
    const std::int64_t size = x.size(static_cast<std::int64_t>(axis + 2));
    const std::int64_t out = (size + strides[axis] - 1) / strides[axis];
    const std::int64_t extent = (kernel[axis] - 1) * dilations[axis] + 1;
    const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * strides[axis] + extent - size);
    pads[axis] = lower ? total - total / 2 : total / 2;
    pads[axis + spatial] = total - pads[axis];
  }
  return pads;
}

struct Window {
  std::vector<std::int64_t> kernel, strides, dilations, pads;
};

Window window_of(const graph::Node& node, const at::Tensor& x, std::vector<std::int64_t> kernel) {
  const std::size_t spatial = kernel.size();
  Window window;
  window.kernel = std::move(kernel);
  window.strides = node.attr_ints("strides", std::vector<std::int64_t>(spatial, 1));
  window.dilations = node.attr_ints("dilations", std::vector<std::int64_t>(spatial, 1));
  const std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    window.pads = same_pads(node, x, window.kernel, window.strides, window.dilations);
  } else {
    EP_CHECK(auto_pad == "NOTSET" || auto_pad == "VALID", "node {}: auto_pad '{}' is not supported",
             node.label(), auto_pad);
    window.pads = auto_pad == "VALID"
                      ? std::vector<std::int64_t>(2 * spatial, 0)
                      : node.attr_ints("pads", std::vector<std::int64_t>(2 * spatial, 0));
  }
  EP_CHECK(window.strides.size() == spatial && window.dilations.size() == spatial &&
               window.pads.size() == 2 * spatial,
           "node {}: kernel, strides, dilations and pads disagree in rank", node.label());
  return window;
}

// Each axis padded as much at its end as at its begin (what torch's primitives take).
bool symmetric_pads(const std::vector<std::int64_t>& pads) {
  const auto spatial = static_cast<std::ptrdiff_t>(pads.size() / 2);
  return std::equal(pads.begin(), pads.begin() + spatial, pads.begin() + spatial);
}

// Symmetric pads go to the primitive; asymmetric ones are applied first with `fill`.
std::pair<at::Tensor, std::vector<std::int64_t>> split_pads(const at::Tensor& x,
                                                            const std::vector<std::int64_t>& pads,
                                                            double fill) {
  const std::size_t spatial = pads.size() / 2;
  if (symmetric_pads(pads)) {
    return {x, std::vector<std::int64_t>(pads.begin(),
                                         pads.begin() + static_cast<std::ptrdiff_t>(spatial))};
  }
  return {at::constant_pad_nd(x, torch_pad_list(pads), fill),
          std::vector<std::int64_t>(spatial, 0)};
}

at::Tensor conv(const graph::Node& node, const Inputs& inputs) {
  const at::Tensor& x = input(node, inputs, 0);
  const at::Tensor& w = input(node, inputs, 1);
  std::vector<std::int64_t> kernel = node.attr_ints("kernel_shape", {});
  if (kernel.empty()) kernel.assign(w.sizes().begin() + 2, w.sizes().end());
  const Window window = window_of(node, x, kernel);
  auto [padded, pads] = split_pads(x, window.pads, 0.0);
  const at::Tensor bias = has(inputs, 2) ? inputs[2] : at::Tensor();
  return at::convolution(padded, w, bias, window.strides, pads, window.dilations, false,
                         std::vector<std::int64_t>(kernel.size(), 0), node.attr_int("group", 1));
}

at::Tensor gemm(const graph::Node& node, const Inputs& inputs) {
  at::Tensor a = input(node, inputs, 0);
  at::Tensor b = input(node, inputs, 1);
  if (node.attr_int("transA", 0) != 0) a = a.t();
  if (node.attr_int("transB", 0) != 0) b = b.t();
  at::Tensor out = at::mm(a, b) * node.attr_float("alpha", 1.0F);
  if (has(inputs, 2)) out = out + inputs[2] * node.attr_float("beta", 1.0F);
  return out;
}

at::Tensor pool(const graph::Node& node, const Inputs& inputs, bool max) {
  const at::Tensor& x = input(node, inputs, 0);
  const Window window = window_of(node, x, node.attr_ints("kernel_shape"));
  const bool ceil = node.attr_int("ceil_mode", 0) != 0;
  const std::size_t spatial = window.kernel.size();
  EP_CHECK(spatial >= 1 && spatial <= 3, "node {}: {}-d pooling is not supported", node.label(),
           spatial);
  if (max) {
    auto [padded, pads] = split_pads(x, window.pads, -std::numeric_limits<double>::infinity());
    if (spatial == 1)
      return at::max_pool1d(padded, window.kernel, window.strides, pads, window.dilations, ceil);
    if (spatial == 2)
      return at::max_pool2d(padded, window.kernel, window.strides, pads, window.dilations, ceil);
    return at::max_pool3d(padded, window.kernel, window.strides, pads, window.dilations, ceil);
  }
  const bool include_pad = node.attr_int("count_include_pad", 0) != 0;
  // Pads applied before the pooling would count as samples.
  EP_CHECK(symmetric_pads(window.pads) || include_pad,
           "node {}: AveragePool with asymmetric pads excluded from the count is not supported",
           node.label());
  auto [padded, pads] = split_pads(x, window.pads, 0.0);
  if (spatial == 1)
    return at::avg_pool1d(padded, window.kernel, window.strides, pads, ceil, include_pad);
  if (spatial == 2)
    return at::avg_pool2d(padded, window.kernel, window.strides, pads, ceil, include_pad);
  return at::avg_pool3d(padded, window.kernel, window.strides, pads, ceil, include_pad);
}

std::vector<std::int64_t> spatial_dims(const at::Tensor& x) {
  std::vector<std::int64_t> dims;
  for (std::int64_t axis = 2; axis < x.dim(); ++axis) dims.push_back(axis);
  return dims;
}

at::Tensor clip(const graph::Node& node, const Inputs& inputs) {
  at::Tensor x = input(node, inputs, 0);
  if (node.has_attr("min") || node.has_attr("max")) {  // opset < 11
    return at::clamp(x, node.attr_float("min", -std::numeric_limits<float>::max()),
                     node.attr_float("max", std::numeric_limits<float>::max()));
  }
  if (has(inputs, 1)) x = at::clamp_min(x, inputs[1].item<double>());
  if (has(inputs, 2)) x = at::clamp_max(x, inputs[2].item<double>());
  return x;
}

at::Tensor hard_sigmoid(const at::Tensor& x, double alpha, double beta) {
  return at::clamp(x * alpha + beta, 0.0, 1.0);
}

at::Tensor reshape(const graph::Node& node, const Inputs& inputs) {
  const at::Tensor& x = input(node, inputs, 0);
  std::vector<std::int64_t> shape = int_values(input(node, inputs, 1));
  const bool allow_zero = node.attr_int("allowzero", 0) != 0;
  for (std::size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] == 0 && !allow_zero) shape[axis] = x.size(static_cast<std::int64_t>(axis));
  }
  return x.reshape(shape);
}

at::Tensor flatten(const graph::Node& node, const Inputs& inputs) {
  const at::Tensor& x = input(node, inputs, 0);
  const std::int64_t axis = normalized_axis(node, node.attr_int("axis", 1), x.dim() + 1);
  std::int64_t outer = 1;
  for (std::int64_t d = 0; d < axis; ++d) outer *= x.size(d);
  return x.reshape({outer, -1});
}

std::vector<std::int64_t> axes_of(const graph::Node& node, const Inputs& inputs, std::size_t slot) {
  if (has(inputs, slot)) return int_values(inputs[slot]);
  return node.attr_ints("axes", {});
}

at::Tensor squeeze(const graph::Node& node, const Inputs& inputs) {
  at::Tensor x = input(node, inputs, 0);
  std::vector<std::int64_t> axes = axes_of(node, inputs, 1);
  if (axes.empty()) return x.squeeze();
  for (std::int64_t& axis : axes) axis = normalized_axis(node, axis, x.dim());
  std::sort(axes.rbegin(), axes.rend());
  for (std::int64_t axis : axes) x = x.squeeze(axis);
  return x;
}

at::Tensor unsqueeze(const graph::Node& node, const Inputs& inputs) {
  at::Tensor x = input(node, inputs, 0);
  std::vector<std::int64_t> axes = axes_of(node, inputs, 1);
  const std::int64_t rank = x.dim() + static_cast<std::int64_t>(axes.size());
  for (std::int64_t& axis : axes) axis = normalized_axis(node, axis, rank);
  std::sort(axes.begin(), axes.end());
  for (std::int64_t axis : axes) x = x.unsqueeze(axis);
  return x;
}

at::Tensor concat(const graph::Node& node, const Inputs& inputs) {
  std::vector<at::Tensor> parts;
  for (const at::Tensor& part : inputs) {
    if (part.defined()) parts.push_back(part);
  }
  EP_CHECK(!parts.empty(), "node {}: no inputs", node.label());
  return at::cat(parts, normalized_axis(node, node.attr_int("axis"), parts[0].dim()));
}

at::Tensor softmax(const graph::Node& node, const Inputs& inputs, bool log) {
  const at::Tensor& x = input(node, inputs, 0);
  // The default axis is -1 from opset 13 and 1 (over a 2-D view) before: the same on the
  // [N, classes] logits the loss reads.
  const std::int64_t axis = normalized_axis(node, node.attr_int("axis", -1), x.dim());
  return log ? at::log_softmax(x, axis) : at::softmax(x, axis);
}

at::Tensor pad(const graph::Node& node, const Inputs& inputs) {
  const at::Tensor& x = input(node, inputs, 0);
  const std::string mode = node.attr_string("mode", "constant");
  EP_CHECK(mode == "constant", "node {}: Pad mode '{}' is not supported (constant only)",
           node.label(), mode);
  std::vector<std::int64_t> pads =
      has(inputs, 1) ? int_values(inputs[1]) : node.attr_ints("pads", {});
  EP_CHECK(!has(inputs, 3), "node {}: Pad with axes is not supported", node.label());
  EP_CHECK(pads.size() == static_cast<std::size_t>(2 * x.dim()),
           "node {}: {} pads for a rank-{} input", node.label(), pads.size(), x.dim());
  const double value = has(inputs, 2) && inputs[2].numel() > 0 ? inputs[2].item<double>()
                                                               : node.attr_float("value", 0.0F);
  return at::constant_pad_nd(x, torch_pad_list(pads), value);
}

at::Tensor reduce_mean(const graph::Node& node, const Inputs& inputs) {
  const at::Tensor& x = input(node, inputs, 0);
  std::vector<std::int64_t> axes = axes_of(node, inputs, 1);
  const bool keep = node.attr_int("keepdims", 1) != 0;
  if (axes.empty()) {
    for (std::int64_t axis = 0; axis < x.dim(); ++axis) axes.push_back(axis);
  }
  return at::mean(x, axes, keep);
}

at::Tensor slice(const graph::Node& node, const Inputs& inputs) {
  at::Tensor x = input(node, inputs, 0);
  const std::vector<std::int64_t> starts = int_values(input(node, inputs, 1));
  const std::vector<std::int64_t> ends = int_values(input(node, inputs, 2));
  std::vector<std::int64_t> axes =
      has(inputs, 3) ? int_values(inputs[3]) : std::vector<std::int64_t>{};
  if (axes.empty()) {
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
  }
  const std::vector<std::int64_t> steps =
      has(inputs, 4) ? int_values(inputs[4]) : std::vector<std::int64_t>(starts.size(), 1);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    EP_CHECK(steps[i] > 0, "node {}: negative Slice steps are not supported", node.label());
    const std::int64_t axis = normalized_axis(node, axes[i], x.dim());
    const std::int64_t size = x.size(axis);
    auto clamp_index = [size](std::int64_t index) {
      if (index < 0) index += size;
      return std::clamp<std::int64_t>(index, 0, size);
    };
    x = x.slice(axis, clamp_index(starts[i]), clamp_index(ends[i]), steps[i]);
  }
  return x;
}

at::Tensor batch_norm(const graph::Node& node, const Inputs& inputs) {
  // Statistics frozen: fine-tuning a small batch would otherwise overwrite them.
  return at::batch_norm(input(node, inputs, 0), input(node, inputs, 1), input(node, inputs, 2),
                        input(node, inputs, 3), input(node, inputs, 4), false, 0.0,
                        node.attr_float("epsilon", 1e-5F), false);
}

at::Tensor cast(const graph::Node& node, const Inputs& inputs) {
  const at::Tensor& x = input(node, inputs, 0);
  const std::int64_t to = node.attr_int("to");
  // ONNX TensorProto: FLOAT 1, UINT8 2, INT8 3, INT32 6, INT64 7, BOOL 9.
  static const std::map<std::int64_t, at::ScalarType> kTypes = {{1, at::kFloat}, {2, at::kByte},
                                                                {3, at::kChar},  {6, at::kInt},
                                                                {7, at::kLong},  {9, at::kBool}};
  const auto type = kTypes.find(to);
  EP_CHECK(type != kTypes.end(), "node {}: Cast to type {} is not supported", node.label(), to);
  return x.to(type->second);
}

// Split's sizes: the `split` input (opset 13) or attribute, else equal parts (the last
// smaller, as opset 18's num_outputs).
std::vector<at::Tensor> split(const graph::Node& node, const Inputs& inputs) {
  const at::Tensor& x = input(node, inputs, 0);
  const std::int64_t axis = normalized_axis(node, node.attr_int("axis", 0), x.dim());
  std::vector<std::int64_t> sizes =
      has(inputs, 1) ? int_values(inputs[1]) : node.attr_ints("split", {});
  if (sizes.empty()) {
    const auto parts = node.attr_int("num_outputs", static_cast<std::int64_t>(node.outputs.size()));
    const std::int64_t chunk = (x.size(axis) + parts - 1) / parts;
    for (std::int64_t part = 0; part < parts; ++part) {
      sizes.push_back(std::min(chunk, x.size(axis) - part * chunk));
    }
  }
  return x.split_with_sizes(sizes, axis);
}

template <typename Fn>
OpFn unary(Fn fn) {
  return [fn](const graph::Node& node, const Inputs& inputs) { return fn(input(node, inputs, 0)); };
}

template <typename Fn>
OpFn binary(Fn fn) {
  return [fn](const graph::Node& node, const Inputs& inputs) {
    return fn(input(node, inputs, 0), input(node, inputs, 1));
  };
}

const std::map<std::string, OpFn>& registry() {
  static const std::map<std::string, OpFn> kOps = {
      {"Conv", conv},
      {"Gemm", gemm},
      {"MatMul", binary([](const at::Tensor& a, const at::Tensor& b) { return at::matmul(a, b); })},
      {"Add", binary([](const at::Tensor& a, const at::Tensor& b) { return a + b; })},
      {"Sub", binary([](const at::Tensor& a, const at::Tensor& b) { return a - b; })},
      {"Mul", binary([](const at::Tensor& a, const at::Tensor& b) { return a * b; })},
      {"Div", binary([](const at::Tensor& a, const at::Tensor& b) { return a / b; })},
      {"Pow", binary([](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); })},
      {"Relu", unary([](const at::Tensor& x) { return at::relu(x); })},
      {"Sigmoid", unary([](const at::Tensor& x) { return at::sigmoid(x); })},
      {"Tanh", unary([](const at::Tensor& x) { return at::tanh(x); })},
      {"Exp", unary([](const at::Tensor& x) { return at::exp(x); })},
      {"Log", unary([](const at::Tensor& x) { return at::log(x); })},
      {"Sqrt", unary([](const at::Tensor& x) { return at::sqrt(x); })},
      {"Neg", unary([](const at::Tensor& x) { return at::neg(x); })},
      {"Abs", unary([](const at::Tensor& x) { return at::abs(x); })},
      {"Erf", unary([](const at::Tensor& x) { return at::erf(x); })},
      {"Identity", unary([](const at::Tensor& x) { return x; })},
      {"Dropout", unary([](const at::Tensor& x) { return x; })},
      {"LeakyRelu",
       [](const graph::Node& node, const Inputs& inputs) {
         return at::leaky_relu(input(node, inputs, 0), node.attr_float("alpha", 0.01F));
       }},
      {"Elu",
       [](const graph::Node& node, const Inputs& inputs) {
         return at::elu(input(node, inputs, 0), node.attr_float("alpha", 1.0F));
       }},
      {"HardSigmoid",
       [](const graph::Node& node, const Inputs& inputs) {
         return hard_sigmoid(input(node, inputs, 0), node.attr_float("alpha", 0.2F),
                             node.attr_float("beta", 0.5F));
       }},
      {"HardSwish",
       [](const graph::Node& node, const Inputs& inputs) {
         const at::Tensor& x = input(node, inputs, 0);
         return x * hard_sigmoid(x, 1.0 / 6.0, 0.5);
       }},
      {"Clip", clip},
      {"Softmax", [](const graph::Node& n, const Inputs& i) { return softmax(n, i, false); }},
      {"LogSoftmax", [](const graph::Node& n, const Inputs& i) { return softmax(n, i, true); }},
      {"MaxPool", [](const graph::Node& n, const Inputs& i) { return pool(n, i, true); }},
      {"AveragePool", [](const graph::Node& n, const Inputs& i) { return pool(n, i, false); }},
      {"GlobalAveragePool",
       [](const graph::Node& node, const Inputs& inputs) {
         const at::Tensor& x = input(node, inputs, 0);
         return at::mean(x, spatial_dims(x), true);
       }},
      {"GlobalMaxPool",
       [](const graph::Node& node, const Inputs& inputs) {
         at::Tensor x = input(node, inputs, 0);
         for (std::int64_t axis : spatial_dims(x)) x = std::get<0>(x.max(axis, true));
         return x;
       }},
      {"BatchNormalization", batch_norm},
      {"Flatten", flatten},
      {"Reshape", reshape},
      {"Transpose",
       [](const graph::Node& node, const Inputs& inputs) {
         const at::Tensor& x = input(node, inputs, 0);
         std::vector<std::int64_t> perm = node.attr_ints("perm", {});
         if (perm.empty()) {
           for (std::int64_t axis = x.dim(); axis-- > 0;) perm.push_back(axis);
         }
         return x.permute(perm);
       }},
      {"Concat", concat},
      {"Squeeze", squeeze},
      {"Unsqueeze", unsqueeze},
      {"Pad", pad},
      {"ReduceMean", reduce_mean},
      {"Slice", slice},
      {"Cast", cast},
  };
  return kOps;
}

}  // namespace

at::Tensor to_torch(const Tensor& tensor) {
  const Shape& shape = tensor.shape();
  const std::vector<std::int64_t> sizes(shape.begin(), shape.end());
  at::Tensor out = at::empty(sizes, at::TensorOptions().dtype(torch_type(tensor.dtype())));
  if (tensor.nbytes() > 0) std::memcpy(out.data_ptr(), tensor.raw(), tensor.nbytes());
  return out;
}

at::Tensor view_torch(const Tensor& tensor) {
  EP_CHECK(tensor.dtype() == DType::f32, "training data must be f32 (got {})",
           dtype_name(tensor.dtype()));
  const std::vector<std::int64_t> sizes(tensor.shape().begin(), tensor.shape().end());
  // from_blob takes a mutable pointer; nothing writes through this view.
  return at::from_blob(const_cast<void*>(tensor.raw()), sizes, at::kFloat);
}

Tensor from_torch(const at::Tensor& tensor, DType dtype) {
  const at::Tensor source = tensor.detach().to(torch_type(dtype)).contiguous();
  Tensor out(dtype, Shape(source.sizes().begin(), source.sizes().end()));
  if (out.nbytes() > 0) std::memcpy(out.raw(), source.data_ptr(), out.nbytes());
  return out;
}

std::vector<at::Tensor> run_op(const graph::Node& node, const std::vector<at::Tensor>& inputs) {
  EP_CHECK(node.domain.empty() || node.domain == "ai.onnx",
           "node {}: domain '{}' is not supported by the training engine", node.label(),
           node.domain);
  const auto op = registry().find(node.op_type);
  EP_CHECK(op != registry().end() || node.op_type == "Split",
           "node {}: op {} is not supported by the training engine", node.label(), node.op_type);
  try {
    if (node.op_type == "Split") return split(node, inputs);
    return {op->second(node, inputs)};
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& error) {
    // torch's message spans many lines; its first line says what was wrong.
    const std::string what = error.what_without_backtrace();
    fail("node {}: {}", node.label(), what.substr(0, what.find('\n')));
  } catch (const std::exception& error) {  // some torch checks throw std::runtime_error
    const std::string what = error.what();
    fail("node {}: {}", node.label(), what.substr(0, what.find('\n')));
  }
}

bool supports_op(const std::string& op_type) {
  return registry().count(op_type) != 0 || op_type == "Split";
}

}  // namespace edgeperf::train::detail
