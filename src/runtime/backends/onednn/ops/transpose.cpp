// f32 Transpose as one reorder: the input's memory, whatever its layout, described in
// the output's axis order, copied into the plain output.
#include <vector>

#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

// perm from the attribute (reversed axes by default); empty when malformed.
std::vector<int> permutation(const PlannedNode& node) {
  const auto rank = static_cast<std::int64_t>(node.inputs[0].shape.size());
  std::vector<std::int64_t> perm = node.node->attr_ints("perm");
  if (perm.empty()) {
    for (std::int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  if (static_cast<std::int64_t>(perm.size()) != rank) return {};
  std::vector<int> result;
  std::vector<bool> seen(static_cast<std::size_t>(rank));
  for (std::int64_t axis : perm) {
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank || seen[static_cast<std::size_t>(axis)]) return {};
    seen[static_cast<std::size_t>(axis)] = true;
    result.push_back(static_cast<int>(axis));
  }
  return result;
}

}  // namespace

bool match_transpose(const MatchView& view, std::size_t index) {
  const PlannedNode& node = view.planned(index);
  const graph::Node& graph_node = *node.node;
  if (graph_node.op_type != "Transpose" || !graph_node.domain.empty() || node.inputs.size() != 1 ||
      node.outputs.size() != 1 || node.inputs[0].dtype != DType::f32 ||
      node.outputs[0].dtype != DType::f32 || node.outputs[0].numel() == 0 ||
      (!node.constants.empty() && node.constants[0] != nullptr)) {
    return false;
  }
  const std::size_t rank = node.inputs[0].shape.size();
  return rank >= 1 && rank <= 6 && !permutation(node).empty();
}

bool lower_transpose(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const std::vector<int> perm = permutation(node);
  // permute_axes puts axis i at position p[i]; output axis j is input axis perm[j].
  std::vector<int> inverse(perm.size());
  for (std::size_t j = 0; j < perm.size(); ++j)
    inverse[static_cast<std::size_t>(perm[j])] = static_cast<int>(j);
  const std::string& x = node.node->inputs[0];
  const Value& value = context.value(x);
  const dnnl::memory::desc source = value.md.permute_axes(inverse);
  const dnnl::memory::desc target = plain_desc(node.outputs[0].shape);
  dnnl::reorder::primitive_desc pd(context.engine(), source, context.engine(), target,
                                   context.base_attr());
  const int from = context.activation_slot(value.storage, source);
  const int to = context.define_new(context.output_of(index), target);
  context.add_compute_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
                         pd.scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
