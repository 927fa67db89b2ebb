// An 8-bit elementwise subgraph: DequantizeLinear (an int8 alias) -> ops whose every
// input is that value, a value computed from it, or a scalar constant -> one
// QuantizeLinear. Such a subgraph is a function of the 8-bit input alone, so it runs as
// one 256-entry table lookup per byte (byte_table.h) in the source's layout, with the
// table computed by the reference kernels. MobileNetV3's hardswish and EfficientNet's
// SiLU between quantized convs are such subgraphs: x * HardSigmoid(x), x * Sigmoid(x).
#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include "../byte_table.h"
#include "../memory_descs.h"
#include "../parted_ops.h"
#include "edgeperf/runtime/reference.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

constexpr std::size_t kMaxNodes = 16;

bool is_elementwise(const graph::Node& node) {
  static constexpr std::array kOps = {
      "Abs",       "Add",        "Ceil",  "Clip",  "Cos",         "Div",       "Elu",
      "Erf",       "Exp",        "Floor", "Gelu",  "HardSigmoid", "HardSwish", "Identity",
      "LeakyRelu", "Log",        "Max",   "Min",   "Mish",        "Mul",       "Neg",
      "Pow",       "Reciprocal", "Relu",  "Round", "Selu",        "Sigmoid",   "Sin",
      "Softplus",  "Softsign",   "Sqrt",  "Sub",   "Tanh"};
  return node.domain.empty() && node.outputs.size() == 1 &&
         std::find(kOps.begin(), kOps.end(), node.op_type) != kOps.end();
}

struct TableSubgraph {
  std::string source;              // the alias (DequantizeLinear output) it starts from
  std::vector<std::size_t> nodes;  // in order, the QuantizeLinear last
};

// Every input is the source, a value of the subgraph, a scalar constant or absent.
bool inputs_within(const PlannedNode& node, const std::string& source,
                   const std::set<std::string>& values) {
  for (std::size_t i = 0; i < node.node->inputs.size(); ++i) {
    const std::string& name = node.node->inputs[i];
    const Tensor* constant = i < node.constants.size() ? node.constants[i] : nullptr;
    const bool ok = name.empty() || name == source || values.count(name) ||
                    (constant != nullptr && constant->numel() == 1);
    if (!ok) return false;
  }
  return true;
}

// The subgraph anchored at `anchor`, grown over the nodes that read its values, if it
// ends in one QuantizeLinear and no value of it escapes.
std::optional<TableSubgraph> find_subgraph(const RegionContext& context, std::size_t anchor,
                                           const std::string& source) {
  const LoweringInput& input = context.input();
  const Shape& shape = context.planned(anchor).inputs[0].shape;
  TableSubgraph subgraph{source, {anchor}};
  std::set<std::string> values = {context.output_of(anchor)};
  std::vector<std::string> pending = {context.output_of(anchor)};
  std::optional<std::size_t> quantize;
  while (!pending.empty()) {
    const std::string value = pending.back();
    pending.pop_back();
    if (input.is_graph_output(value)) return std::nullopt;
    for (std::size_t reader : input.consumers_of(value)) {
      if (std::find(subgraph.nodes.begin(), subgraph.nodes.end(), reader) != subgraph.nodes.end()) {
        continue;
      }
      if (!context.may_join(anchor, reader) || subgraph.nodes.size() >= kMaxNodes) {
        return std::nullopt;
      }
      const PlannedNode& node = context.planned(reader);
      if (parse_quantize(node)) {
        if (quantize || node.node->inputs[0] != value) return std::nullopt;
        quantize = reader;
        continue;
      }
      if (!is_elementwise(*node.node) || !inputs_within(node, source, values) ||
          node.outputs[0].dtype != DType::f32 || node.outputs[0].shape != shape) {
        return std::nullopt;
      }
      subgraph.nodes.push_back(reader);
      values.insert(context.output_of(reader));
      pending.push_back(context.output_of(reader));
    }
  }
  if (!quantize) return std::nullopt;
  // The quantized value is read by the QuantizeLinear alone.
  const std::string& last = context.planned(*quantize).node->inputs[0];
  if (input.consumers_of(last).size() != 1) return std::nullopt;
  std::sort(subgraph.nodes.begin(), subgraph.nodes.end());
  subgraph.nodes.push_back(*quantize);
  return subgraph;
}

// Every byte value through DequantizeLinear, the subgraph and QuantizeLinear, computed
// by the reference kernels on a [256] tensor.
ByteTable make_table(const RegionContext& context, const TableSubgraph& subgraph,
                     const ActivationQuant& quant) {
  std::map<std::string, Tensor> values = {{subgraph.source, dequantized_byte_values(quant)}};
  Tensor result;
  for (std::size_t index : subgraph.nodes) {
    const PlannedNode& node = context.planned(index);
    std::vector<Tensor> inputs;
    for (std::size_t i = 0; i < node.node->inputs.size(); ++i) {
      const std::string& name = node.node->inputs[i];
      const Tensor* constant = i < node.constants.size() ? node.constants[i] : nullptr;
      inputs.push_back(name.empty() ? Tensor() : constant ? *constant : values.at(name));
    }
    result = evaluate_node(*node.node, context.input().opset, inputs).at(0);
    values[node.node->outputs[0]] = result;
  }
  ByteTable table{};
  const auto bytes = result.bytes();
  for (std::size_t i = 0; i < table.size(); ++i) table[i] = static_cast<std::uint8_t>(bytes[i]);
  return table;
}

class TableLookup {
 public:
  TableLookup(const ByteTable& table, std::size_t bytes, int threads)
      : table_(table), bytes_(bytes), threads_(threads) {}

  int max_parts() const {
    return static_cast<int>(
        std::min<std::size_t>(threads_, std::max<std::size_t>(1, bytes_ / kMinBytesPerPart)));
  }

  // One contiguous part per thread, in 64-byte steps: the halves a pointwise conv in
  // pixel parts wrote before, and that the next op reads.
  void run_part(const ArgMap& args, int part, int parts) const {
    const auto* src = static_cast<const std::uint8_t*>(args.at(DNNL_ARG_SRC).get_data_handle());
    auto* dst = static_cast<std::uint8_t*>(args.at(DNNL_ARG_DST).get_data_handle());
    const std::size_t lines = (bytes_ + kLine - 1) / kLine;
    const auto count = static_cast<std::size_t>(parts);
    const std::size_t begin =
        std::min(bytes_, lines * static_cast<std::size_t>(part) / count * kLine);
    const std::size_t end =
        std::min(bytes_, lines * static_cast<std::size_t>(part + 1) / count * kLine);
    apply_byte_table(table_, src + begin, dst + begin, end - begin);
  }

 private:
  static constexpr std::size_t kLine = 64;
  static constexpr std::size_t kMinBytesPerPart = std::size_t{1} << 15;
  ByteTable table_;
  std::size_t bytes_;
  int threads_;
};

// The input of the anchor that is an int8 alias (the first one), if any.
std::optional<std::string> alias_input(const MatchView& view, std::size_t index) {
  for (const std::string& name : view.planned(index).node->inputs) {
    if (view.alias_of(name) != nullptr) return name;
  }
  return std::nullopt;
}

}  // namespace

bool match_int8_table(const MatchView& view, std::size_t index) {
  return is_elementwise(*view.planned(index).node) && alias_input(view, index).has_value();
}

bool lower_int8_table(RegionContext& context, std::size_t index) {
  const PlannedNode& anchor = context.planned(index);
  const std::string source = *alias_input(context, index);
  const QuantizedAlias alias = *context.alias_of(source);
  const std::optional<TableSubgraph> subgraph = find_subgraph(context, index, source);
  if (!subgraph || !inputs_within(anchor, source, {})) return false;
  const PlannedNode& quantize = context.planned(subgraph->nodes.back());
  const ActivationQuant out = *parse_quantize(quantize);
  const memory::desc src_md = context.value(alias.source).md;
  // Padding bytes of a blocked layout must stay as they are: plain layouts only.
  if (src_md.get_size() != static_cast<std::size_t>(anchor.inputs[0].numel())) return false;
  const ByteTable table = make_table(context, *subgraph, alias.quant);
  for (std::size_t node : subgraph->nodes) context.claim(node);
  const memory::desc dst_md = with_type(src_md, out.type);
  OpArgs args = {{DNNL_ARG_SRC, context.use_as(alias.source, src_md)}};
  args.emplace_back(DNNL_ARG_DST,
                    context.define_new(context.output_of(subgraph->nodes.back()), dst_md));
  context.add_compute_op({}, std::move(args), memory::desc(),
                         parted(TableLookup(table, src_md.get_size(), context.input().threads)));
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
