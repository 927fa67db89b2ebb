// DQ(a) -> Gemm/MatMul(DQ(W_s8)) -> [Relu|Clip] -> [Q] as one int8 inner product; also
// the primitive behind QLinearMatMul.
#include <optional>

#include "../gemm_weights.h"
#include "../post_ops.h"
#include "../requantization.h"
#include "weighted_op.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;
using InnerProductPd = dnnl::inner_product_forward::primitive_desc;

std::optional<QuantizedWeights> gemm_int8_weights(const MatchView& view, std::size_t index,
                                                  const GemmSpec& spec) {
  std::optional<QuantizedWeights> weights =
      find_quantized_weights(view.input().graph, view.planned(index).node->inputs[1]);
  if (!weights || !int8_weights_fit(spec, *weights) || !int8_products_exact(*weights->values)) {
    return std::nullopt;
  }
  return weights;
}

}  // namespace

bool match_int8_gemm(const MatchView& view, std::size_t index) {
  if (!view.reads_alias(index, 0)) return false;
  const std::optional<GemmSpec> spec = parse_gemm(view.planned(index));
  return spec && gemm_int8_weights(view, index, *spec);
}

bool lower_int8_gemm(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const GemmSpec spec = *parse_gemm(node);
  return emit_int8_gemm(context, index, spec, *context.alias_of(node.node->inputs[0]),
                        *gemm_int8_weights(context, index, spec),
                        context.collect_quantized_chain(index));
}

bool emit_int8_gemm(RegionContext& context, std::size_t index, const GemmSpec& spec,
                    const QuantizedAlias& input, const QuantizedWeights& weights,
                    const QuantizedChain& chain) {
  const PlannedNode& node = context.planned(index);
  if (context.value(input.source).md.dims().size() != 2) return false;
  const std::optional<std::vector<std::int8_t>> weight_values = int8_weights_nk(spec, weights);
  if (!weight_values) return false;
  const std::int64_t n = node.outputs[0].shape[1];
  const std::int64_t k = node.inputs[0].shape[1];
  const Requantization requant = requantization(input.quant, weights, *weight_values, spec.bias, n,
                                                chain.dst_scale(), input.quant.zero_point != 0);
  const std::optional<dnnl::post_ops> post_ops = quantized_post_ops(chain, 1.0f, 0.0f);
  if (!post_ops) return false;
  dnnl::primitive_attr attr = context.base_attr();
  attr.set_output_scales(1 << 1, requant.scales);
  attr.set_post_ops(*post_ops);
  std::optional<InnerProductPd> pd;
  try {
    dnnl::inner_product_forward::desc desc(
        dnnl::prop_kind::forward_inference,
        memory::desc(node.inputs[0].shape, input.quant.type, memory::format_tag::any),
        memory::desc({n, k}, memory::data_type::s8, memory::format_tag::any), plain_desc({n}),
        memory::desc(node.outputs[0].shape, chain.dst_type(), memory::format_tag::any));
    pd.emplace(desc, attr, context.engine());
  } catch (const dnnl::error&) {
    return false;
  }
  const WeightedOperands operands{
      input.source, plain_desc({n, k}, memory::data_type::s8), weight_values->data(),
      plain_desc({static_cast<std::int64_t>(requant.bias.size())}), requant.bias.data()};
  add_weighted_op<dnnl::inner_product_forward>(context, *pd, operands, {},
                                               [&](const memory::desc& dst) {
                                                 context.claim_chain(chain);
                                                 return context.define_new(chain.output, dst);
                                               });
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
