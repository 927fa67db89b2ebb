// Transpose: the input's memory, whatever its layout, described in the output's axis
// order. When that description is plain row-major or channels-last (a conv's NHWC output
// read as NHWC, a MatMul's rows read back as NCHW) the output is a view of the same
// bytes; otherwise one reorder copies it into the plain output. A dequantized input is
// transposed as its int8 values, and the output is again a dequantized alias.
#include <optional>
#include <vector>

#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

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

// `md` (the input's layout) described in the output's axis order.
memory::desc permuted(const PlannedNode& node, const memory::desc& md) {
  const std::vector<int> perm = permutation(node);
  // permute_axes puts axis i at position p[i]; output axis j is input axis perm[j].
  std::vector<int> inverse(perm.size());
  for (std::size_t j = 0; j < perm.size(); ++j)
    inverse[static_cast<std::size_t>(perm[j])] = static_cast<int>(j);
  return md.permute_axes(inverse);
}

std::optional<memory::format_tag> channels_last_tag(std::size_t rank) {
  switch (rank) {
    case 3:
      return memory::format_tag::acb;
    case 4:
      return memory::format_tag::acdb;
    case 5:
      return memory::format_tag::acdeb;
    default:
      return std::nullopt;
  }
}

// Layouts every op of the region reads as they are; others would only move the copy
// to the next op (or send it to a reference implementation).
bool is_view_layout(const memory::desc& md) {
  const memory::dims dims = md.dims();
  const memory::data_type type = type_of(md);
  if (md == plain_desc(dims, type)) return true;
  const std::optional<memory::format_tag> tag = channels_last_tag(dims.size());
  return tag && md == memory::desc(dims, type, *tag);
}

// Defines `name` as node `index`'s output computed from `source`: a view of its bytes,
// or one reorder into a plain buffer.
void define_transposed(RegionContext& context, std::size_t index, const std::string& name,
                       const Value& source) {
  const PlannedNode& node = context.planned(index);
  const memory::desc view = permuted(node, source.md);
  if (is_view_layout(view)) {
    context.define_value(name, source.storage, view);
    context.flush_exports();
    return;
  }
  const memory::desc target = plain_desc(node.outputs[0].shape, type_of(source.md));
  dnnl::reorder::primitive_desc pd(context.engine(), view, context.engine(), target,
                                   context.base_attr());
  const int from = context.activation_slot(source.storage, view);
  const int to = context.define_new(name, target);
  context.add_compute_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
                         pd.scratchpad_desc());
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
  const Value& input = context.value(context.planned(index).node->inputs[0]);
  define_transposed(context, index, context.output_of(index), input);
  return true;
}

bool match_int8_transpose(const MatchView& view, std::size_t index) {
  return view.reads_alias(index, 0) && match_transpose(view, index);
}

bool lower_int8_transpose(RegionContext& context, std::size_t index) {
  const QuantizedAlias input = *context.alias_of(context.planned(index).node->inputs[0]);
  const std::string transposed = context.output_of(index) + "#int8";
  define_transposed(context, index, transposed, context.value(input.source));
  context.define_alias(context.output_of(index), QuantizedAlias{transposed, input.quant});
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
