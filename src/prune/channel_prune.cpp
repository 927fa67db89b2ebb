// Structured channel pruning: picks the channels each group keeps and applies the edits
// the dependency analysis recorded (see channel_prune_analysis.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "channel_prune_internal.h"
#include "edgeperf/core/error.h"
#include "edgeperf/graph/editor.h"
#include "edgeperf/prune/channel.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::prune {
namespace {

using channel_detail::Analysis;
using channel_detail::ChannelGroup;
using channel_detail::Edit;
using channel_detail::EditKind;
using channel_detail::Layout;
using channel_detail::ValueDescs;

// Kept channel indices (sorted) of every group root.
using Masks = std::map<int, std::vector<std::int64_t>>;

void check_options(const graph::Graph& model, const ChannelPruneOptions& options) {
  EP_CHECK(std::isfinite(options.ratio) && options.ratio >= 0.0 && options.ratio < 1.0,
           "channel pruning: ratio {} is outside [0, 1)", options.ratio);
  EP_CHECK(options.channel_multiple >= 1 && options.channel_multiple <= 1024,
           "channel pruning: channel multiple {} is outside [1, 1024]", options.channel_multiple);
  for (const std::string& name : options.exclude) {
    const bool known = std::any_of(model.nodes.begin(), model.nodes.end(),
                                   [&](const graph::Node& node) { return node.name == name; });
    EP_CHECK(known, "channel pruning: excluded node '{}' is not in model '{}'", name, model.name);
  }
}

ValueDescs infer_value_descs(const graph::Graph& graph,
                             const std::map<std::string, Shape>& input_shapes) {
  runtime::SessionOptions options;
  options.input_shapes = input_shapes;
  options.backend = runtime::BackendKind::reference;
  options.threads = 1;
  return with_error_context("channel pruning: shape inference",
                            [&] { return runtime::Session(graph, options).value_descs(); });
}

// The norm of each output channel's filter: Conv weight rows, Gemm weight rows (transB=1)
// or columns (transB=0).
std::vector<double> filter_norms(const graph::Graph& graph, const graph::Node& node,
                                 ChannelNorm norm) {
  const Tensor& weight = graph.initializers.at(node.inputs.at(1));
  const bool by_column = node.op_type == "Gemm" && node.attr_int("transB", 0) == 0;
  const std::int64_t channels = weight.dim(by_column ? 1 : 0);
  const std::int64_t per_channel = weight.numel() / channels;
  const std::vector<double> values = weight.to_doubles();
  std::vector<double> norms(static_cast<std::size_t>(channels), 0.0);
  for (std::int64_t i = 0; i < weight.numel(); ++i) {
    const std::int64_t channel = by_column ? i % channels : i / per_channel;
    const double value = values[static_cast<std::size_t>(i)];
    norms[static_cast<std::size_t>(channel)] +=
        norm == ChannelNorm::l1 ? std::abs(value) : value * value;
  }
  if (norm == ChannelNorm::l2) {
    for (double& value : norms) value = std::sqrt(value);
  }
  return norms;
}

// A group's channel importance: the sum of its producers' filter norms.
std::vector<double> group_scores(const graph::Graph& graph, const ChannelGroup& group,
                                 ChannelNorm norm) {
  std::vector<double> scores(static_cast<std::size_t>(group.channels), 0.0);
  for (std::size_t producer : group.producers) {
    const std::vector<double> norms = filter_norms(graph, graph.nodes[producer], norm);
    for (std::size_t c = 0; c < scores.size(); ++c) scores[c] += norms[c];
  }
  return scores;
}

std::string producer_names(const graph::Graph& graph, const ChannelGroup& group) {
  std::string names;
  for (std::size_t i = 0; i < group.producers.size(); ++i) {
    if (i == 3) return names + fmt::format(" and {} more", group.producers.size() - 3);
    names += (i ? ", " : "") + graph.nodes[group.producers[i]].label();
  }
  return names;
}

// Lowest-score channels go first; ties keep the lower index.
std::vector<std::int64_t> kept_channels(const std::vector<double>& scores,
                                        std::int64_t remove_count) {
  std::vector<std::int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return scores[static_cast<std::size_t>(a)] < scores[static_cast<std::size_t>(b)];
  });
  std::vector<std::int64_t> kept(order.begin() + remove_count, order.end());
  std::sort(kept.begin(), kept.end());
  return kept;
}

std::int64_t rounded_keep_count(std::int64_t keep, std::int64_t channels,
                                const ChannelPruneOptions& options) {
  const std::int64_t multiple = options.channel_multiple;
  if (multiple <= 1 || channels < multiple) return keep;
  const std::int64_t rounded = (keep + multiple / 2) / multiple * multiple;
  return std::clamp(rounded, multiple, channels);
}

// Chooses every group's kept channels and logs one line per group of Conv/Gemm outputs.
// Returns how many groups are prunable.
int choose_masks(const graph::Graph& graph, const Analysis& analysis,
                 const ChannelPruneOptions& options, Masks& masks, std::vector<std::string>& log) {
  int prunable = 0;
  for (int root : analysis.groups.roots()) {
    const ChannelGroup& group = analysis.groups.root(root);
    std::vector<std::int64_t>& kept = masks[root];
    kept.resize(static_cast<std::size_t>(group.channels));
    std::iota(kept.begin(), kept.end(), 0);
    if (group.producers.empty() || group.channels == 0) continue;
    const std::string names = producer_names(graph, group);
    if (!group.kept_reason.empty()) {
      log.push_back(
          fmt::format("kept {}: {} channels ({})", names, group.channels, group.kept_reason));
      continue;
    }
    ++prunable;
    const auto remove_count = static_cast<std::int64_t>(
        std::llround(options.ratio * static_cast<double>(group.channels)));
    EP_CHECK(remove_count < group.channels,
             "channel pruning: ratio {} would remove all {} output channels of {}", options.ratio,
             group.channels, names);
    const std::int64_t keep_count =
        rounded_keep_count(group.channels - remove_count, group.channels, options);
    kept = kept_channels(group_scores(graph, group, options.norm), group.channels - keep_count);
    log.push_back(fmt::format("pruned {}: {} -> {} channels", names, group.channels, kept.size()));
  }
  return prunable;
}

// Element indices along a value's channel axis that survive, in order.
std::vector<std::int64_t> kept_indices(const Layout& layout, const Analysis& analysis,
                                       const Masks& masks) {
  std::vector<std::int64_t> indices;
  std::int64_t offset = 0;
  for (const channel_detail::Segment& segment : layout.segments) {
    for (std::int64_t channel : masks.at(analysis.groups.find(segment.group))) {
      for (std::int64_t j = 0; j < layout.inner; ++j) {
        indices.push_back((offset + channel) * layout.inner + j);
      }
    }
    offset += segment.channels;
  }
  return indices;
}

Tensor slice_axis(const Tensor& tensor, std::int64_t axis, const std::vector<std::int64_t>& keep) {
  Shape shape = tensor.shape();
  const auto axis_index = static_cast<std::size_t>(axis);
  const std::int64_t extent = shape[axis_index];
  std::int64_t outer = 1;
  for (std::size_t i = 0; i < axis_index; ++i) outer *= shape[i];
  const std::size_t block =
      static_cast<std::size_t>(tensor.numel() / std::max<std::int64_t>(1, outer * extent)) *
      dtype_size(tensor.dtype());
  shape[axis_index] = static_cast<std::int64_t>(keep.size());
  Tensor result(tensor.dtype(), shape);
  const auto* source = static_cast<const std::byte*>(tensor.raw());
  auto* target = static_cast<std::byte*>(result.raw());
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t index : keep) {
      std::memcpy(target, source + static_cast<std::size_t>(o * extent + index) * block, block);
      target += block;
    }
  }
  return result;
}

// Applies edits to a copy of the graph. An initializer shared with other nodes is copied
// under a new name before it changes, so the other nodes keep the original.
class Surgery {
 public:
  Surgery(graph::Graph& graph, const Analysis& analysis, const Masks& masks)
      : graph_(graph), analysis_(analysis), masks_(masks), names_(graph) {
    for (const graph::Node& node : graph.nodes) {
      for (const std::string& input : node.inputs) ++uses_[input];
    }
  }

  void apply(const Edit& edit) {
    const std::vector<std::int64_t> keep = kept_indices(edit.layout, analysis_, masks_);
    const std::int64_t width = edit.layout.channels() * edit.layout.inner;
    if (static_cast<std::int64_t>(keep.size()) == width) return;
    graph::Node& node = graph_.nodes[edit.node];
    switch (edit.kind) {
      case EditKind::group_attr:
        node.attrs["group"] = static_cast<std::int64_t>(keep.size());
        return;
      case EditKind::reshape_dim: {
        Tensor target = initializer(node, edit.input).clone();
        target.data<std::int64_t>()[1] = static_cast<std::int64_t>(keep.size());
        replace_initializer(node, edit.input, std::move(target));
        return;
      }
      case EditKind::slice: {
        const Tensor& current = initializer(node, edit.input);
        EP_CHECK(edit.axis < current.rank() && current.dim(edit.axis) == width,
                 "channel pruning: {} input '{}' has shape {}, expected {} along axis {}",
                 node.label(), node.inputs[edit.input], shape_to_string(current.shape()), width,
                 edit.axis);
        replace_initializer(node, edit.input, slice_axis(current, edit.axis, keep));
        return;
      }
    }
  }

 private:
  const Tensor& initializer(const graph::Node& node, std::size_t input) const {
    return graph_.initializers.at(node.inputs.at(input));
  }

  void replace_initializer(graph::Node& node, std::size_t input, Tensor value) {
    std::string& name = node.inputs[input];
    if (uses_[name] > 1) {
      --uses_[name];
      const std::string fresh = names_.take(name + "_pruned", "");
      uses_[fresh] = 1;
      name = fresh;
    }
    graph_.initializers[name] = std::move(value);
  }

  graph::Graph& graph_;
  const Analysis& analysis_;
  const Masks& masks_;
  std::map<std::string, int> uses_;
  graph::FreshNames names_;
};

// Shape hints of values whose channel count changed are stale: drop them.
void drop_stale_value_info(graph::Graph& graph, const Analysis& analysis, const Masks& masks) {
  std::erase_if(graph.value_info, [&](const graph::ValueInfo& info) {
    auto layout = analysis.layouts.find(info.name);
    if (layout == analysis.layouts.end()) return false;
    const auto kept =
        static_cast<std::int64_t>(kept_indices(layout->second, analysis, masks).size());
    return kept != layout->second.channels() * layout->second.inner;
  });
}

}  // namespace

ChannelPruneResult prune_channels(const graph::Graph& model, const ChannelPruneOptions& options) {
  check_options(model, options);
  ChannelPruneResult result{model, {}};
  graph::Graph& graph = result.model;
  graph::validate(graph);
  const ValueDescs descs = infer_value_descs(graph, options.input_shapes);
  const Analysis analysis = channel_detail::analyze_channels(graph, descs, options.exclude);
  Masks masks;
  const int prunable = choose_masks(graph, analysis, options, masks, result.log);
  EP_CHECK(prunable > 0, "channel pruning: model '{}' has no prunable Conv/Gemm layer{}",
           model.name, result.log.empty() ? "" : " (" + result.log.front() + ")");
  Surgery surgery(graph, analysis, masks);
  for (const Edit& edit : analysis.edits) surgery.apply(edit);
  drop_stale_value_info(graph, analysis, masks);
  graph::validate(graph);
  return result;
}

}  // namespace edgeperf::prune
