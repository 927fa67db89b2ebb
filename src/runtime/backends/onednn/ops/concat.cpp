// f32 Concat. The parts keep the layout of the first one (blocked, channels-last or
// plain) when every part can be written in it, so a DenseNet or Inception block needs no
// reorder around its Concat; the copy is ours (memcpy of contiguous chunks). A Concat read
// only by a BatchNormalization (and a ReLU), DenseNet's pre-activation, applies them while
// it copies: the concatenated tensor itself is never written.
#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "../channel_affine.h"
#include "../concat_chunks.h"
#include "../memory_descs.h"
#include "edgeperf/graph/ops/batch_norm.h"
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

// Concat along the channels with y = act(x * scale[c] + shift[c]) applied on the way, as
// tasks of channel rows (channel_affine.h) that threads share.
class ConcatAffine {
 public:
  // Rows of one part: offsets in floats into the part and the output.
  struct Task {
    std::size_t part;
    std::int64_t channel;  // of the first lane, in the output
    std::int64_t x_offset, x_stride, y_offset, y_stride, pixels, lanes;
  };

  ConcatAffine(std::vector<Task> tasks, std::vector<float> scale, std::vector<float> shift,
               bool relu, float slope, int threads)
      : tasks_(std::move(tasks)),
        scale_(std::move(scale)),
        shift_(std::move(shift)),
        relu_(relu),
        slope_(slope),
        threads_(threads) {}

  void operator()(const ArgMap& args) const {
    auto* out = static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle());
    std::vector<const float*> sources;
    for (int p = 0; args.count(DNNL_ARG_MULTIPLE_SRC + p) > 0; ++p) {
      sources.push_back(
          static_cast<const float*>(args.at(DNNL_ARG_MULTIPLE_SRC + p).get_data_handle()));
    }
    const auto count = static_cast<std::int64_t>(tasks_.size());
    const int threads = run_threads(threads_);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && count > 1)
    for (std::int64_t t = 0; t < count; ++t) {
      const Task& task = tasks_[static_cast<std::size_t>(t)];
      const auto c = static_cast<std::size_t>(task.channel);
      channel_affine({scale_.data() + c, shift_.data() + c, relu_, slope_},
                     {sources[task.part] + task.x_offset, task.x_stride, out + task.y_offset,
                      task.y_stride, task.pixels, task.lanes});
    }
  }

 private:
  std::vector<Task> tasks_;
  std::vector<float> scale_, shift_;
  bool relu_;
  float slope_;
  int threads_;
};

// The tasks of a channel Concat of parts [N, C_i, pixels...] in `tag`: one per channel
// block of each part in a blocked (16 or 8 lanes) or plain (1 lane) layout, one per part
// and run of pixels when channels-last. None for another layout.
std::vector<ConcatAffine::Task> concat_affine_tasks(const std::vector<TensorDesc>& parts,
                                                    const Shape& y,
                                                    std::optional<memory::format_tag> tag) {
  const std::int64_t batch = y[0], channels = y[1];
  std::int64_t pixels = 1;
  for (std::size_t d = 2; d < y.size(); ++d) pixels *= y[d];
  std::vector<ConcatAffine::Task> tasks;
  // With one pixel ([N, C] values), plain is channels-last too: a row per part, not a
  // task per element.
  const bool channels_last = tag ? *tag == memory::format_tag::acdb : pixels == 1;
  if (channels_last) {
    constexpr std::int64_t kPixelsPerTask = 256;
    for (std::int64_t n = 0; n < batch; ++n) {
      for (std::int64_t p0 = 0; p0 < pixels; p0 += kPixelsPerTask) {
        std::int64_t channel = 0;
        for (std::size_t part = 0; part < parts.size(); ++part) {
          const std::int64_t c = parts[part].shape[1];
          tasks.push_back({part, channel, (n * pixels + p0) * c, c,
                           (n * pixels + p0) * channels + channel, channels,
                           std::min(kPixelsPerTask, pixels - p0), c});
          channel += c;
        }
      }
    }
    return tasks;
  }
  std::int64_t lanes = 1;
  if (tag && *tag == memory::format_tag::aBcd16b) lanes = 16;
  if (tag && *tag == memory::format_tag::aBcd8b) lanes = 8;
  if (tag && lanes == 1) return {};
  for (std::int64_t n = 0; n < batch; ++n) {
    std::int64_t channel = 0;
    for (std::size_t part = 0; part < parts.size(); ++part) {
      const std::int64_t c = parts[part].shape[1];
      for (std::int64_t b = 0; b < c / lanes; ++b) {
        tasks.push_back({part, channel + b * lanes, (n * c + b * lanes) * pixels, lanes,
                         (n * channels + channel + b * lanes) * pixels, lanes, pixels, lanes});
      }
      channel += c;
    }
  }
  return tasks;
}

// The Concat and the BatchNormalization (+ ReLU) that alone reads it, as one pass; false
// (nothing added) when the Concat is not followed so or is not along plain or blocked
// channels.
bool lower_concat_batch_norm(RegionContext& context, std::size_t index, std::int64_t axis,
                             std::optional<memory::format_tag> tag) {
  const PlannedNode& node = context.planned(index);
  const Shape& y = node.outputs[0].shape;
  if (axis != 1 || y.size() < 2) return false;
  std::vector<ConcatAffine::Task> tasks = concat_affine_tasks(node.inputs, y, tag);
  if (tasks.empty()) return false;
  const std::vector<ChainLink> links = context.collect_chain(index, true, false);
  if (links.empty() || !links[0].fold_batch_norm) return false;
  const std::optional<BatchNormSpec> spec = parse_batch_norm(context.planned(links[0].node));
  if (!spec) return false;
  std::size_t count = 1;
  bool relu = false;
  float slope = 0.0f;
  if (links.size() > 1 && links[1].eltwise.size() == 1 &&
      links[1].eltwise[0].algorithm == dnnl::algorithm::eltwise_relu) {
    relu = true;
    slope = links[1].eltwise[0].alpha;
    count = 2;
  }
  const auto params = graph::ops::BatchNormParams::from_tensors(
      *spec->scale, *spec->shift, *spec->mean, *spec->variance, spec->epsilon);
  if (params.channels() != y[1]) return false;
  auto layout = [&](const Shape& shape) {
    return tag ? memory::desc(shape, memory::data_type::f32, *tag) : plain_desc(shape);
  };
  OpArgs args;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    args.emplace_back(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i),
                      context.use_as(node.node->inputs[i], layout(node.inputs[i].shape)));
  }
  context.claim_links(links, count);
  args.emplace_back(DNNL_ARG_DST, context.define_new(links[count - 1].output, layout(y)));
  context.add_compute_op(
      {}, std::move(args), memory::desc(),
      ConcatAffine(std::move(tasks), std::vector<float>(params.scale.begin(), params.scale.end()),
                   std::vector<float>(params.shift.begin(), params.shift.end()), relu, slope,
                   context.input().threads));
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
