#include "edgeperf/runtime/model_stats.h"

namespace edgeperf::runtime {

namespace {

// Each output element accumulates (C_in / group) * kernel window products.
std::int64_t conv_macs(std::int64_t output_elements, const Shape& weight) {
  if (weight.size() < 3) return 0;
  std::int64_t per_output = 1;
  for (std::size_t i = 1; i < weight.size(); ++i) per_output *= weight[i];
  return output_elements * per_output;
}

// A (batched) matrix product: each output element accumulates K = a's last dim products.
std::int64_t matmul_macs(std::int64_t output_elements, const Shape& a) {
  return a.empty() ? 0 : output_elements * a.back();
}

}  // namespace

std::int64_t node_macs(const graph::Node& node, const std::vector<TensorDesc>& inputs,
                       const std::vector<TensorDesc>& outputs) {
  if (outputs.empty() || inputs.size() < 2) return 0;
  const std::int64_t output_elements = outputs[0].numel();
  const std::string& op = node.op_type;
  const bool microsoft = node.domain == "com.microsoft";
  if (node.domain.empty() || microsoft) {
    if (op == "Conv" || op == "ConvInteger") return conv_macs(output_elements, inputs[1].shape);
    if (op == "QLinearConv" && inputs.size() > 3) {
      return conv_macs(output_elements, inputs[3].shape);
    }
    if (op == "ConvTranspose" && inputs[1].shape.size() >= 3) {
      // Weights are [C_in, C_out / group, k...]: each input element feeds C_out/group * k outputs.
      std::int64_t per_input = 1;
      for (std::size_t i = 1; i < inputs[1].shape.size(); ++i) per_input *= inputs[1].shape[i];
      return inputs[0].numel() * per_input;
    }
    if (op == "Gemm") {
      const Shape& a = inputs[0].shape;
      if (a.size() != 2) return 0;
      return output_elements * (node.attr_int("transA", 0) ? a[0] : a[1]);
    }
    if (op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul") {
      return matmul_macs(output_elements, inputs[0].shape);
    }
    if (microsoft && op == "MatMulNBits") return output_elements * node.attr_int("K", 0);
  }
  return 0;
}

ModelStats model_stats(const Session& session) {
  ModelStats stats;
  const graph::Graph& graph = session.graph();
  for (const graph::Node& node : graph.nodes) ++stats.op_histogram[node.op_type];
  stats.parameters = graph.parameter_count();
  stats.weight_bytes = graph.weight_bytes();
  const auto& descs = session.value_descs();
  const auto desc_of = [&](const std::string& name) {
    if (name.empty()) return TensorDesc{DType::f32, {}, false};
    auto found = descs.find(name);
    return found == descs.end() ? TensorDesc{DType::f32, {}, false} : found->second;
  };
  for (const graph::Node& node : graph.nodes) {
    std::vector<TensorDesc> in, out;
    for (const std::string& name : node.inputs) in.push_back(desc_of(name));
    for (const std::string& name : node.outputs) out.push_back(desc_of(name));
    stats.macs += node_macs(node, in, out);
  }
  stats.memory = session.memory_plan();
  return stats;
}

}  // namespace edgeperf::runtime
