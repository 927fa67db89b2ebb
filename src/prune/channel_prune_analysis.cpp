// Channel dependency analysis: which channels of which values are tied together, which
// groups must be kept whole, and which initializers and attributes follow each group.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <optional>

#include "channel_prune_internal.h"
#include "edgeperf/core/error.h"

namespace edgeperf::prune::channel_detail {

std::int64_t Layout::channels() const {
  std::int64_t total = 0;
  for (const Segment& segment : segments) total += segment.channels;
  return total;
}

int GroupSet::add(std::int64_t channels) {
  parent_.push_back(static_cast<int>(parent_.size()));
  groups_.push_back(ChannelGroup{channels, {}, {}});
  return parent_.back();
}

int GroupSet::find(int group) const {
  while (parent_[static_cast<std::size_t>(group)] != group) {
    group = parent_[static_cast<std::size_t>(group)];
  }
  return group;
}

void GroupSet::unite(int a, int b, const std::string& reason_if_mismatched) {
  const int root_a = find(a);
  const int root_b = find(b);
  if (root_a == root_b) return;
  ChannelGroup& first = groups_[static_cast<std::size_t>(root_a)];
  ChannelGroup& second = groups_[static_cast<std::size_t>(root_b)];
  if (first.channels != second.channels) {
    keep(root_a, reason_if_mismatched);
    keep(root_b, reason_if_mismatched);
    return;
  }
  first.producers.insert(first.producers.end(), second.producers.begin(), second.producers.end());
  if (first.kept_reason.empty()) first.kept_reason = second.kept_reason;
  parent_[static_cast<std::size_t>(root_b)] = root_a;
}

void GroupSet::keep(int group, const std::string& reason) {
  ChannelGroup& root = groups_[static_cast<std::size_t>(find(group))];
  if (root.kept_reason.empty()) root.kept_reason = reason;
}

void GroupSet::add_producer(int group, std::size_t node) {
  groups_[static_cast<std::size_t>(find(group))].producers.push_back(node);
}

std::vector<int> GroupSet::roots() const {
  std::vector<int> result;
  for (std::size_t i = 0; i < parent_.size(); ++i) {
    if (parent_[i] == static_cast<int>(i)) result.push_back(static_cast<int>(i));
  }
  return result;
}

namespace {

using graph::Node;

bool is_channel_preserving(const std::string& op) {
  static const std::set<std::string> kOps = {
      "Abs",          "AveragePool",   "Ceil",        "Celu",      "Clip",     "Dropout",
      "Elu",          "Erf",           "Exp",         "Floor",     "Gelu",     "GlobalAveragePool",
      "GlobalLpPool", "GlobalMaxPool", "HardSigmoid", "HardSwish", "Identity", "LeakyRelu",
      "Log",          "LpPool",        "MaxPool",     "Mish",      "Neg",      "Reciprocal",
      "Relu",         "Round",         "Selu",        "Sigmoid",   "Sign",     "Softplus",
      "Softsign",     "Sqrt",          "Tanh"};
  return kOps.count(op) != 0;
}

bool is_elementwise(const std::string& op) {
  static const std::set<std::string> kOps = {"Add", "Sub", "Mul",  "Div",  "Max",
                                             "Min", "Sum", "Mean", "PRelu"};
  return kOps.count(op) != 0;
}

bool same_structure(const Layout& a, const Layout& b) {
  if (a.inner != b.inner || a.segments.size() != b.segments.size()) return false;
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].channels != b.segments[i].channels) return false;
  }
  return true;
}

std::int64_t product_from(const Shape& shape, std::size_t first) {
  std::int64_t result = 1;
  for (std::size_t i = first; i < shape.size(); ++i) result *= shape[i];
  return result;
}

class Analyzer {
 public:
  Analyzer(const graph::Graph& graph, const ValueDescs& descs, const std::set<std::string>& exclude)
      : graph_(graph), descs_(descs), exclude_(exclude) {}

  Analysis run() {
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) visit(i);
    for (const graph::ValueInfo& output : graph_.outputs) {
      if (const Layout* layout = layout_of(output.name)) {
        keep_layout(*layout, fmt::format("feeds graph output '{}'", output.name));
      }
    }
    analysis_.layouts = std::move(layouts_);
    return std::move(analysis_);
  }

 private:
  void visit(std::size_t index) {
    const std::string& op = graph_.nodes[index].op_type;
    if (!graph_.nodes[index].domain.empty()) return visit_unknown(index);
    if (op == "Conv") return visit_conv(index);
    if (op == "Gemm") return visit_gemm(index);
    if (op == "MatMul") return visit_matmul(index);
    if (op == "BatchNormalization") return visit_batch_norm(index);
    if (is_channel_preserving(op)) return visit_channel_preserving(index);
    if (is_elementwise(op)) return visit_elementwise(index);
    if (op == "Concat") return visit_concat(index);
    if (op == "Flatten") return visit_flatten(index);
    if (op == "Reshape") return visit_reshape(index);
    visit_unknown(index);
  }

  // --- helpers -------------------------------------------------------------------------

  const Node& node(std::size_t index) const { return graph_.nodes[index]; }

  const Layout* layout_of(const std::string& value) const {
    auto found = layouts_.find(value);
    return found == layouts_.end() ? nullptr : &found->second;
  }

  const Tensor* constant(const std::string& value) const {
    auto found = graph_.initializers.find(value);
    return found == graph_.initializers.end() ? nullptr : &found->second;
  }

  const Shape* shape_of(const std::string& value) const {
    auto found = descs_.find(value);
    return found == descs_.end() ? nullptr : &found->second.shape;
  }

  std::string consumed_by(std::size_t index) const {
    return fmt::format("consumed by {}", node(index).label());
  }

  void keep_layout(const Layout& layout, const std::string& reason) {
    for (const Segment& segment : layout.segments) analysis_.groups.keep(segment.group, reason);
  }

  void keep_inputs(std::size_t index, const std::string& reason) {
    for (const std::string& input : node(index).inputs) {
      if (const Layout* layout = layout_of(input)) keep_layout(*layout, reason);
    }
  }

  Layout single(int group, std::int64_t channels) const {
    return Layout{{Segment{group, channels}}, 1};
  }

  Layout fixed_layout(std::int64_t channels, const std::string& reason) {
    const int group = analysis_.groups.add(channels);
    analysis_.groups.keep(group, reason);
    return single(group, channels);
  }

  // The value's layout, or a kept group of its channel count (axis 1) when it has none.
  std::optional<Layout> layout_or_fixed(const std::string& value) {
    if (const Layout* layout = layout_of(value)) return *layout;
    const Shape* shape = shape_of(value);
    if (shape == nullptr || shape->size() < 2) return std::nullopt;
    return fixed_layout((*shape)[1], fmt::format("meets '{}', whose channels are fixed", value));
  }

  void add_edit(EditKind kind, std::size_t index, std::size_t input, std::int64_t axis,
                const Layout& layout) {
    analysis_.edits.push_back(Edit{kind, index, input, axis, layout});
  }

  // An optional bias/parameter input: absent, or a constant. Returns false when it is
  // computed at run time (then it cannot be sliced).
  bool constant_or_absent(std::size_t index, std::size_t input) const {
    return !node(index).has_input(input) || constant(node(index).inputs[input]) != nullptr;
  }

  // A new group for the output channels of a Conv/Gemm, prunable unless excluded or its
  // bias is computed at run time.
  int producer_group(std::size_t index, std::int64_t channels, bool params_sliceable) {
    const int group = analysis_.groups.add(channels);
    analysis_.groups.add_producer(group, index);
    if (exclude_.count(node(index).name) != 0) {
      analysis_.groups.keep(group, fmt::format("{} is excluded", node(index).label()));
    } else if (!params_sliceable) {
      analysis_.groups.keep(
          group, fmt::format("{} has weights computed at run time", node(index).label()));
    }
    return group;
  }

  // --- ops -----------------------------------------------------------------------------

  void visit_unknown(std::size_t index) { keep_inputs(index, consumed_by(index)); }

  void visit_conv(std::size_t index) {
    const Node& conv = node(index);
    const Tensor* weight = constant(conv.inputs.at(1));
    if (weight == nullptr || weight->rank() < 3) return visit_unknown(index);
    const std::int64_t groups = conv.attr_int("group", 1);
    const std::int64_t out_channels = weight->dim(0);
    const std::int64_t in_per_group = weight->dim(1);
    const bool bias_ok = constant_or_absent(index, 2);
    const Layout* input = layout_of(conv.inputs[0]);
    if (groups == 1) {
      if (input != nullptr) {
        if (input->inner == 1 && input->channels() == in_per_group) {
          add_edit(EditKind::slice, index, 1, 1, *input);
        } else {
          keep_layout(*input, consumed_by(index));
        }
      }
      const int group = producer_group(index, out_channels, bias_ok);
      const Layout output = single(group, out_channels);
      add_edit(EditKind::slice, index, 1, 0, output);
      if (conv.has_input(2)) add_edit(EditKind::slice, index, 2, 0, output);
      layouts_[conv.outputs[0]] = output;
      return;
    }
    const bool depthwise = in_per_group == 1 && out_channels == groups;
    const bool excluded = exclude_.count(conv.name) != 0;
    if (depthwise && input != nullptr && input->inner == 1 && input->channels() == groups &&
        bias_ok && !excluded) {
      add_edit(EditKind::slice, index, 1, 0, *input);
      if (conv.has_input(2)) add_edit(EditKind::slice, index, 2, 0, *input);
      add_edit(EditKind::group_attr, index, 0, 0, *input);
      layouts_[conv.outputs[0]] = *input;
      return;
    }
    const std::string reason =
        excluded ? fmt::format("{} is excluded", conv.label())
                 : fmt::format("{} is a grouped conv whose channels cannot follow", conv.label());
    if (input != nullptr) keep_layout(*input, reason);
    layouts_[conv.outputs[0]] = fixed_layout(out_channels, reason);
  }

  // Gemm bias C: absent, a scalar, [N] or [1, N]. Returns the axis to slice, -1 for none,
  // nullopt when it cannot follow the output channels.
  std::optional<std::int64_t> gemm_bias_axis(std::size_t index, std::int64_t out_features) const {
    if (!node(index).has_input(2)) return -1;
    const Tensor* bias = constant(node(index).inputs[2]);
    if (bias == nullptr) return std::nullopt;
    if (bias->numel() == 1) return -1;
    if (bias->rank() == 1 && bias->dim(0) == out_features) return 0;
    if (bias->rank() == 2 && bias->dim(0) == 1 && bias->dim(1) == out_features) return 1;
    return std::nullopt;
  }

  void visit_gemm(std::size_t index) {
    const Node& gemm = node(index);
    const Tensor* weight = constant(gemm.inputs.at(1));
    if (weight == nullptr || weight->rank() != 2 || gemm.attr_int("transA", 0) != 0) {
      return visit_unknown(index);
    }
    const bool trans_b = gemm.attr_int("transB", 0) != 0;
    const std::int64_t in_features = weight->dim(trans_b ? 1 : 0);
    const std::int64_t out_features = weight->dim(trans_b ? 0 : 1);
    if (const Layout* input = layout_of(gemm.inputs[0])) {
      if (input->channels() * input->inner == in_features) {
        add_edit(EditKind::slice, index, 1, trans_b ? 1 : 0, *input);
      } else {
        keep_layout(*input, consumed_by(index));
      }
    }
    const std::optional<std::int64_t> bias_axis = gemm_bias_axis(index, out_features);
    const int group = producer_group(index, out_features, bias_axis.has_value());
    const Layout output = single(group, out_features);
    add_edit(EditKind::slice, index, 1, trans_b ? 0 : 1, output);
    if (bias_axis.value_or(-1) >= 0) add_edit(EditKind::slice, index, 2, *bias_axis, output);
    layouts_[gemm.outputs[0]] = output;
  }

  // MatMul by a constant [K, N] matrix consumes channels (its rows); its outputs are kept.
  void visit_matmul(std::size_t index) {
    const Node& matmul = node(index);
    const Layout* input = layout_of(matmul.inputs.at(0));
    const Tensor* weight = constant(matmul.inputs.at(1));
    const Shape* input_shape = shape_of(matmul.inputs[0]);
    if (input == nullptr) return visit_unknown(index);
    if (weight == nullptr || weight->rank() != 2 || input_shape == nullptr ||
        input_shape->size() != 2 || input->channels() * input->inner != weight->dim(0)) {
      return visit_unknown(index);
    }
    add_edit(EditKind::slice, index, 1, 0, *input);
  }

  void visit_batch_norm(std::size_t index) {
    const Node& bn = node(index);
    const Layout* input = layout_of(bn.inputs.at(0));
    if (input == nullptr) return;
    bool sliceable = input->inner == 1 && bn.outputs.size() == 1;
    for (std::size_t i = 1; i < bn.inputs.size() && sliceable; ++i) {
      const Tensor* param = constant(bn.inputs[i]);
      sliceable = param != nullptr && param->rank() == 1 && param->dim(0) == input->channels();
    }
    if (sliceable) {
      for (std::size_t i = 1; i < bn.inputs.size(); ++i) {
        add_edit(EditKind::slice, index, i, 0, *input);
      }
    } else {
      keep_layout(*input, consumed_by(index));
    }
    layouts_[bn.outputs[0]] = *input;
  }

  // Activations and pools: output 0 has the input's channels. Extra inputs (Clip bounds)
  // must be scalars; extra outputs (MaxPool indices, Dropout mask) are not followed.
  void visit_channel_preserving(std::size_t index) {
    const Node& op = node(index);
    const Layout* input = op.inputs.empty() ? nullptr : layout_of(op.inputs[0]);
    if (input == nullptr) return visit_unknown(index);
    bool follows = true;
    for (std::size_t i = 1; i < op.inputs.size(); ++i) {
      const Shape* extra = op.has_input(i) ? shape_of(op.inputs[i]) : nullptr;
      if (op.has_input(i) && (extra == nullptr || element_count(*extra) != 1)) follows = false;
    }
    for (std::size_t i = 1; i < op.outputs.size(); ++i) follows = follows && op.outputs[i].empty();
    const bool pools = op.op_type.find("Pool") != std::string::npos;
    if (pools && input->inner != 1) follows = false;
    if (!follows) keep_layout(*input, consumed_by(index));
    layouts_[op.outputs[0]] = *input;
  }

  // Element-wise ops tie the channels of their feature-map operands into one group;
  // constant operands broadcast over the channels or are sliced with them.
  void visit_elementwise(std::size_t index) {
    const Node& op = node(index);
    const Shape* output_shape = shape_of(op.outputs.at(0));
    if (output_shape == nullptr || output_shape->size() < 2) return visit_unknown(index);
    const auto rank = static_cast<std::int64_t>(output_shape->size());
    const std::int64_t width = (*output_shape)[1];
    std::vector<Layout> operands;
    bool any_layout = false;
    bool follows = true;
    for (const std::string& input : op.inputs) {
      if (input.empty() || constant(input) != nullptr) continue;
      const Shape* shape = shape_of(input);
      const std::int64_t axis =
          shape == nullptr ? -1 : 1 - (rank - static_cast<std::int64_t>(shape->size()));
      if (shape != nullptr && width != 1 && (axis < 0 || (*shape)[axis] == 1)) {
        // Broadcast over the channels (a scalar from a Constant node): ties no channels.
        if (const Layout* layout = layout_of(input)) keep_layout(*layout, consumed_by(index));
        continue;
      }
      if (shape == nullptr || axis != 1 || (*shape)[1] != width) {
        if (const Layout* layout = layout_of(input)) keep_layout(*layout, consumed_by(index));
        follows = false;
        continue;
      }
      any_layout = any_layout || layout_of(input) != nullptr;
      if (std::optional<Layout> layout = layout_or_fixed(input)) operands.push_back(*layout);
    }
    if (!any_layout) return visit_unknown(index);
    for (std::size_t i = 1; i < operands.size() && follows; ++i) {
      follows = same_structure(operands[0], operands[i]);
    }
    if (follows) {
      for (std::size_t i = 1; i < operands.size(); ++i) {
        for (std::size_t s = 0; s < operands[0].segments.size(); ++s) {
          analysis_.groups.unite(operands[0].segments[s].group, operands[i].segments[s].group,
                                 consumed_by(index));
        }
      }
      follows = record_constant_operands(index, rank, operands[0]);
    }
    if (!follows) {
      for (const Layout& layout : operands) keep_layout(layout, consumed_by(index));
    }
    layouts_[op.outputs[0]] = operands[0];
  }

  // Slices the constant operands that carry one value per channel; false when one has a
  // channel extent that matches neither 1 nor the channel axis.
  bool record_constant_operands(std::size_t index, std::int64_t rank, const Layout& layout) {
    const Node& op = node(index);
    for (std::size_t i = 0; i < op.inputs.size(); ++i) {
      const Tensor* value = op.has_input(i) ? constant(op.inputs[i]) : nullptr;
      if (value == nullptr) continue;
      const std::int64_t axis = 1 - (rank - value->rank());
      if (axis < 0 || value->dim(axis) == 1) continue;
      if (value->dim(axis) != layout.channels() * layout.inner) return false;
      add_edit(EditKind::slice, index, i, axis, layout);
    }
    return true;
  }

  void visit_concat(std::size_t index) {
    const Node& concat = node(index);
    const Shape* output_shape = shape_of(concat.outputs.at(0));
    bool any_layout = false;
    for (const std::string& input : concat.inputs) any_layout = any_layout || layout_of(input);
    if (!any_layout) return;
    if (output_shape == nullptr || output_shape->size() < 2) return visit_unknown(index);
    std::int64_t axis = concat.attr_int("axis");
    if (axis < 0) axis += static_cast<std::int64_t>(output_shape->size());
    std::vector<Layout> operands;
    for (const std::string& input : concat.inputs) {
      std::optional<Layout> layout = layout_or_fixed(input);
      if (!layout) return visit_unknown(index);
      operands.push_back(*layout);
    }
    bool follows = true;
    Layout output = operands[0];
    if (axis == 1) {
      output.segments.clear();
      for (const Layout& layout : operands) {
        follows = follows && layout.inner == operands[0].inner;
        output.segments.insert(output.segments.end(), layout.segments.begin(),
                               layout.segments.end());
      }
    } else {
      for (std::size_t i = 1; i < operands.size() && follows; ++i) {
        follows = same_structure(operands[0], operands[i]);
      }
      for (std::size_t i = 1; i < operands.size() && follows; ++i) {
        for (std::size_t s = 0; s < operands[0].segments.size(); ++s) {
          analysis_.groups.unite(operands[0].segments[s].group, operands[i].segments[s].group,
                                 consumed_by(index));
        }
      }
    }
    if (!follows) {
      for (const Layout& layout : operands) keep_layout(layout, consumed_by(index));
      return;
    }
    layouts_[concat.outputs[0]] = output;
  }

  void visit_flatten(std::size_t index) {
    const Node& flatten = node(index);
    const Layout* input = layout_of(flatten.inputs.at(0));
    const Shape* input_shape = shape_of(flatten.inputs[0]);
    if (input == nullptr) return;
    std::int64_t axis = flatten.attr_int("axis", 1);
    if (input_shape != nullptr && axis < 0) axis += static_cast<std::int64_t>(input_shape->size());
    if (input_shape == nullptr || axis != 1) return visit_unknown(index);
    layouts_[flatten.outputs[0]] =
        Layout{input->segments, input->inner * product_from(*input_shape, 2)};
  }

  // Reshape of [N, C, ...] to [N, C * ...] (a flatten); its target shape is rewritten.
  void visit_reshape(std::size_t index) {
    const Node& reshape = node(index);
    const Layout* input = layout_of(reshape.inputs.at(0));
    if (input == nullptr) return;
    const Shape* input_shape = shape_of(reshape.inputs[0]);
    const Shape* output_shape = shape_of(reshape.outputs.at(0));
    const Tensor* target = constant(reshape.inputs.at(1));
    if (input_shape == nullptr || output_shape == nullptr || target == nullptr ||
        target->dtype() != DType::i64 || target->numel() != 2 || output_shape->size() != 2 ||
        input_shape->size() < 2 || (*output_shape)[0] != (*input_shape)[0]) {
      return visit_unknown(index);
    }
    const std::int64_t leading = target->data<std::int64_t>()[0];
    if (leading != 0 && leading != -1 && leading != (*input_shape)[0]) {
      return visit_unknown(index);
    }
    const Layout output{input->segments, input->inner * product_from(*input_shape, 2)};
    if (target->data<std::int64_t>()[1] != -1) {
      add_edit(EditKind::reshape_dim, index, 1, 0, output);
    }
    layouts_[reshape.outputs[0]] = output;
  }

  const graph::Graph& graph_;
  const ValueDescs& descs_;
  const std::set<std::string>& exclude_;
  std::map<std::string, Layout> layouts_;
  Analysis analysis_;
};

}  // namespace

Analysis analyze_channels(const graph::Graph& graph, const ValueDescs& descs,
                          const std::set<std::string>& exclude) {
  return Analyzer(graph, descs, exclude).run();
}

}  // namespace edgeperf::prune::channel_detail
