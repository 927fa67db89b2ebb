// Weight-only INT4 with one scale per group of `block` weights along K:
//  - MatMul/Gemm become com.microsoft MatMulNBits (ONNX Runtime's contrib op):
//    B packed uint8 [N, ceil(K/block), block/2], scales [N * ceil(K/block)], the
//    default zero point 8, so code = clamp(round(w / scale), -8, 7) + 8;
//  - Conv weights become edgeperf.DequantizeInt4(packed, scales): the codes of the whole
//    weight in row-major order, two per byte, no padding; f16 scales per group of a row
//    (rows = output channels, K = the rest); attribute `shape` = the weight's shape. Its
//    inputs are constants, so our runtime folds it at load time (docs/quantization.md).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "rewrite.h"

namespace edgeperf::quant::detail {
namespace {

struct PackedInt4 {
  Tensor packed;  // u8 [rows, blocks, block / 2]
  Tensor scales;  // f32 [rows * blocks]
};

// `rows` is [N, K] f32: each row is split into blocks of `block` along K.
PackedInt4 pack_int4(const Tensor& rows, std::int64_t block) {
  const std::int64_t n = rows.dim(0), k = rows.dim(1);
  const std::int64_t blocks = (k + block - 1) / block;
  PackedInt4 out{Tensor(DType::u8, {n, blocks, block / 2}), Tensor(DType::f32, {n * blocks})};
  const float* w = rows.data<float>();
  std::uint8_t* packed = out.packed.data<std::uint8_t>();
  float* scales = out.scales.data<float>();
  std::fill_n(packed, out.packed.numel(), std::uint8_t{0x88});  // padding decodes to 0
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t first = b * block, last = std::min(k, first + block);
      float max_abs = 0.0F;
      for (std::int64_t i = first; i < last; ++i)
        max_abs = std::max(max_abs, std::fabs(w[r * k + i]));
      const float scale = max_abs > 0.0F ? max_abs / 7.0F : 1.0F;  // all-zero block: any scale
      scales[r * blocks + b] = scale;
      for (std::int64_t i = first; i < last; ++i) {
        const float q = std::clamp(std::nearbyint(w[r * k + i] / scale), -8.0F, 7.0F);
        const auto code = static_cast<std::uint8_t>(static_cast<int>(q) + 8);
        std::uint8_t& byte = packed[(r * blocks + b) * (block / 2) + (i - first) / 2];
        byte = (i - first) % 2 == 0 ? static_cast<std::uint8_t>((byte & 0xF0) | code)
                                    : static_cast<std::uint8_t>((byte & 0x0F) | (code << 4));
      }
    }
  }
  return out;
}

// edgeperf.DequantizeInt4's layout: codes in row-major order without padding, f16 scales.
PackedInt4 pack_int4_dense(const Tensor& rows, std::int64_t block) {
  const std::int64_t n = rows.dim(0), k = rows.dim(1);
  const std::int64_t groups = (k + block - 1) / block;
  PackedInt4 out{Tensor(DType::u8, {(n * k + 1) / 2}), Tensor(DType::f16, {n * groups})};
  const float* w = rows.data<float>();
  std::uint8_t* packed = out.packed.data<std::uint8_t>();
  std::uint16_t* scales = out.scales.data<std::uint16_t>();
  for (std::int64_t r = 0; r < n; ++r) {
    for (std::int64_t g = 0; g < groups; ++g) {
      const std::int64_t first = r * k + g * block, last = r * k + std::min(k, (g + 1) * block);
      float max_abs = 0.0F;
      for (std::int64_t i = first; i < last; ++i) max_abs = std::max(max_abs, std::fabs(w[i]));
      scales[r * groups + g] = float_to_half(max_abs > 0.0F ? max_abs / 7.0F : 1.0F);
      const float scale = half_to_float(scales[r * groups + g]);
      for (std::int64_t i = first; i < last; ++i) {
        const float q = scale > 0.0F ? std::clamp(std::nearbyint(w[i] / scale), -8.0F, 7.0F) : 0.0F;
        const auto code = static_cast<std::uint8_t>(static_cast<int>(q) + 8);
        packed[i / 2] = i % 2 == 0
                            ? static_cast<std::uint8_t>((packed[i / 2] & 0xF0) | code)
                            : static_cast<std::uint8_t>((packed[i / 2] & 0x0F) | (code << 4));
      }
    }
  }
  return out;
}

class Int4Rewriter {
 public:
  Int4Rewriter(const graph::Graph& model, const QuantizeOptions& options, RewriteOutput& output)
      : model_(model),
        options_(options),
        output_(output),
        names_(model, graph::FreshNames::Scope::values_and_nodes) {}

  graph::Graph rewrite() {
    graph_ = model_;
    graph_.nodes.clear();
    graph_.value_info.clear();
    std::map<std::size_t, const WeightedNode*> by_index;
    const std::vector<WeightedNode> targets = weighted_nodes(model_, options_.exclude);
    for (const WeightedNode& target : targets) by_index[target.index] = &target;
    for (std::size_t i = 0; i < model_.nodes.size(); ++i) {
      const auto found = by_index.find(i);
      if (found == by_index.end()) {
        graph_.nodes.push_back(model_.nodes[i]);
      } else if (model_.nodes[i].op_type == "Conv") {
        rewrite_conv(*found->second);
      } else {
        rewrite_matmul(*found->second);
      }
    }
    remove_unused_initializers(graph_);
    return graph_;
  }

 private:
  std::string add_initializer(Tensor value) {
    const std::string name = names_.take_short();
    graph_.initializers[name] = std::move(value);
    return name;
  }

  void rewrite_matmul(const WeightedNode& target) {
    const graph::Node& node = model_.nodes[target.index];
    const Tensor& weight = model_.initializers.at(target.weight);
    const Tensor n_by_k = target.weight_is_k_by_n ? transpose_2d(weight) : weight;
    const std::int64_t block = options_.int4_group_size;
    PackedInt4 packed = pack_int4(n_by_k, block);
    const std::string id = node_id(node);
    const std::string b = add_initializer(std::move(packed.packed));
    const std::string scales = add_initializer(packed.scales);
    const std::string output = node.outputs[0];
    const std::string product = target.bias.empty() ? output : names_.take_short();
    graph::Node matmul =
        graph::make_node("MatMulNBits", node.name, {node.inputs[0], b, scales}, {product},
                         {{"K", n_by_k.dim(1)},
                          {"N", n_by_k.dim(0)},
                          {"bits", std::int64_t{4}},
                          {"block_size", block}});
    matmul.domain = "com.microsoft";
    graph_.nodes.push_back(std::move(matmul));
    if (!target.bias.empty()) {
      const std::string bias = add_initializer(as_vector(model_.initializers.at(target.bias)));
      graph_.nodes.push_back(graph::make_node("Add", "", {product, bias}, {output}));
    }
    record(node, "MatMulNBits");
  }

  void rewrite_conv(const WeightedNode& target) {
    graph::Node node = model_.nodes[target.index];
    const Tensor& weight = model_.initializers.at(target.weight);
    const std::int64_t rows = weight.dim(0);
    const Tensor n_by_k = weight.reshaped({rows, weight.numel() / rows});
    PackedInt4 packed = pack_int4_dense(n_by_k, options_.int4_group_size);
    const std::string b = add_initializer(std::move(packed.packed));
    const std::string scales = add_initializer(packed.scales);
    const std::string dequantized = names_.take_short();
    graph::Node dequantize = graph::make_node(
        "DequantizeInt4", "", {b, scales}, {dequantized},
        {{"block_size", std::int64_t{options_.int4_group_size}}, {"shape", weight.shape()}});
    dequantize.domain = "edgeperf";
    graph_.nodes.push_back(std::move(dequantize));
    node.inputs[1] = dequantized;
    record(node, "edgeperf.DequantizeInt4");
    graph_.nodes.push_back(std::move(node));
  }

  void record(const graph::Node& node, const char* via) {
    output_.compare_values[node_id(node)] = {node.outputs[0], node.outputs[0]};
    output_.log.push_back(fmt::format("stored {} weights as int4, groups of {} ({})", node.label(),
                                      options_.int4_group_size, via));
  }

  const graph::Graph& model_;
  const QuantizeOptions& options_;
  RewriteOutput& output_;
  graph::FreshNames names_;
  graph::Graph graph_;
};

}  // namespace

RewriteOutput rewrite_int4(const graph::Graph& model, const QuantizeOptions& options) {
  const int block = options.int4_group_size;
  EP_CHECK(block >= 16 && (block & (block - 1)) == 0,
           "int4 group size {} must be a power of two >= 16 (MatMulNBits block_size)", block);
  RewriteOutput output;
  output.model = Int4Rewriter(model, options, output).rewrite();
  add_weighted_layer_rows(model, options, "int4", fmt::format("weight-only, groups of {}", block),
                          output);
  return output;
}

}  // namespace edgeperf::quant::detail
