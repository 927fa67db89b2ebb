// f32 Concat. The parts keep the layout of the first one (blocked, channels-last or
// plain) when every part can be written in it, so a DenseNet or Inception block needs no
// reorder around its Concat; the copy is ours (memcpy of contiguous chunks). A Concat read
// only by a BatchNormalization (and a ReLU), DenseNet's pre-activation, applies them while
// it copies: the concatenated tensor itself is never written.
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "../concat_affine.h"
#include "../concat_chunks.h"
#include "../memory_descs.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

// The layout for the parts and the output: the first part's 4-D layout when it can hold
// every part without padding inside the output, else plain.
std::optional<memory::format_tag> shared_layout(const RegionContext& context,
                                                const PlannedNode& node, int axis) {
  const std::optional<memory::format_tag> tag =
      activation_layout(context.value(node.node->inputs[0]).md);
  if (!tag) return std::nullopt;
  const memory::desc sample(node.outputs[0].shape, memory::data_type::f32, *tag);
  const std::int64_t block = block_along(sample, axis);
  for (const TensorDesc& part : node.inputs) {
    if (part.shape[static_cast<std::size_t>(axis)] % block != 0) return std::nullopt;
  }
  return tag;
}

// The Concat and the BatchNormalization (+ ReLU) that alone reads it, as one pass; false
// (nothing added) when the Concat is not followed so or is not along plain or blocked
// channels.
bool lower_concat_batch_norm(RegionContext& context, std::size_t index, std::int64_t axis,
                             std::optional<memory::format_tag> tag) {
  const PlannedNode& node = context.planned(index);
  const Shape& y = node.outputs[0].shape;
  if (axis != 1 || y.size() < 2) return false;
  std::vector<ConcatAffineTask> tasks = concat_affine_tasks(node.inputs, y, tag);
  if (tasks.empty()) return false;
  std::optional<ConcatBatchNorm> chain = concat_batch_norm(context, index);
  if (!chain) return false;
  auto layout = [&](const Shape& shape) {
    return tag ? memory::desc(shape, memory::data_type::f32, *tag) : plain_desc(shape);
  };
  OpArgs args;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    args.emplace_back(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i),
                      context.use_as(node.node->inputs[i], layout(node.inputs[i].shape)));
  }
  context.claim_links(chain->links, chain->count);
  args.emplace_back(DNNL_ARG_DST, context.define_new(chain->output(), layout(y)));
  context.add_compute_op(
      {}, std::move(args), memory::desc(),
      ConcatAffine<float>(std::move(tasks), std::move(chain->scale), std::move(chain->shift),
                          {chain->relu, chain->slope, 0}, {}, context.input().threads));
  return true;
}

OpArgs part_args(RegionContext& context, const PlannedNode& node,
                 const std::vector<memory::desc>& parts) {
  OpArgs args;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    args.emplace_back(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i),
                      context.use_as(node.node->inputs[i], parts[i]));
  }
  return args;
}

// The output in the buffer some parts were computed into (RegionContext::concat_in_place):
// the others are copied there, and with none left the Concat costs nothing.
bool lower_in_place(RegionContext& context, std::size_t index, const memory::desc& dst,
                    const std::vector<memory::desc>& parts,
                    const std::vector<RowMajorView>& views) {
  const std::optional<RegionContext::InPlaceConcat> in_place = context.concat_in_place(index, dst);
  if (!in_place) return false;
  const PlannedNode& node = context.planned(index);
  // A part lies in the buffer only in the layout of `dst` (concat_slice checks it).
  const bool all =
      std::all_of(in_place->parts.begin(), in_place->parts.end(), [](bool part) { return part; });
  OpArgs args = all ? OpArgs{} : part_args(context, node, parts);
  const int output = context.define_value(context.output_of(index), in_place->storage, dst);
  if (all) {
    context.flush_exports();
    return true;
  }
  args.emplace_back(DNNL_ARG_DST, output);
  std::vector<ConcatPartCopy> copies;
  for (std::size_t i = 0; i < views.size(); ++i) {
    copies.push_back(ConcatPartCopy{views[i], static_cast<bool>(in_place->parts[i]), {}});
  }
  context.add_compute_op({}, std::move(args), memory::desc(),
                         ChunkCopy(std::move(copies), sizeof(float), context.input().threads));
  return true;
}

}  // namespace

bool match_concat(const MatchView& view, std::size_t index) {
  const PlannedNode& node = view.planned(index);
  const graph::Node& graph_node = *node.node;
  if (graph_node.op_type != "Concat" || !graph_node.domain.empty() || node.outputs.size() != 1 ||
      node.inputs.empty() || node.inputs.size() > 64) {
    return false;
  }
  const Shape& y = node.outputs[0].shape;
  if (y.empty() || y.size() > 6 || node.outputs[0].dtype != DType::f32) return false;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const TensorDesc& part = node.inputs[i];
    const bool computed = i >= node.constants.size() || node.constants[i] == nullptr;
    if (!computed || !graph_node.has_input(i) || part.dtype != DType::f32 ||
        part.shape.size() != y.size() || part.numel() == 0) {
      return false;
    }
  }
  return true;
}

bool lower_concat(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const std::optional<std::int64_t> found_axis = parse_concat_axis(node);
  if (!found_axis) return false;
  const std::int64_t axis = *found_axis;
  const std::optional<memory::format_tag> tag =
      shared_layout(context, node, static_cast<int>(axis));
  if (lower_concat_batch_norm(context, index, axis, tag)) return true;
  auto layout = [&](const Shape& shape) {
    return tag ? memory::desc(shape, memory::data_type::f32, *tag) : plain_desc(shape);
  };
  std::vector<memory::desc> parts;
  std::vector<RowMajorView> views;
  for (const TensorDesc& part : node.inputs) {
    parts.push_back(layout(part.shape));
    if (auto view = row_major_view(part.shape, static_cast<int>(axis), tag)) views.push_back(*view);
  }
  const memory::desc dst = layout(node.outputs[0].shape);
  if (views.size() == parts.size()) {
    if (lower_in_place(context, index, dst, parts, views)) return true;
    OpArgs args = part_args(context, node, parts);
    args.emplace_back(DNNL_ARG_DST, context.define_new(context.output_of(index), dst));
    // oneDNN's concat for these layouts (simple:any) copies at a fraction of memcpy's speed.
    std::vector<ConcatPartCopy> copies;
    for (const RowMajorView& view : views) copies.push_back(ConcatPartCopy{view, false, {}});
    context.add_compute_op({}, std::move(args), memory::desc(),
                           ChunkCopy(std::move(copies), sizeof(float), context.input().threads));
    return true;
  }
  OpArgs args = part_args(context, node, parts);
  args.emplace_back(DNNL_ARG_DST, context.define_new(context.output_of(index), dst));
  dnnl::concat::primitive_desc pd(dst, static_cast<int>(axis), parts, context.engine(),
                                  context.base_attr());
  context.add_compute_op(dnnl::concat(pd), std::move(args), pd.scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
