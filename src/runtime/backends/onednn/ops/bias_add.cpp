#include "bias_add.h"

namespace edgeperf::runtime::onednn::ops {

std::optional<BiasAdd> find_bias_add(const RegionContext& context, std::size_t index,
                                     std::int64_t n, std::size_t rank) {
  const std::string& output = context.output_of(index);
  const std::optional<std::size_t> add = context.sole_joining_reader(index, output);
  if (!add) return std::nullopt;
  const PlannedNode& node = context.planned(*add);
  const graph::Node& graph_node = *node.node;
  if (graph_node.op_type != "Add" || !graph_node.domain.empty() || node.inputs.size() != 2 ||
      node.outputs.size() != 1 ||
      node.outputs[0].shape != context.planned(index).outputs[0].shape) {
    return std::nullopt;
  }
  const std::size_t other = graph_node.inputs[0] == output ? 1 : 0;
  const Tensor* bias = other < node.constants.size() ? node.constants[other] : nullptr;
  if (bias == nullptr || bias->dtype() != DType::f32 || bias->numel() != n ||
      (bias->rank() > 0 && bias->shape().back() != n) ||
      static_cast<std::size_t>(bias->rank()) > node.outputs[0].shape.size() ||
      graph_node.inputs[1 - other] != output) {
    return std::nullopt;
  }
  Shape dims(rank, 1);
  dims.back() = n;
  return BiasAdd{*add, bias, dims};
}

}  // namespace edgeperf::runtime::onednn::ops
