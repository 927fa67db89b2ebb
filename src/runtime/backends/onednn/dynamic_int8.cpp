#include "dynamic_int8.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <dnnl.hpp>
#include <numeric>
#include <optional>

#include "aligned_buffer.h"
#include "gemm_weights.h"
#include "int8_patterns.h"

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::memory;

struct DynamicMatMul {
  std::size_t first = 0, last = 0;       // node range [first, last)
  const Tensor* weights = nullptr;       // s8 [K, N]
  const Tensor* weight_scale = nullptr;  // f32 scalar or [N]
  const Tensor* bias = nullptr;          // f32 [N] or nullptr
  bool relu = false;
  std::string input, output;
  TensorDesc input_desc, output_desc;
};

class Matcher {
 public:
  explicit Matcher(const LoweringInput& input) : input_(input) {}

  std::optional<DynamicMatMul> match(std::size_t start) const {
    const PlannedNode& quantize = node(start);
    if (!is_op(quantize, "DynamicQuantizeLinear") || quantize.node->outputs.size() != 3 ||
        !runtime_input(quantize, 0) || quantize.inputs[0].dtype != DType::f32 ||
        quantize.inputs[0].shape.size() != 2) {
      return std::nullopt;
    }
    const auto& q = quantize.node->outputs;
    DynamicMatMul pattern;
    std::vector<std::size_t> nodes = {start};
    // MatMulInteger(x_q, W, x_zp, [w_zp = 0])
    const std::optional<std::size_t> matmul = only_consumer(q[0]);
    if (!matmul || !is_op(node(*matmul), "MatMulInteger")) return std::nullopt;
    const PlannedNode& mm = node(*matmul);
    const auto& mm_inputs = mm.node->inputs;
    if (mm_inputs.size() < 3 || mm_inputs[0] != q[0] || mm_inputs[2] != q[2] ||
        only_consumer(q[2]) != matmul) {
      return std::nullopt;
    }
    pattern.weights = constant(mm, 1);
    if (pattern.weights == nullptr || pattern.weights->dtype() != DType::i8 ||
        pattern.weights->rank() != 2 || pattern.weights->dim(0) != quantize.inputs[0].shape[1]) {
      return std::nullopt;
    }
    if (mm.node->has_input(3) && !all_zero(constant(mm, 3))) return std::nullopt;
    nodes.push_back(*matmul);
    // Cast(to = FLOAT)
    const std::optional<std::size_t> cast = only_consumer(mm.node->outputs[0]);
    if (!cast || !is_op(node(*cast), "Cast") || node(*cast).node->attr_int("to", 0) != 1) {
      return std::nullopt;
    }
    nodes.push_back(*cast);
    // Mul(cast, Mul(x_scale, w_scale))
    const std::optional<std::size_t> scale_mul = only_consumer(q[1]);
    if (!scale_mul || !is_op(node(*scale_mul), "Mul")) return std::nullopt;
    pattern.weight_scale = other_constant(node(*scale_mul), q[1]);
    const std::int64_t n = pattern.weights->dim(1);
    if (pattern.weight_scale == nullptr || pattern.weight_scale->dtype() != DType::f32 ||
        (pattern.weight_scale->numel() != 1 && pattern.weight_scale->numel() != n)) {
      return std::nullopt;
    }
    nodes.push_back(*scale_mul);
    const std::string& cast_out = node(*cast).node->outputs[0];
    const std::optional<std::size_t> output_mul = only_consumer(cast_out);
    const std::string& scale_out = node(*scale_mul).node->outputs[0];
    if (!output_mul || only_consumer(scale_out) != output_mul || !is_op(node(*output_mul), "Mul") ||
        !has_inputs(node(*output_mul), cast_out, scale_out)) {
      return std::nullopt;
    }
    nodes.push_back(*output_mul);
    std::string current = node(*output_mul).node->outputs[0];
    // [Add(bias)] [Relu]
    if (const auto add = only_consumer(current); add && is_op(node(*add), "Add")) {
      const Tensor* bias = other_constant(node(*add), current);
      if (bias != nullptr && bias->dtype() == DType::f32 && bias->numel() == n &&
          node(*add).outputs[0].shape == node(*output_mul).outputs[0].shape) {
        pattern.bias = bias;
        nodes.push_back(*add);
        current = node(*add).node->outputs[0];
      }
    }
    if (const auto relu = only_consumer(current); relu && is_op(node(*relu), "Relu")) {
      pattern.relu = true;
      nodes.push_back(*relu);
      current = node(*relu).node->outputs[0];
    }
    std::sort(nodes.begin(), nodes.end());
    for (std::size_t i = 1; i < nodes.size(); ++i) {
      if (nodes[i] != nodes[i - 1] + 1) return std::nullopt;  // steps cover contiguous runs
    }
    for (std::size_t index : nodes) {
      const graph::Node& graph_node = *node(index).node;
      for (const std::string& output : graph_node.outputs) {
        if (output != current && input_.is_graph_output(output)) return std::nullopt;
      }
    }
    pattern.first = nodes.front();
    pattern.last = nodes.back() + 1;
    pattern.input = quantize.node->inputs[0];
    pattern.input_desc = quantize.inputs[0];
    pattern.output = current;
    pattern.output_desc = node(nodes.back()).outputs[0];
    if (pattern.output_desc.dtype != DType::f32 ||
        pattern.output_desc.shape != Shape{pattern.input_desc.shape[0], n}) {
      return std::nullopt;
    }
    return pattern;
  }

 private:
  const PlannedNode& node(std::size_t index) const { return input_.nodes[index]; }

  static bool is_op(const PlannedNode& planned, const char* op_type) {
    return planned.node->op_type == op_type && planned.node->domain.empty();
  }

  static bool runtime_input(const PlannedNode& planned, std::size_t index) {
    return planned.node->has_input(index) &&
           (index >= planned.constants.size() || planned.constants[index] == nullptr);
  }

  static const Tensor* constant(const PlannedNode& planned, std::size_t index) {
    if (!planned.node->has_input(index) || index >= planned.constants.size()) return nullptr;
    return planned.constants[index];
  }

  // The constant operand of a binary node whose other operand is `value`.
  static const Tensor* other_constant(const PlannedNode& planned, const std::string& value) {
    const auto& inputs = planned.node->inputs;
    if (inputs.size() != 2) return nullptr;
    if (inputs[0] == value) return constant(planned, 1);
    if (inputs[1] == value) return constant(planned, 0);
    return nullptr;
  }

  static bool has_inputs(const PlannedNode& planned, const std::string& a, const std::string& b) {
    const auto& inputs = planned.node->inputs;
    return inputs.size() == 2 &&
           ((inputs[0] == a && inputs[1] == b) || (inputs[0] == b && inputs[1] == a));
  }

  static bool all_zero(const Tensor* tensor) {
    if (tensor == nullptr || (tensor->dtype() != DType::i8 && tensor->dtype() != DType::u8)) {
      return false;
    }
    for (double value : tensor->to_doubles()) {
      if (value != 0.0) return false;
    }
    return true;
  }

  std::optional<std::size_t> only_consumer(const std::string& value) const {
    const std::vector<std::size_t>& readers = input_.consumers_of(value);
    if (input_.is_graph_output(value) || readers.size() != 1) return std::nullopt;
    return readers[0];
  }

  const LoweringInput& input_;
};

class DynamicMatMulKernel final : public Kernel {
 public:
  DynamicMatMulKernel(const DynamicMatMul& pattern, std::string label)
      : label_(std::move(label)),
        engine_(dnnl::engine::kind::cpu, 0),
        stream_(engine_),
        rows_(pattern.input_desc.shape[0]),
        depth_(pattern.weights->dim(0)),
        columns_(pattern.weights->dim(1)),
        relu_(pattern.relu) {
    const auto weights = pattern.weights->values<std::int8_t>();
    // [N, K], the inner product's layout
    const std::vector<std::int8_t> by_column =
        transposed_kn<std::int8_t>(weights, depth_, columns_);
    column_sums_.assign(static_cast<std::size_t>(columns_), 0);
    const auto depth = static_cast<std::size_t>(depth_);
    for (std::size_t n = 0; n < column_sums_.size(); ++n) {  // a contiguous row of K each
      const std::int8_t* row = by_column.data() + n * depth;
      column_sums_[n] = std::accumulate(row, row + depth, std::int32_t{0});
    }
    const auto scales = pattern.weight_scale->values<float>();
    weight_scales_.assign(static_cast<std::size_t>(columns_), scales[0]);
    if (scales.size() > 1) weight_scales_.assign(scales.begin(), scales.end());
    bias_.assign(static_cast<std::size_t>(columns_), 0.0f);
    if (pattern.bias != nullptr) {
      const auto bias = pattern.bias->values<float>();
      bias_.assign(bias.begin(), bias.end());
    }
    has_bias_ = pattern.bias != nullptr;
    build_primitive(by_column);
  }

  void run(const RunContext&, std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    EP_CHECK(inputs.size() == 1 && outputs.size() == 1, "{}: got {} inputs and {} outputs", label_,
             inputs.size(), outputs.size());
    const std::int32_t zero_point = quantize(inputs[0].values<float>());
    src_.set_data_handle(quantized_.get());
    primitive_.execute(stream_, {{DNNL_ARG_SRC, src_},
                                 {DNNL_ARG_WEIGHTS, packed_weights_},
                                 {DNNL_ARG_DST, dst_},
                                 {DNNL_ARG_SCRATCHPAD, scratchpad_}});
    stream_.wait();
    finish(zero_point, outputs[0].data<float>());
  }

  std::size_t workspace_bytes() const override {
    return static_cast<std::size_t>(rows_ * depth_ + rows_ * columns_ * 4) +
           scratchpad_.get_desc().get_size();
  }
  std::size_t packed_weight_bytes() const override { return packed_weights_.get_desc().get_size(); }

 private:
  void build_primitive(const std::vector<std::int8_t>& by_column) {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::inner_product_forward::desc desc(
        dnnl::prop_kind::forward_inference,
        memory::desc({rows_, depth_}, memory::data_type::u8, memory::format_tag::ab),
        memory::desc({columns_, depth_}, memory::data_type::s8, memory::format_tag::any),
        memory::desc({rows_, columns_}, memory::data_type::s32, memory::format_tag::ab));
    dnnl::inner_product_forward::primitive_desc pd(desc, attr, engine_);
    primitive_ = dnnl::inner_product_forward(pd);
    packed_weights_ = memory(pd.weights_desc(), engine_);
    memory plain({{columns_, depth_}, memory::data_type::s8, memory::format_tag::ab}, engine_,
                 const_cast<std::int8_t*>(by_column.data()));  // read only
    dnnl::reorder(plain, packed_weights_).execute(stream_, plain, packed_weights_);
    stream_.wait();
    quantized_ = aligned_array<std::uint8_t>(static_cast<std::size_t>(rows_ * depth_));
    accumulators_ = aligned_array<std::int32_t>(static_cast<std::size_t>(rows_ * columns_));
    src_ = memory(pd.src_desc(), engine_, quantized_.get());
    dst_ = memory(pd.dst_desc(), engine_, accumulators_.get());
    scratchpad_ = memory(pd.scratchpad_desc(), engine_);
  }

  // ONNX DynamicQuantizeLinear: the range [min(x, 0), max(x, 0)] onto 0..255.
  std::int32_t quantize(std::span<const float> x) {
    float low = 0.0f, high = 0.0f;
    float poison = 0.0f;  // NaN when any value is NaN or infinite (inf * 0 is NaN)
    for (float value : x) {
      low = std::min(low, value);
      high = std::max(high, value);
      poison += value * 0.0f;
    }
    EP_CHECK(!std::isnan(poison), "{}: input holds a non-finite value; it must be finite", label_);
    const float spread = (high - low) / 255.0f;
    scale_ = spread == 0.0f ? 1.0f : spread;
    const std::int32_t zero_point =
        static_cast<std::int32_t>(std::clamp(std::nearbyint(-low / scale_), 0.0f, 255.0f));
    std::uint8_t* out = quantized_.get();
    const float zero = static_cast<float>(zero_point);
    for (std::size_t i = 0; i < x.size(); ++i) {
      out[i] =
          static_cast<std::uint8_t>(std::clamp(std::nearbyint(x[i] / scale_) + zero, 0.0f, 255.0f));
    }
    return zero_point;
  }

  // y = float(acc - z * sum_k w[k, n]) * (x_scale * w_scale[n]) + bias[n], then Relu.
  void finish(std::int32_t zero_point, float* y) const {
    const std::int32_t* acc = accumulators_.get();
    for (std::int64_t m = 0; m < rows_; ++m) {
      for (std::int64_t n = 0; n < columns_; ++n) {
        const auto column = static_cast<std::size_t>(n);
        const auto at = static_cast<std::size_t>(m * columns_ + n);
        const auto exact =
            static_cast<std::int32_t>(static_cast<std::uint32_t>(acc[at]) -
                                      static_cast<std::uint32_t>(zero_point) *
                                          static_cast<std::uint32_t>(column_sums_[column]));
        float value = static_cast<float>(exact) * (scale_ * weight_scales_[column]);
        if (has_bias_) value += bias_[column];
        y[at] = relu_ ? std::max(value, 0.0f) : value;
      }
    }
  }

  std::string label_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  std::int64_t rows_, depth_, columns_;
  bool relu_;
  bool has_bias_ = false;
  float scale_ = 1.0f;
  std::vector<std::int32_t> column_sums_;
  std::vector<float> weight_scales_;
  std::vector<float> bias_;
  dnnl::primitive primitive_;
  memory packed_weights_, src_, dst_, scratchpad_;
  AlignedArray<std::uint8_t> quantized_;
  AlignedArray<std::int32_t> accumulators_;
};

}  // namespace

std::vector<Step> lower_dynamic_matmuls(const LoweringInput& input, std::vector<bool>& taken) {
  std::vector<Step> steps;
  const Matcher matcher(input);
  for (std::size_t index = 0; index < input.nodes.size(); ++index) {
    if (taken[index]) continue;
    const std::optional<DynamicMatMul> pattern = matcher.match(index);
    // Where oneDNN's products would saturate, the reference MatMulInteger runs it exactly.
    if (!pattern || !int8_products_exact(*pattern->weights)) continue;
    bool free = true;
    for (std::size_t i = pattern->first; i < pattern->last; ++i) free = free && !taken[i];
    if (!free) continue;
    Step step;
    step.label = fmt::format("dynamic int8 matmul '{}' ({}x{}x{}{})", input.nodes[index].node->name,
                             pattern->input_desc.shape[0], pattern->weights->dim(0),
                             pattern->weights->dim(1), pattern->relu ? ", relu" : "");
    try {
      step.kernel = std::make_unique<DynamicMatMulKernel>(*pattern, step.label);
    } catch (const dnnl::error&) {
      continue;  // no oneDNN primitive: the reference backend runs these nodes
    }
    step.inputs = {pattern->input};
    step.input_descs = {pattern->input_desc};
    step.outputs = {pattern->output};
    step.output_descs = {pattern->output_desc};
    for (std::size_t i = pattern->first; i < pattern->last; ++i) {
      step.nodes.push_back(i);
      taken[i] = true;
    }
    step.backend = "onednn";
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace edgeperf::runtime::onednn
