// Concat -> Reshape [N, g, C/g, H, W] -> Transpose (0, 2, 1, 3, 4) -> Reshape [N, C, H, W]
// -> channel Slices (each maybe into a QuantizeLinear), ShuffleNet's unit boundary, as
// one op (channel_shuffle.h) on channels-last pixels instead of a reorder per node. The
// parts may be f32 or int8 (dequantized aliases, read as bytes); a slice whose sole
// reader is a QuantizeLinear is written as bytes. A reader of the shuffled tensor other
// than a Slice or QuantizeLinear gets the whole tensor in f32.
#include "../channel_shuffle.h"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "../memory_descs.h"
#include "../parted_ops.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

constexpr ActivationQuant kFloat{1.0f, 0, memory::data_type::f32};  // a value kept in f32

struct ShuffleTarget {
  std::string name;  // the value written
  std::int64_t first = 0, channels = 0;
  std::optional<ActivationQuant> quant;
  std::vector<std::size_t> nodes;  // claimed with the Concat
};

struct ShufflePattern {
  std::vector<std::size_t> chain;  // the Reshape, the Transpose and the Reshape
  std::int64_t groups = 0;
  std::vector<ShuffleTarget> targets;
};

// The node reading `value` when it is the only one and `value` is no graph output.
std::optional<std::size_t> sole_reader(const MatchView& view, const std::string& value) {
  const LoweringInput& input = view.input();
  const std::vector<std::size_t>& readers = input.consumers_of(value);
  if (readers.size() != 1 || input.is_graph_output(value)) return std::nullopt;
  return readers[0];
}

std::optional<ShuffleTarget> slice_target(const MatchView& view, std::size_t index,
                                          const Shape& shuffled) {
  const PlannedNode& slice = view.planned(index);
  const std::optional<Dims> offsets = parse_slice_offsets(slice);
  const Shape& shape = slice.outputs[0].shape;
  if (!offsets || shape.size() != shuffled.size()) return std::nullopt;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d != 1 && ((*offsets)[d] != 0 || shape[d] != shuffled[d])) return std::nullopt;
  }
  ShuffleTarget target{view.output_of(index), (*offsets)[1], shape[1], std::nullopt, {index}};
  if (const auto quantize = sole_reader(view, target.name)) {
    if (auto quant = parse_quantize(view.planned(*quantize))) {
      target.name = view.output_of(*quantize);
      target.quant = quant;
      target.nodes.push_back(*quantize);
    }
  }
  return target;
}

// The shuffle after Concat node `index`, with what reads it.
std::optional<ShufflePattern> find_shuffle(const MatchView& view, std::size_t index) {
  const PlannedNode& concat = view.planned(index);
  const Shape& shape = concat.outputs[0].shape;
  // What the f32 Concat takes (computed f32 parts, no constants), on channels.
  if (!match_concat(view, index) || shape.size() != 4 || parse_concat_axis(concat) != 1) {
    return std::nullopt;
  }
  ShufflePattern pattern;
  std::string value = view.output_of(index);
  for (const char* op : {"Reshape", "Transpose", "Reshape"}) {
    const std::optional<std::size_t> next = sole_reader(view, value);
    if (!next || view.planned(*next).node->op_type != op) return std::nullopt;
    pattern.chain.push_back(*next);
    value = view.output_of(*next);
  }
  const Shape& grouped = view.planned(pattern.chain[0]).outputs[0].shape;
  const Shape expected_grouped = {shape[0], grouped.size() == 5 ? grouped[1] : 0,
                                  grouped.size() == 5 ? grouped[2] : 0, shape[2], shape[3]};
  if (grouped != expected_grouped || grouped[1] * grouped[2] != shape[1] ||
      view.planned(pattern.chain[1]).node->attr_ints("perm") !=
          std::vector<std::int64_t>{0, 2, 1, 3, 4} ||
      view.planned(pattern.chain[2]).outputs[0].shape != shape) {
    return std::nullopt;
  }
  pattern.groups = grouped[1];
  bool whole = view.input().is_graph_output(value);
  for (std::size_t reader : view.input().consumers_of(value)) {
    const PlannedNode& node = view.planned(reader);
    std::optional<ShuffleTarget> target;
    if (node.node->op_type == "Slice") {
      target = slice_target(view, reader, shape);
    } else if (auto quant = parse_quantize(node)) {
      target = ShuffleTarget{view.output_of(reader), 0, shape[1], quant, {reader}};
    }
    if (target) {
      pattern.targets.push_back(std::move(*target));
    } else {
      whole = true;
    }
  }
  if (whole) pattern.targets.push_back({value, 0, shape[1], std::nullopt, {}});
  return pattern;
}

ShuffleType shuffle_type(memory::data_type type) {
  if (type == memory::data_type::u8) return ShuffleType::u8;
  return type == memory::data_type::s8 ? ShuffleType::s8 : ShuffleType::f32;
}

class ShuffleOp {
 public:
  ShuffleOp(std::shared_ptr<const ChannelShuffle> shuffle, std::int64_t pixels, int threads)
      : shuffle_(std::move(shuffle)), pixels_(pixels), threads_(threads) {}

  // One range of pixels a part: the kernel's buffers are made once per range.
  int max_parts() const {
    return static_cast<int>(std::clamp<std::int64_t>(pixels_ / kMinPixelsPerThread, 1, threads_));
  }

  void run_part(const ArgMap& args, int part, int parts) const {
    const ChannelShuffleSpec& spec = shuffle_->spec();
    std::vector<const void*> sources;
    std::vector<void*> outputs;
    for (std::size_t i = 0; i < spec.parts.size(); ++i) {
      sources.push_back(args.at(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i)).get_data_handle());
    }
    for (std::size_t o = 0; o < spec.outputs.size(); ++o) {
      outputs.push_back(args.at(DNNL_ARG_MULTIPLE_DST + static_cast<int>(o)).get_data_handle());
    }
    shuffle_->run(sources.data(), outputs.data(), pixels_ * part / parts,
                  pixels_ * (part + 1) / parts);
  }

 private:
  static constexpr std::int64_t kMinPixelsPerThread = 64;
  std::shared_ptr<const ChannelShuffle> shuffle_;
  std::int64_t pixels_;
  int threads_;
};

}  // namespace

bool match_channel_shuffle(const MatchView& view, std::size_t index) {
  return view.planned(index).node->op_type == "Concat" && find_shuffle(view, index).has_value();
}

bool lower_channel_shuffle(RegionContext& context, std::size_t index) {
  const PlannedNode& concat = context.planned(index);
  const std::optional<ShufflePattern> pattern = find_shuffle(context, index);
  if (!pattern) return false;
  for (const ShuffleTarget& target : pattern->targets) {
    for (std::size_t node : target.nodes) {
      if (!context.may_join(index, node)) return false;
    }
  }
  for (std::size_t node : pattern->chain) {
    if (!context.may_join(index, node)) return false;
  }
  const Shape& shape = concat.outputs[0].shape;
  ChannelShuffleSpec spec;
  spec.groups = pattern->groups;
  std::vector<std::pair<std::string, memory::desc>> sources;  // each part as read
  for (std::size_t i = 0; i < concat.inputs.size(); ++i) {
    const std::string& name = concat.node->inputs[i];
    const QuantizedAlias* alias = context.alias_of(name);
    const ActivationQuant quant = alias ? alias->quant : kFloat;
    spec.parts.push_back(
        {shuffle_type(quant.type), quant.scale, quant.zero_point, concat.inputs[i].shape[1]});
    sources.emplace_back(
        alias ? alias->source : name,
        memory::desc(concat.inputs[i].shape, quant.type, memory::format_tag::acdb));
  }
  OpArgs args;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    args.emplace_back(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i),
                      context.use_as(sources[i].first, sources[i].second));
  }
  for (std::size_t node : pattern->chain) context.claim(node);
  for (std::size_t o = 0; o < pattern->targets.size(); ++o) {
    const ShuffleTarget& target = pattern->targets[o];
    const ActivationQuant quant = target.quant.value_or(kFloat);
    ShuffleOutput output;
    static_cast<ShuffleTensor&>(output) = {shuffle_type(quant.type), quant.scale, quant.zero_point,
                                           target.channels};
    output.first = target.first;
    spec.outputs.push_back(output);
    for (std::size_t node : target.nodes) context.claim(node);
    const Shape out_shape = {shape[0], target.channels, shape[2], shape[3]};
    args.emplace_back(DNNL_ARG_MULTIPLE_DST + static_cast<int>(o),
                      context.define_new(target.name, memory::desc(out_shape, quant.type,
                                                                   memory::format_tag::acdb)));
  }
  auto shuffle = std::make_shared<const ChannelShuffle>(std::move(spec));
  context.add_compute_op({}, std::move(args), memory::desc(),
                         parted(ShuffleOp(std::move(shuffle), shape[0] * shape[2] * shape[3],
                                          context.input().threads)),
                         "channel shuffle");
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
