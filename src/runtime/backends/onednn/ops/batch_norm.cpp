// A BatchNormalization that did not fold into the op before it (DenseNet's pre-activation
// BN after a Concat): y = x * s + t per channel, s = gamma / sqrt(var + eps) and
// t = beta - mean * s, as one binary multiply by s with t added as a binary post-op and
// the activations after it, in whatever layout x has. oneDNN's own batch norm runs a
// generic kernel on plain layouts (ncsp_bnorm: 8 ms of DenseNet-121's 56). An int8 x (a
// DequantizeLinear output) is read as its u8/s8 source, with the dequantization folded
// into s and t, and a following QuantizeLinear becomes the output conversion.
#include "edgeperf/graph/ops/batch_norm.h"

#include <functional>
#include <optional>

#include "../memory_descs.h"
#include "../post_ops.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

// Per-channel multiplier and addend, the int8 source's scale and zero point folded in.
struct Affine {
  std::vector<float> scale, shift;
};

Affine affine_of(const BatchNormSpec& spec, const QuantizedAlias* alias) {
  const auto params = graph::ops::BatchNormParams::from_tensors(
      *spec.scale, *spec.shift, *spec.mean, *spec.variance, spec.epsilon);
  const double input_scale = alias ? alias->quant.scale : 1.0;
  const double zero_point = alias ? alias->quant.zero_point : 0.0;
  Affine affine;
  for (std::size_t c = 0; c < params.scale.size(); ++c) {
    const double scale = params.scale[c] * input_scale;
    affine.scale.push_back(static_cast<float>(scale));
    affine.shift.push_back(static_cast<float>(params.shift[c] - scale * zero_point));
  }
  return affine;
}

// [1, C, 1, ...] at the rank of x.
memory::desc channel_desc(const memory::desc& x) {
  Shape dims(x.dims().size(), 1);
  dims[1] = x.dims()[1];
  return plain_desc(dims);
}

struct Lowering {
  memory::desc dst;
  std::string output;
  std::function<void()> claim;  // the chain nodes the op absorbs
};

// `post_ops`' eltwise entries appended to `into`.
void append_eltwise(const dnnl::post_ops& post_ops, dnnl::post_ops& into) {
  for (int i = 0; i < post_ops.len(); ++i) {
    float scale = 0, alpha = 0, beta = 0;
    dnnl::algorithm algorithm{};
    post_ops.get_params_eltwise(i, scale, algorithm, alpha, beta);
    into.append_eltwise(scale, algorithm, alpha, beta);
  }
}

// f32 x: the activations after the BN as post-ops (the longest chain oneDNN takes).
std::optional<dnnl::binary::primitive_desc> f32_pd(RegionContext& context, std::size_t index,
                                                   const memory::desc& x, Lowering& lowering) {
  const std::vector<ChainLink> links = context.collect_chain(index, false, false);
  for (std::size_t count = links.size() + 1; count-- > 0;) {
    dnnl::post_ops post_ops;
    post_ops.append_binary(dnnl::algorithm::binary_add, channel_desc(x));
    append_eltwise(make_post_ops(links, count), post_ops);
    dnnl::primitive_attr attr = context.base_attr();
    attr.set_post_ops(post_ops);
    try {
      dnnl::binary::primitive_desc pd(
          dnnl::binary::desc(dnnl::algorithm::binary_mul, x, channel_desc(x), x), attr,
          context.engine());
      if (is_reference_impl(pd)) continue;
      lowering.dst = x;
      lowering.output = count == 0 ? context.output_of(index) : links[count - 1].output;
      lowering.claim = [&context, links, count] { context.claim_links(links, count); };
      return pd;
    } catch (const dnnl::error&) {
    }
  }
  return std::nullopt;
}

// int8 x: the activations and a QuantizeLinear after the BN (QuantizedChain).
std::optional<dnnl::binary::primitive_desc> int8_pd(RegionContext& context, std::size_t index,
                                                    const memory::desc& x, Lowering& lowering) {
  const QuantizedChain chain = context.collect_quantized_chain(index);
  const std::optional<dnnl::post_ops> requantize =
      quantized_post_ops(chain, 1.0f / chain.dst_scale(), 0.0f);
  if (!requantize) return std::nullopt;
  dnnl::post_ops post_ops;
  post_ops.append_binary(dnnl::algorithm::binary_add, channel_desc(x));
  append_eltwise(*requantize, post_ops);
  dnnl::primitive_attr attr = context.base_attr();
  attr.set_post_ops(post_ops);
  const memory::desc dst = with_type(x, chain.dst_type());
  try {
    dnnl::binary::primitive_desc pd(
        dnnl::binary::desc(dnnl::algorithm::binary_mul, x, channel_desc(x), dst), attr,
        context.engine());
    if (is_reference_impl(pd)) return std::nullopt;
    lowering.dst = dst;
    lowering.output = chain.output;
    lowering.claim = [&context, chain] { context.claim_chain(chain); };
    return pd;
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

}  // namespace

bool match_batch_norm(const MatchView& view, std::size_t index) {
  return parse_batch_norm(view.planned(index)).has_value();
}

bool lower_batch_norm(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const BatchNormSpec spec = *parse_batch_norm(node);
  const std::string& x = node.node->inputs[0];
  const QuantizedAlias* alias = context.alias_of(x);
  std::optional<QuantizedAlias> int8_source;
  Lowering lowering;
  std::optional<dnnl::binary::primitive_desc> pd;
  if (alias != nullptr) {
    int8_source = *alias;
    pd = int8_pd(context, index, context.value(alias->source).md, lowering);
  }
  if (!pd) {
    int8_source.reset();
    context.materialize(x);
    pd = f32_pd(context, index, context.value(x).md, lowering);
  }
  if (!pd) return false;
  const Affine affine = affine_of(spec, int8_source ? &*int8_source : nullptr);
  const memory::desc channels = pd->src1_desc();
  const auto constant = [&](const std::vector<float>& values) {
    return context.constant_slot(context.pack(channels, channels, values.data()));
  };
  const std::string& source = int8_source ? int8_source->source : x;
  OpArgs args = {{DNNL_ARG_SRC_0, context.use_as(source, pd->src0_desc())},
                 {DNNL_ARG_SRC_1, constant(affine.scale)},
                 {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, constant(affine.shift)}};
  lowering.claim();
  args.emplace_back(DNNL_ARG_DST, context.define_new(lowering.output, lowering.dst));
  context.add_compute_op(dnnl::binary(*pd), std::move(args), pd->scratchpad_desc());
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
