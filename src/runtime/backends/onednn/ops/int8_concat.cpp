// A Concat of dequantized values whose result is quantized again (DequantizeLinear on
// each part -> Concat -> QuantizeLinear) runs on the int8 sources: each part is copied
// into the int8 output, through a byte table when its quantization differs from the
// output's. The table holds every byte value through DequantizeLinear and the
// QuantizeLinear (computed by the reference kernels), so the result is exactly the
// graph's, and the Concat reads and writes bytes instead of floats (3 f32 passes before:
// dequantize each part, concatenate, quantize).
//
// A MaxPool between the Concat and the QuantizeLinear (SqueezeNet's) commutes with the
// quantization, which never decreases: the Concat then writes in the quantization after
// the pool, as a dequantized alias that the int8 pooling reads.
//
// A BatchNormalization (and ReLU) between them, DenseNet's pre-activation, folds into a
// multiply-add per channel that takes each part's bytes to the output's.
#include <optional>
#include <vector>

#include "../concat_affine.h"
#include "../concat_chunks.h"
#include "../memory_descs.h"
#include "edgeperf/runtime/reference.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

// The layout of `md` among those the chunk copy knows, if it is one of them.
std::optional<memory::format_tag> int8_layout(const memory::desc& md) {
  if (md.dims().size() != 4) return std::nullopt;
  for (memory::format_tag tag : {memory::format_tag::acdb, memory::format_tag::abcd,
                                 memory::format_tag::aBcd16b, memory::format_tag::aBcd8b}) {
    if (md == memory::desc(md.dims(), type_of(md), tag)) return tag;
  }
  return std::nullopt;
}

// The first part kept as int8; its type is the int8 Concat's.
const QuantizedAlias* first_int8_part(const MatchView& view, const PlannedNode& node) {
  for (const std::string& input : node.node->inputs) {
    if (const QuantizedAlias* part = view.alias_of(input)) return part;
  }
  return nullptr;
}

// The first int8 part's layout when every part can be written in it without padding inside
// the output; channels-last otherwise (what oneDNN's int8 convs choose).
memory::format_tag shared_int8_layout(const RegionContext& context, const PlannedNode& node,
                                      int axis) {
  const QuantizedAlias& first = *first_int8_part(context, node);
  const memory::desc md = context.value(first.source).md;
  const std::optional<memory::format_tag> tag = int8_layout(md);
  if (!tag) return memory::format_tag::acdb;
  const std::int64_t block =
      block_along(memory::desc(node.outputs[0].shape, type_of(md), *tag), axis);
  for (const TensorDesc& part : node.inputs) {
    if (part.shape[static_cast<std::size_t>(axis)] % block != 0) return memory::format_tag::acdb;
  }
  return *tag;
}

bool same_quant(const ActivationQuant& a, const ActivationQuant& b) {
  return a.type == b.type && a.scale == b.scale && a.zero_point == b.zero_point;
}

// Every byte value of `part` through its DequantizeLinear and `quantize`.
ByteTable requantize_table(const RegionContext& context, const ActivationQuant& part,
                           const PlannedNode& quantize) {
  std::vector<Tensor> inputs = {dequantized_byte_values(part)};
  for (std::size_t i = 1; i < quantize.node->inputs.size(); ++i) {
    inputs.push_back(quantize.node->has_input(i) ? *quantize.constants[i] : Tensor());
  }
  const Tensor result = evaluate_node(*quantize.node, context.input().opset, inputs).at(0);
  ByteTable table{};
  const auto bytes = result.bytes();
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = static_cast<std::uint8_t>(bytes[i]);
  return table;
}

// Where the Concat's int8 output goes, and in which quantization.
struct Int8ConcatTarget {
  std::size_t quantize = 0;             // the QuantizeLinear whose parameters it takes
  std::optional<QuantizedChain> chain;  // set: the Concat's output is its output
};

std::optional<Int8ConcatTarget> int8_concat_target(const RegionContext& context,
                                                   std::size_t index) {
  QuantizedChain chain = context.collect_quantized_chain(index);
  if (chain.quant) {
    if (!chain.eltwise.empty() || chain.bridge || chain.nodes.size() != 1) return std::nullopt;
    return Int8ConcatTarget{chain.nodes[0], std::move(chain)};
  }
  const std::optional<std::size_t> pool =
      context.sole_joining_reader(index, context.output_of(index));
  if (!pool) return std::nullopt;
  const std::optional<PoolSpec> spec = parse_pool(context.planned(*pool));
  if (!spec || spec->algorithm != dnnl::algorithm::pooling_max || !spec->keep_dims) {
    return std::nullopt;
  }
  const std::optional<std::size_t> quantize =
      context.sole_joining_reader(index, context.output_of(*pool));
  if (!quantize || !parse_quantize(context.planned(*quantize))) return std::nullopt;
  return Int8ConcatTarget{*quantize, std::nullopt};
}

// A BatchNormalization's scale and shift per output channel, with the output's
// quantization folded in, and each byte part's dequantization: y = x * scale + shift in
// quantized units, x the part's byte or float.
std::pair<std::vector<float>, std::vector<float>> fold_quantization(const RegionContext& context,
                                                                    const PlannedNode& node,
                                                                    const ConcatBatchNorm& chain,
                                                                    const ActivationQuant& output) {
  std::vector<float> scale(chain.scale.size()), shift(chain.shift.size());
  std::size_t c = 0;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const QuantizedAlias* alias = context.alias_of(node.node->inputs[i]);
    const ActivationQuant part = alias ? alias->quant : ActivationQuant{1.0f, 0, output.type};
    for (std::int64_t k = 0; k < node.inputs[i].shape[1]; ++k, ++c) {
      const double folded = static_cast<double>(chain.scale[c]) * part.scale / output.scale;
      scale[c] = alias ? byte_affine_scale(static_cast<float>(folded)) : static_cast<float>(folded);
      shift[c] = static_cast<float>(static_cast<double>(chain.shift[c]) / output.scale -
                                    static_cast<double>(scale[c]) * part.zero_point);
    }
  }
  return {std::move(scale), std::move(shift)};
}

template <typename T>
void add_concat_affine(RegionContext& context, OpArgs args, std::vector<ConcatAffineTask> tasks,
                       std::pair<std::vector<float>, std::vector<float>> folded,
                       const ConcatBatchNorm& chain, std::int32_t zero,
                       std::vector<bool> float_parts) {
  context.add_compute_op({}, std::move(args), memory::desc(),
                         ConcatAffine<T>(std::move(tasks), std::move(folded.first),
                                         std::move(folded.second), {chain.relu, chain.slope, zero},
                                         std::move(float_parts), context.input().threads));
}

// Concat -> BatchNormalization (-> ReLU) -> QuantizeLinear along the channels, DenseNet's
// pre-activation: one multiply-add per value (channel_affine.h) takes each part to the
// output's bytes, where the f32 path dequantized every byte part, applied the batch norm
// while it concatenated floats, and quantized the result. A part not kept as int8
// (DenseNet's pooled transition output) is read as floats.
bool lower_int8_concat_batch_norm(RegionContext& context, std::size_t index, int axis,
                                  memory::format_tag tag) {
  const PlannedNode& node = context.planned(index);
  if (axis != 1) return false;
  const std::optional<memory::format_tag> task_tag =
      tag == memory::format_tag::abcd ? std::nullopt : std::optional(tag);
  std::vector<ConcatAffineTask> tasks =
      concat_affine_tasks(node.inputs, node.outputs[0].shape, task_tag);
  if (tasks.empty()) return false;
  const std::optional<ConcatBatchNorm> chain = concat_batch_norm(context, index);
  if (!chain) return false;
  const std::optional<std::size_t> quantize = context.sole_joining_reader(index, chain->output());
  if (!quantize) return false;
  const std::optional<ActivationQuant> output = parse_quantize(context.planned(*quantize));
  const memory::data_type type = first_int8_part(context, node)->quant.type;
  if (!output || output->type != type) return false;
  auto folded = fold_quantization(context, node, *chain, *output);
  OpArgs args;
  std::vector<bool> float_parts;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const QuantizedAlias* alias = context.alias_of(node.node->inputs[i]);
    float_parts.push_back(alias == nullptr);
    const memory::desc part(node.inputs[i].shape, alias ? type : memory::data_type::f32, tag);
    args.emplace_back(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i),
                      context.use_as(alias ? alias->source : node.node->inputs[i], part));
  }
  context.claim_links(chain->links, chain->count);
  context.claim_chain(QuantizedChain{{*quantize}, {}, output, std::nullopt, ""});
  args.emplace_back(DNNL_ARG_DST,
                    context.define_new(context.output_of(*quantize),
                                       memory::desc(node.outputs[0].shape, type, tag)));
  if (type == memory::data_type::u8) {
    add_concat_affine<std::uint8_t>(context, std::move(args), std::move(tasks), std::move(folded),
                                    *chain, output->zero_point, std::move(float_parts));
  } else {
    add_concat_affine<std::int8_t>(context, std::move(args), std::move(tasks), std::move(folded),
                                   *chain, output->zero_point, std::move(float_parts));
  }
  return true;
}

}  // namespace

bool match_int8_concat(const MatchView& view, std::size_t index) {
  if (!match_concat(view, index)) return false;
  const PlannedNode& node = view.planned(index);
  if (node.outputs[0].shape.size() != 4 || !parse_concat_axis(node)) return false;
  const QuantizedAlias* first = first_int8_part(view, node);
  if (first == nullptr) return false;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const QuantizedAlias* part = view.alias_of(node.node->inputs[i]);
    if (part != nullptr && part->quant.type != first->quant.type) return false;
  }
  return true;
}

bool lower_int8_concat(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const int axis = static_cast<int>(*parse_concat_axis(node));
  const memory::format_tag tag = shared_int8_layout(context, node, axis);
  if (lower_int8_concat_batch_norm(context, index, axis, tag)) return true;
  for (const std::string& input : node.node->inputs) {
    if (context.alias_of(input) == nullptr) return false;  // only byte parts from here
  }
  const std::optional<Int8ConcatTarget> target = int8_concat_target(context, index);
  if (!target) return false;
  const PlannedNode& quantize = context.planned(target->quantize);
  const ActivationQuant output = *parse_quantize(quantize);
  if (output.type != context.alias_of(node.node->inputs[0])->quant.type) return false;
  std::vector<ConcatPartCopy> copies;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    std::optional<RowMajorView> view = row_major_view(node.inputs[i].shape, axis, tag);
    if (!view) return false;  // before anything is added to the region
    copies.push_back(ConcatPartCopy{*view, false, std::nullopt});
  }
  OpArgs args;
  for (std::size_t i = 0; i < node.inputs.size(); ++i) {
    const QuantizedAlias part = *context.alias_of(node.node->inputs[i]);
    if (!same_quant(part.quant, output)) {
      copies[i].table = requantize_table(context, part.quant, quantize);
    }
    args.emplace_back(
        DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i),
        context.use_as(part.source, memory::desc(node.inputs[i].shape, output.type, tag)));
  }
  const memory::desc dst(node.outputs[0].shape, output.type, tag);
  if (target->chain) {
    context.claim_chain(*target->chain);
    args.emplace_back(DNNL_ARG_DST, context.define_new(target->chain->output, dst));
  } else {
    const std::string quantized = context.output_of(index) + "#int8";
    args.emplace_back(DNNL_ARG_DST, context.define_new(quantized, dst));
    context.define_alias(context.output_of(index), QuantizedAlias{quantized, output});
  }
  context.add_compute_op({}, std::move(args), memory::desc(),
                         ChunkCopy(std::move(copies), 1, context.input().threads));
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
