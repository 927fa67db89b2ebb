// Squeeze-and-excitation around quantized convs (squeeze_excite.h), in two ops:
// - the activation of a dequantized value: x * Sigmoid(x), x * HardSigmoid(x) or
//   HardSwish(x) with x = DequantizeLinear(q), computed from the bytes q in one pass, with
//   the GlobalAveragePool of the result when one reads it (MobileNetV3's and
//   EfficientNet's SE trunk);
// - the gate: Mul(t, gate) whose only reader is a QuantizeLinear, with a per-channel
//   gate [N, C, 1, 1] (computed or constant), t the f32 activation above or a dequantized
//   value (RegNetY, MobileNetV3-Small's first block), written as bytes in one pass; or,
//   in float models, Mul(t, gate) of an f32 t with a computed gate and no op after it in
//   the chain, written as floats (channel_affine.h), in place of oneDNN's binary
//   primitive (jit:uni), split between threads by pixels as the pointwise convs around
//   it are.
// Both work on the channels-last layout the int8 convs use and leave other layouts to
// the ops after them in the table.
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "../channel_affine.h"
#include "../memory_descs.h"
#include "../parted_ops.h"
#include "../squeeze_excite.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

bool is_channels_last(const memory::desc& md) {
  const memory::dims dims = md.dims();
  return dims.size() == 4 && md == memory::desc(dims, md.data_type(), memory::format_tag::acdb);
}

Dequantization dequantization_of(const ActivationQuant& quant) {
  return {quant.scale, quant.zero_point, quant.type == memory::data_type::s8};
}

Quantization quantization_of(const ActivationQuant& quant) {
  return {quant.scale, quant.zero_point, quant.type == memory::data_type::s8};
}

// [N, C, H, W] as images of H * W pixels of C channels.
struct Images {
  std::int64_t images = 0, pixels = 0, channels = 0;
  explicit Images(const memory::desc& md)
      : images(md.dims()[0]), pixels(md.dims()[2] * md.dims()[3]), channels(md.dims()[1]) {}
};

// Pixel range `part` of `parts` of one image.
struct PixelRange {
  std::int64_t first = 0, count = 0;
};
PixelRange pixel_range(std::int64_t pixels, std::int64_t part, std::int64_t parts) {
  const std::int64_t first = pixels * part / parts;
  return {first, pixels * (part + 1) / parts - first};
}

// ---- the activation (and pool) ----

struct ActivationMatch {
  Activation activation;
  std::optional<std::size_t> mul;  // the Mul applying a HardSigmoid or Sigmoid gate
  std::string result;              // t
};

std::optional<ActivationMatch> parse_activation_of(const MatchView& view, std::size_t index) {
  const graph::Node& node = *view.planned(index).node;
  if (!node.domain.empty() || node.inputs.empty() || !view.reads_alias(index, 0)) {
    return std::nullopt;
  }
  ActivationMatch match;
  if (node.op_type == "HardSwish") {
    match.activation = {ByteActivation::hard_sigmoid_gate, 1.0f / 6.0f, 0.5f};
    match.result = node.outputs[0];
    return match;
  }
  if (node.op_type == "HardSigmoid") {
    match.activation = {ByteActivation::hard_sigmoid_gate, node.attr_float("alpha", 0.2f),
                        node.attr_float("beta", 0.5f)};
  } else if (node.op_type == "Sigmoid") {
    match.activation = {ByteActivation::swish};
  } else {
    return std::nullopt;
  }
  const std::string& x = node.inputs[0];
  const std::string& gate = node.outputs[0];
  const std::vector<std::size_t>& readers = view.input().consumers_of(gate);
  if (readers.size() != 1 || view.input().is_graph_output(gate) ||
      !is_gating_mul(view.planned(readers[0]), x, gate)) {
    return std::nullopt;
  }
  match.mul = readers[0];
  match.result = view.output_of(readers[0]);
  return match;
}

// The GlobalAveragePool of t in this region, if one reads it.
std::optional<std::size_t> pool_of(const RegionContext& context, std::size_t anchor,
                                   const std::string& t) {
  for (std::size_t reader : context.input().consumers_of(t)) {
    const PlannedNode& node = context.planned(reader);
    if (node.node->op_type == "GlobalAveragePool" && node.node->domain.empty() &&
        context.may_join(anchor, reader) && node.outputs[0].dtype == DType::f32) {
      return reader;
    }
  }
  return std::nullopt;
}

class ActivationOp {
 public:
  ActivationOp(const Dequantization& dq, const Activation& act, const memory::desc& md,
               std::optional<ActivationQuant> pooled_quant, bool pooled, int threads)
      : dq_(dq),
        act_(act),
        shape_(md),
        pooled_(pooled),
        pooled_quant_(pooled_quant),
        threads_(threads),
        partial_sums_(
            pooled ? static_cast<std::size_t>(shape_.images * max_parts() * shape_.channels) : 0) {}

  int max_parts() const {
    return static_cast<int>(
        std::max<std::int64_t>(1, std::min<std::int64_t>(threads_, shape_.pixels)));
  }

  // Pixel range `part` of `parts` of every image; the pool's sums of each range apart.
  void run_part(const ArgMap& args, int part, int parts) const {
    const auto* q = static_cast<const std::byte*>(args.at(DNNL_ARG_SRC).get_data_handle());
    float* t = args.count(DNNL_ARG_DST) > 0
                   ? static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle())
                   : nullptr;  // deferred: only the pool
    const std::int64_t image_size = shape_.pixels * shape_.channels;
    const PixelRange range = pixel_range(shape_.pixels, part, parts);
    for (std::int64_t image = 0; image < shape_.images; ++image) {
      float* sums =
          pooled_ ? partial_sums_.data() + (image * parts + part) * shape_.channels : nullptr;
      if (sums != nullptr) std::fill_n(sums, shape_.channels, 0.0f);
      const std::int64_t offset = image * image_size + range.first * shape_.channels;
      activate_bytes(q + offset, dq_, act_, {range.count, shape_.channels},
                     t != nullptr ? t + offset : nullptr, sums);
    }
  }

  void finish(const ArgMap& args, int parts) const {
    if (pooled_) write_pooled(args.at(DNNL_ARG_DST_1).get_data_handle(), parts);
  }

 private:
  // The mean over each image's pixels, in f32 or quantized.
  void write_pooled(void* pooled, std::int64_t parts) const {
    std::vector<float> means(static_cast<std::size_t>(shape_.images * shape_.channels), 0.0f);
    for (std::int64_t image = 0; image < shape_.images; ++image) {
      float* mean = means.data() + image * shape_.channels;
      for (std::int64_t part = 0; part < parts; ++part) {
        const float* sums = partial_sums_.data() + (image * parts + part) * shape_.channels;
        for (std::int64_t c = 0; c < shape_.channels; ++c) mean[c] += sums[c];
      }
      for (std::int64_t c = 0; c < shape_.channels; ++c) {
        mean[c] /= static_cast<float>(shape_.pixels);
      }
    }
    if (!pooled_quant_) {
      std::copy(means.begin(), means.end(), static_cast<float*>(pooled));
      return;
    }
    quantize_values(means.data(), static_cast<std::int64_t>(means.size()),
                    quantization_of(*pooled_quant_), pooled);
  }

  Dequantization dq_;
  Activation act_;
  Images shape_;
  bool pooled_;
  std::optional<ActivationQuant> pooled_quant_;
  int threads_;
  mutable std::vector<float> partial_sums_;  // [image][part][channel]
};

// ---- the gate ----

struct GateMatch {
  std::size_t trunk = 0;  // input slot of t
  std::size_t gate = 1;
};

std::optional<GateMatch> parse_gate_mul(const PlannedNode& node) {
  const std::optional<BinarySpec> spec = parse_binary(node);
  if (!spec || spec->algorithm != dnnl::algorithm::binary_mul) return std::nullopt;
  const Shape& out = node.outputs[0].shape;
  const Shape& gate = spec->other_dims;
  if (out.size() != 4 || gate.size() != 4 || gate[1] != out[1] || gate[2] != 1 || gate[3] != 1 ||
      (gate[0] != 1 && gate[0] != out[0])) {
    return std::nullopt;
  }
  // A computed gate is read in its own 4-D shape (a constant's values are copied).
  const bool constant = spec->other < node.constants.size() && node.constants[spec->other];
  if (!constant && node.inputs[spec->other].shape.size() != 4) return std::nullopt;
  return GateMatch{spec->full, spec->other};
}

class GateOp {
 public:
  // `dq`: t is act of the bytes it dequantizes, else f32. `out`: y is quantized, else f32.
  GateOp(std::optional<Dequantization> dq, const Activation& act, std::optional<Quantization> out,
         const memory::desc& md, std::vector<float> constant_gate, bool gate_per_image, int threads)
      : dq_(dq),
        act_(act),
        out_(out),
        shape_(md),
        constant_gate_(std::move(constant_gate)),
        gate_per_image_(gate_per_image),
        threads_(threads),
        zeros_(out ? 0 : static_cast<std::size_t>(shape_.channels), 0.0f) {}

  int max_parts() const {
    return static_cast<int>(
        std::max<std::int64_t>(1, std::min<std::int64_t>(threads_, shape_.pixels)));
  }

  // Pixel range `part` of `parts` of every image.
  void run_part(const ArgMap& args, int part, int parts) const {
    const auto* t = static_cast<const std::byte*>(args.at(DNNL_ARG_SRC_0).get_data_handle());
    const float* gate = constant_gate_.empty()
                            ? static_cast<const float*>(args.at(DNNL_ARG_SRC_1).get_data_handle())
                            : constant_gate_.data();
    auto* y = static_cast<std::byte*>(args.at(DNNL_ARG_DST).get_data_handle());
    const PixelRange range = pixel_range(shape_.pixels, part, parts);
    for (std::int64_t image = 0; image < shape_.images; ++image) {
      const std::int64_t offset = (image * shape_.pixels + range.first) * shape_.channels;
      const float* image_gate = gate + (gate_per_image_ ? image * shape_.channels : 0);
      const ChannelsLast rows{range.count, shape_.channels};
      if (!out_) {
        channel_affine(
            {image_gate, zeros_.data()},
            {reinterpret_cast<const float*>(t) + offset, shape_.channels,
             reinterpret_cast<float*>(y) + offset, shape_.channels, range.count, shape_.channels});
      } else if (dq_) {
        gate_quantize_bytes(t + offset, *dq_, act_, image_gate, rows, *out_, y + offset);
      } else {
        gate_quantize(reinterpret_cast<const float*>(t) + offset, image_gate, rows, *out_,
                      y + offset);
      }
    }
  }

 private:
  std::optional<Dequantization> dq_;
  Activation act_;
  std::optional<Quantization> out_;
  Images shape_;
  std::vector<float> constant_gate_;
  bool gate_per_image_;
  int threads_;
  std::vector<float> zeros_;  // f32 out: channel_affine's shift
};

}  // namespace

bool match_int8_activation(const MatchView& view, std::size_t index) {
  return parse_activation_of(view, index).has_value();
}

// t need not be stored when its readers are the pool and a gate that computes it again
// from the bytes (every activation but swish, see squeeze_excite.h).
bool may_defer(const RegionContext& context, std::size_t anchor, const ActivationMatch& match,
               std::size_t pool) {
  const std::vector<std::size_t>& readers = context.input().consumers_of(match.result);
  if (match.activation.kind == ByteActivation::swish || readers.size() != 2 ||
      context.input().is_graph_output(match.result) || context.is_region_output(match.result)) {
    return false;
  }
  const std::size_t gate = readers[0] == pool ? readers[1] : readers[0];
  const PlannedNode& node = context.planned(gate);
  const std::optional<GateMatch> gate_match = parse_gate_mul(node);
  if (!context.may_join(anchor, gate) || !gate_match ||
      node.node->inputs[gate_match->trunk] != match.result ||
      node.node->inputs[gate_match->gate] == match.result) {
    return false;
  }
  const QuantizedChain chain = context.collect_quantized_chain(gate);
  return chain.quant && !chain.bridge && chain.eltwise.empty();
}

bool lower_int8_activation(RegionContext& context, std::size_t index) {
  const std::optional<ActivationMatch> match = parse_activation_of(context, index);
  if (!match || (match->mul && !context.may_join(index, *match->mul))) return false;
  const QuantizedAlias alias = *context.alias_of(context.planned(index).node->inputs[0]);
  const memory::desc src_md = context.value(alias.source).md;
  if (!is_channels_last(src_md)) return false;
  const std::optional<std::size_t> pool = pool_of(context, index, match->result);
  std::optional<QuantizedChain> pooled_chain;
  if (pool) {
    pooled_chain = context.collect_quantized_chain(*pool);
    if (!pooled_chain->eltwise.empty() || pooled_chain->bridge) pooled_chain.reset();
  }
  const bool deferred = pool && may_defer(context, index, *match, *pool);
  const Dequantization dq = dequantization_of(alias.quant);
  Activation activation = match->activation;
  if (looks_up_activations() && activation.kind == ByteActivation::swish) {
    activation.table = activation_table(dq, activation);
  }
  OpArgs args = {{DNNL_ARG_SRC, context.use_as(alias.source, src_md)}};
  if (match->mul) context.claim(*match->mul);
  if (deferred) {
    context.defer_activation(match->result, {alias.source, alias.quant, activation});
  } else {
    args.emplace_back(DNNL_ARG_DST,
                      context.define_new(match->result, with_type(src_md, memory::data_type::f32)));
  }
  std::optional<ActivationQuant> pooled_quant;
  if (pool) {
    context.claim(*pool);
    const Shape& pooled_shape = context.planned(*pool).outputs[0].shape;
    std::string pooled_name = context.output_of(*pool);
    memory::desc pooled_md = plain_desc(pooled_shape);
    if (pooled_chain && pooled_chain->quant) {
      context.claim_chain(*pooled_chain);
      pooled_quant = *pooled_chain->quant;
      pooled_name = pooled_chain->output;
      pooled_md = with_type(pooled_md, pooled_quant->type);
    }
    args.emplace_back(DNNL_ARG_DST_1, context.define_new(pooled_name, pooled_md));
  }
  context.add_compute_op({}, std::move(args), memory::desc(),
                         parted(ActivationOp(dq, activation, src_md, pooled_quant, pool.has_value(),
                                             context.input().threads)));
  return true;
}

namespace {

// Mul(t, gate) with t f32 channels-last and a computed f32 gate, written as floats.
bool lower_float_gate(RegionContext& context, std::size_t index, const GateMatch& match) {
  const PlannedNode& node = context.planned(index);
  const std::string& trunk = node.node->inputs[match.trunk];
  const bool constant = match.gate < node.constants.size() && node.constants[match.gate];
  if (constant || context.alias_of(trunk) != nullptr ||
      context.deferred_activation(trunk) != nullptr) {
    return false;
  }
  const memory::desc trunk_md = context.value(trunk).md;
  if (trunk_md.data_type() != memory::data_type::f32 || !is_channels_last(trunk_md)) return false;
  const std::string& gate = node.node->inputs[match.gate];
  context.materialize(gate);
  if (context.value(gate).md.data_type() != memory::data_type::f32) return false;
  const Shape gate_dims = parse_binary(node)->other_dims;
  OpArgs args = {{DNNL_ARG_SRC_0, context.use_as(trunk, trunk_md)},
                 {DNNL_ARG_SRC_1, context.use_as(gate, plain_desc(gate_dims))}};
  args.emplace_back(DNNL_ARG_DST, context.define_new(context.output_of(index), trunk_md));
  context.add_compute_op({}, std::move(args), memory::desc(),
                         parted(GateOp(std::nullopt, {}, std::nullopt, trunk_md, {},
                                       gate_dims[0] > 1, context.input().threads)));
  return true;
}

}  // namespace

bool match_int8_gate(const MatchView& view, std::size_t index) {
  return parse_gate_mul(view.planned(index)).has_value();
}

bool lower_int8_gate(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const GateMatch match = *parse_gate_mul(node);
  const QuantizedChain chain = context.collect_quantized_chain(index);
  if (chain.bridge || !chain.eltwise.empty()) return false;
  if (!chain.quant) return lower_float_gate(context, index, match);
  const std::string& trunk = node.node->inputs[match.trunk];
  const QuantizedAlias* alias = context.alias_of(trunk);
  const DeferredActivation* deferred = context.deferred_activation(trunk);
  std::optional<Dequantization> dq;
  Activation activation;
  std::string source = trunk;
  memory::desc trunk_md;
  if (deferred != nullptr) {
    dq = dequantization_of(deferred->quant);
    activation = deferred->activation;
    source = deferred->source;
    trunk_md = context.value(source).md;
  } else if (alias != nullptr) {
    dq = dequantization_of(alias->quant);
    source = alias->source;
    trunk_md = context.value(source).md;
  } else {
    trunk_md = context.value(trunk).md;
    if (trunk_md.data_type() != memory::data_type::f32) return false;
  }
  if (!is_channels_last(trunk_md)) return false;
  const Shape gate_dims = parse_binary(node)->other_dims;
  const Tensor* constant =
      match.gate < node.constants.size() ? node.constants[match.gate] : nullptr;
  std::vector<float> constant_gate;
  if (constant != nullptr) {
    if (constant->dtype() != DType::f32) return false;
    const auto values = constant->values<float>();
    constant_gate.assign(values.begin(), values.end());
  }
  OpArgs args = {{DNNL_ARG_SRC_0, context.use_as(source, trunk_md)}};
  if (constant == nullptr) {
    const std::string& gate = node.node->inputs[match.gate];
    context.materialize(gate);  // a dequantized gate is computed in f32 first
    args.emplace_back(DNNL_ARG_SRC_1, context.use_as(gate, plain_desc(gate_dims)));
  }
  context.claim_chain(chain);
  args.emplace_back(DNNL_ARG_DST,
                    context.define_new(chain.output, with_type(trunk_md, chain.dst_type())));
  context.add_compute_op(
      {}, std::move(args), memory::desc(),
      parted(GateOp(dq, activation, quantization_of(*chain.quant), trunk_md,
                    std::move(constant_gate), gate_dims[0] > 1, context.input().threads)));
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
