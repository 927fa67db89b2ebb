// Builds the models of the quantized-speed benchmark (bench/peers/quant_speed.py):
//   quant_models static NAME OUT_DIR [--calib N]  zoo model NAME -> NAME_fp32.onnx and
//       NAME_qdq.onnx, static INT8 in the QDQ layout ONNX Runtime's quantizer writes
//       (per-channel symmetric s8 weights, asymmetric u8 activations from min/max
//       over N seeded random inputs, int32 biases, Relu/Clip folded into Q ranges).
//   quant_models mlp NAME OUT_DIR W0,W1,...  an MLP -> NAME_fp32.onnx and
//       NAME_dynamic.onnx in ORT's dynamic layout (DynamicQuantizeLinear ->
//       MatMulInteger -> Cast -> Mul(scale) -> Add(bias)).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/core/error.h"
#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/runtime/session.h"
#include "edgeperf/zoo/zoo.h"

namespace edgeperf {
namespace {

using graph::AttrValue;
using graph::Dim;
using graph::GraphBuilder;
using graph::Node;

struct Range {
  float min = 0.0f;
  float max = 0.0f;
};

struct Affine {
  float scale;
  std::uint8_t zero_point;
};

// u8 asymmetric: the range always contains 0 so that 0 is exact.
Affine affine_u8(Range range) {
  const float low = std::min(range.min, 0.0f);
  const float high = std::max(range.max, 0.0f);
  const float scale = high > low ? (high - low) / 255.0f : 1.0f;
  const float zero = std::round(-low / scale);
  return {scale, static_cast<std::uint8_t>(std::clamp(zero, 0.0f, 255.0f))};
}

const Tensor& initializer(const graph::Graph& graph, const std::string& name) {
  auto found = graph.initializers.find(name);
  EP_CHECK(found != graph.initializers.end(), "quant_models: '{}' is not an initializer", name);
  return found->second;
}

std::vector<float> floats(const Tensor& tensor) {
  auto values = tensor.values<float>();
  return {values.begin(), values.end()};
}

// Conv + BatchNormalization -> Conv with folded weights; everything else copied.
graph::Graph fold_batch_norms(const graph::Graph& graph) {
  graph::Graph folded = graph;
  folded.nodes.clear();
  std::map<std::string, std::string> renamed;
  auto name_of = [&](const std::string& value) {
    auto found = renamed.find(value);
    return found == renamed.end() ? value : found->second;
  };
  for (const Node& node : graph.nodes) {
    Node copy = node;
    for (std::string& input : copy.inputs) input = name_of(input);
    if (node.op_type == "BatchNormalization" && !folded.nodes.empty() &&
        folded.nodes.back().op_type == "Conv" && folded.nodes.back().outputs[0] == copy.inputs[0]) {
      Node& conv = folded.nodes.back();
      std::vector<float> weights = floats(initializer(folded, conv.inputs[1]));
      const auto channels = static_cast<std::size_t>(initializer(folded, conv.inputs[1]).dim(0));
      std::vector<float> bias(channels, 0.0f);
      if (conv.inputs.size() > 2) bias = floats(initializer(folded, conv.inputs[2]));
      const std::vector<float> scale = floats(initializer(graph, node.inputs[1]));
      const std::vector<float> shift = floats(initializer(graph, node.inputs[2]));
      const std::vector<float> mean = floats(initializer(graph, node.inputs[3]));
      const std::vector<float> variance = floats(initializer(graph, node.inputs[4]));
      const float epsilon = node.attr_float("epsilon", 1e-5f);
      const std::size_t per_channel = weights.size() / channels;
      for (std::size_t c = 0; c < channels; ++c) {
        const float factor = scale[c] / std::sqrt(variance[c] + epsilon);
        for (std::size_t i = 0; i < per_channel; ++i) weights[c * per_channel + i] *= factor;
        bias[c] = (bias[c] - mean[c]) * factor + shift[c];
      }
      const Shape weight_shape = initializer(folded, conv.inputs[1]).shape();
      const std::string weight_name = conv.inputs[1] + ".folded";
      const std::string bias_name = conv.outputs[0] + ".folded_bias";
      folded.initializers[weight_name] = make_tensor<float>(weight_shape, weights);
      folded.initializers[bias_name] =
          make_tensor<float>({static_cast<std::int64_t>(channels)}, bias);
      conv.inputs.resize(3);
      conv.inputs[1] = weight_name;
      conv.inputs[2] = bias_name;
      renamed[node.outputs[0]] = conv.outputs[0];
      continue;
    }
    folded.nodes.push_back(std::move(copy));
  }
  for (graph::ValueInfo& output : folded.outputs) output.name = name_of(output.name);
  return folded;
}

// Min/max of every node output over `samples` seeded random inputs.
std::map<std::string, Range> calibrate(const graph::Graph& graph, int samples) {
  graph::Graph observed = graph;
  std::set<std::string> outputs;
  for (const graph::ValueInfo& output : graph.outputs) outputs.insert(output.name);
  for (const Node& node : graph.nodes) {
    if (outputs.insert(node.outputs[0]).second) {
      observed.outputs.push_back(graph::ValueInfo{node.outputs[0], DType::f32, {}, false});
    }
  }
  runtime::Session session(observed);
  std::map<std::string, Range> ranges;
  for (int sample = 0; sample < samples; ++sample) {
    auto feeds = runtime::random_inputs(session, static_cast<std::uint64_t>(100 + sample));
    std::map<std::string, Tensor> values = session.run(feeds);
    values.insert(feeds.begin(), feeds.end());
    for (const auto& [name, tensor] : values) {
      if (tensor.dtype() != DType::f32) continue;
      auto span = tensor.values<float>();
      const auto [low, high] = std::minmax_element(span.begin(), span.end());
      Range& range = ranges[name];
      if (sample == 0 && range.min == 0.0f && range.max == 0.0f) range = {*low, *high};
      range.min = std::min(range.min, *low);
      range.max = std::max(range.max, *high);
    }
  }
  return ranges;
}

class QdqWriter {
 public:
  QdqWriter(const graph::Graph& fp32, std::map<std::string, Range> ranges)
      : fp32_(fp32), ranges_(std::move(ranges)), builder_(fp32.name + "_qdq", fp32.opset) {}

  graph::Graph write() {
    for (const graph::ValueInfo& input : fp32_.inputs) {
      builder_.input(input.name, input.dtype, input.dims);
      quantize_value(input.name, input.name);
    }
    std::map<std::string, std::size_t> consumer_count;
    for (const Node& node : fp32_.nodes) {
      for (const std::string& input : node.inputs) ++consumer_count[input];
    }
    for (std::size_t i = 0; i < fp32_.nodes.size(); ++i) {
      const Node& node = fp32_.nodes[i];
      if (skipped_.count(i)) continue;
      std::string produced = node.outputs[0];
      // A Relu/Clip right after the op folds into the output's quantized range.
      if (i + 1 < fp32_.nodes.size() && consumer_count[produced] == 1 &&
          (fp32_.nodes[i + 1].op_type == "Relu" || fp32_.nodes[i + 1].op_type == "Clip") &&
          fp32_.nodes[i + 1].inputs[0] == produced &&
          (node.op_type == "Conv" || node.op_type == "Gemm")) {
        skipped_.insert(i + 1);
        produced = fp32_.nodes[i + 1].outputs[0];
      }
      const std::string raw = emit(node);
      quantize_value(produced, raw);
    }
    for (const graph::ValueInfo& output : fp32_.outputs) {
      builder_.output(dequantized_.at(output.name), output.dtype, output.dims);
    }
    return builder_.build();
  }

 private:
  // Q -> DQ of the f32 value `raw` (named `name` in the fp32 graph) with its range.
  void quantize_value(const std::string& name, const std::string& raw) {
    const Affine affine = affine_u8(ranges_.at(name));
    const std::string scale =
        builder_.initializer(name + "_scale", make_tensor<float>({}, {affine.scale}));
    const std::string zero = builder_.initializer(
        name + "_zero_point", make_tensor<std::uint8_t>({}, {affine.zero_point}));
    const std::string q = builder_.node("QuantizeLinear", {raw, scale, zero}, {}, name + "_q");
    dequantized_[name] = builder_.node("DequantizeLinear", {q, scale, zero}, {}, name + "_dq");
    affine_[name] = affine;
  }

  // Per-channel symmetric s8 weights along axis 0, and the int32 bias.
  std::pair<std::string, std::string> quantize_weights(const Node& node) {
    const Tensor& weights = initializer(fp32_, node.inputs[1]);
    const std::vector<float> values = floats(weights);
    const auto channels = static_cast<std::size_t>(weights.dim(0));
    const std::size_t per_channel = values.size() / channels;
    Tensor q(DType::i8, weights.shape());
    std::vector<float> scales(channels);
    for (std::size_t c = 0; c < channels; ++c) {
      float max_abs = 0.0f;
      for (std::size_t i = 0; i < per_channel; ++i) {
        max_abs = std::max(max_abs, std::fabs(values[c * per_channel + i]));
      }
      scales[c] = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
      for (std::size_t i = 0; i < per_channel; ++i) {
        q.values<std::int8_t>()[c * per_channel + i] = static_cast<std::int8_t>(
            std::clamp(std::round(values[c * per_channel + i] / scales[c]), -127.0f, 127.0f));
      }
    }
    const auto count = static_cast<std::int64_t>(channels);
    const std::map<std::string, AttrValue> axis0 = {{"axis", std::int64_t{0}}};
    const std::string weight_q = builder_.initializer(node.inputs[1] + "_quantized", q);
    const std::string weight_scale =
        builder_.initializer(node.inputs[1] + "_scale", make_tensor<float>({count}, scales));
    const std::string weight_zero = builder_.initializer(
        node.inputs[1] + "_zero_point",
        make_tensor<std::int8_t>({count}, std::vector<std::int8_t>(channels, 0)));
    const std::string weight = builder_.node(
        "DequantizeLinear", {weight_q, weight_scale, weight_zero}, axis0, node.inputs[1] + "_dq");
    if (node.inputs.size() < 3 || node.inputs[2].empty()) return {weight, ""};
    const std::vector<float> bias = floats(initializer(fp32_, node.inputs[2]));
    const float input_scale = affine_.at(node.inputs[0]).scale;
    Tensor bias_q(DType::i32, {count});
    std::vector<float> bias_scales(channels);
    for (std::size_t c = 0; c < channels; ++c) {
      bias_scales[c] = input_scale * scales[c];
      bias_q.values<std::int32_t>()[c] =
          static_cast<std::int32_t>(std::round(bias[c] / bias_scales[c]));
    }
    const std::string bias_name = builder_.initializer(node.inputs[2] + "_quantized", bias_q);
    const std::string bias_scale =
        builder_.initializer(node.inputs[2] + "_scale", make_tensor<float>({count}, bias_scales));
    const std::string bias_zero = builder_.initializer(
        node.inputs[2] + "_zero_point",
        make_tensor<std::int32_t>({count}, std::vector<std::int32_t>(channels, 0)));
    return {weight, builder_.node("DequantizeLinear", {bias_name, bias_scale, bias_zero}, axis0,
                                  node.inputs[2] + "_dq")};
  }

  // The node on dequantized inputs; returns its f32 output.
  std::string emit(const Node& node) {
    std::vector<std::string> inputs;
    if (node.op_type == "Conv" || node.op_type == "Gemm") {
      EP_CHECK(node.op_type == "Conv" || node.attr_int("transB", 0) == 1,
               "quant_models: Gemm '{}' needs transB=1", node.name);
      const auto [weight, bias] = quantize_weights(node);
      inputs = {dequantized_.at(node.inputs[0]), weight};
      if (!bias.empty()) inputs.push_back(bias);
    } else if (node.op_type == "Add" || node.op_type == "GlobalAveragePool" ||
               node.op_type == "Flatten" || node.op_type == "MaxPool" ||
               node.op_type == "AveragePool") {
      for (const std::string& input : node.inputs) inputs.push_back(dequantized_.at(input));
    } else {
      fail("quant_models: op {} ('{}') is not handled", node.op_type, node.name);
    }
    return builder_.node(node.op_type, inputs, node.attrs, node.name);
  }

  const graph::Graph& fp32_;
  std::map<std::string, Range> ranges_;
  GraphBuilder builder_;
  std::map<std::string, std::string> dequantized_;
  std::map<std::string, Affine> affine_;
  std::set<std::size_t> skipped_;
};

int write_static(const std::string& name, const std::filesystem::path& dir, int samples) {
  const graph::Graph fp32 = zoo::build_zoo_model(name);
  onnx_io::save_model(fp32, dir / (name + "_fp32.onnx"));
  const graph::Graph folded = fold_batch_norms(fp32);
  const graph::Graph qdq = QdqWriter(folded, calibrate(folded, samples)).write();
  onnx_io::save_model(qdq, dir / (name + "_qdq.onnx"));
  std::printf("wrote %s and %s\n", (dir / (name + "_fp32.onnx")).c_str(),
              (dir / (name + "_qdq.onnx")).c_str());
  return 0;
}

std::vector<std::int64_t> parse_widths(const std::string& text) {
  std::vector<std::int64_t> widths;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    widths.push_back(std::stoll(text.substr(start, end - start)));
    start = end + 1;
  }
  EP_CHECK(widths.size() >= 2, "quant_models: need at least two widths, got '{}'", text);
  return widths;
}

// FP32 MLP (MatMul + Add + Relu) and its dynamic INT8 form, same random weights.
int write_mlp(const std::string& name, const std::filesystem::path& dir, const std::string& spec) {
  const std::vector<std::int64_t> widths = parse_widths(spec);
  GraphBuilder fp32(name + "_fp32");
  GraphBuilder dynamic(name + "_dynamic");
  const std::vector<Dim> input_dims = {Dim::fixed(1), Dim::fixed(widths[0])};
  std::string x = fp32.input("x", DType::f32, input_dims);
  std::string y = dynamic.input("x", DType::f32, input_dims);
  for (std::size_t layer = 0; layer + 1 < widths.size(); ++layer) {
    const std::int64_t k = widths[layer];
    const std::int64_t n = widths[layer + 1];
    const double bound = std::sqrt(6.0 / static_cast<double>(k));
    const Tensor weights = random_tensor(DType::f32, {k, n}, 7 + layer, -bound, bound);
    const Tensor bias = random_tensor(DType::f32, {n}, 70 + layer, -0.1, 0.1);
    const bool last = layer + 2 == widths.size();
    x = fp32.node("Add", {fp32.node("MatMul", {x, fp32.initializer("w", weights)}),
                          fp32.initializer("b", bias)});
    if (!last) x = fp32.node("Relu", {x});

    float max_abs = 0.0f;
    for (float value : weights.values<float>()) max_abs = std::max(max_abs, std::fabs(value));
    const float weight_scale = max_abs / 127.0f;
    Tensor q(DType::i8, {k, n});
    for (std::int64_t i = 0; i < k * n; ++i) {
      q.values<std::int8_t>()[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(std::clamp(
          std::round(weights.values<float>()[static_cast<std::size_t>(i)] / weight_scale), -127.0f,
          127.0f));
    }
    const std::vector<std::string> quantized = dynamic.node_multi("DynamicQuantizeLinear", {y}, 3);
    const std::string product = dynamic.node(
        "MatMulInteger", {quantized[0], dynamic.initializer("w_quantized", q), quantized[2],
                          dynamic.initializer("w_zero_point", make_tensor<std::int8_t>({}, {0}))});
    const std::string as_float = dynamic.node("Cast", {product}, {{"to", std::int64_t{1}}});
    const std::string scale = dynamic.node(
        "Mul",
        {quantized[1], dynamic.initializer("w_scale", make_tensor<float>({}, {weight_scale}))});
    y = dynamic.node("Add",
                     {dynamic.node("Mul", {as_float, scale}), dynamic.initializer("b", bias)});
    if (!last) y = dynamic.node("Relu", {y});
  }
  const std::vector<Dim> output_dims = {Dim::fixed(1), Dim::fixed(widths.back())};
  fp32.output(x, DType::f32, output_dims);
  dynamic.output(y, DType::f32, output_dims);
  onnx_io::save_model(fp32.build(), dir / (name + "_fp32.onnx"));
  onnx_io::save_model(dynamic.build(), dir / (name + "_dynamic.onnx"));
  std::printf("wrote %s_fp32.onnx and %s_dynamic.onnx in %s\n", name.c_str(), name.c_str(),
              dir.c_str());
  return 0;
}

int run(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 3 && args[0] == "static") {
    int samples = 8;
    if (args.size() == 5 && args[3] == "--calib") samples = std::stoi(args[4]);
    return write_static(args[1], args[2], samples);
  }
  if (args.size() == 4 && args[0] == "mlp") return write_mlp(args[1], args[2], args[3]);
  std::fprintf(stderr,
               "usage: quant_models static NAME OUT_DIR [--calib N] | "
               "quant_models mlp NAME OUT_DIR W0,W1,...\n");
  return 2;
}

}  // namespace
}  // namespace edgeperf

int main(int argc, char** argv) {
  try {
    return edgeperf::run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "quant_models: %s\n", error.what());
    return 1;
  }
}
