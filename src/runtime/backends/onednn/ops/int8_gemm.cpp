// DQ(a) -> Gemm/MatMul(DQ(W_s8)) -> [Relu|Clip] -> [Q] as one int8 inner product (an
// N-D MatMul input folded into rows); also the primitive behind QLinearMatMul.
#include <optional>

#include "../gemm_weights.h"
#include "../memory_descs.h"
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
      find_quantized_weights(view.input(), view.planned(index).node->inputs[1]);
  if (!weights || !int8_weights_fit(spec, *weights) || !int8_products_exact(*weights->values)) {
    return std::nullopt;
  }
  return weights;
}

// MatMul of an input of rank 3 or more with 2-D weights: the input's leading dims fold
// into the rows of one [rows, K] x [K, N] product (as in f32, ops/matmul.cpp).
std::optional<GemmSpec> folded_matmul_spec(const PlannedNode& node) {
  const graph::Node& graph_node = *node.node;
  if (graph_node.op_type != "MatMul" || !graph_node.domain.empty() || node.inputs.size() != 2 ||
      node.outputs.size() != 1 || node.inputs[0].shape.size() < 3 ||
      node.inputs[1].shape.size() != 2 || node.constants.size() < 2 ||
      node.constants[1] == nullptr || node.constants[1]->dtype() != DType::f32 ||
      node.outputs[0].dtype != DType::f32) {
    return std::nullopt;
  }
  return GemmSpec{node.constants[1], false, nullptr};
}

Shape rows_by_last(const Shape& shape) {
  std::int64_t rows = 1;
  for (std::size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  return {rows, shape.back()};
}

// What both forms share: the s8 weights as [N, K], the int32 bias and the attributes
// that requantize to the chain's output.
struct Int8Product {
  std::vector<std::int8_t> weights;
  Requantization requant;
  dnnl::primitive_attr attr;
  dnnl::post_ops post_ops;
};

std::optional<Int8Product> int8_product(const RegionContext& context, const GemmSpec& spec,
                                        const QuantizedAlias& input,
                                        const QuantizedWeights& weights,
                                        const QuantizedChain& chain, std::int64_t n) {
  std::optional<std::vector<std::int8_t>> values = int8_weights_nk(spec, weights);
  std::optional<dnnl::post_ops> post_ops = quantized_post_ops(chain, 1.0f, 0.0f, 2);
  if (!values || !post_ops) return std::nullopt;
  Int8Product product{std::move(*values), {}, context.base_attr(), std::move(*post_ops)};
  product.requant = requantization(input.quant, weights, product.weights, spec.bias, n,
                                   chain.dst_scale(), input.quant.zero_point != 0);
  product.attr.set_output_scales(1 << 1, product.requant.scales);
  product.attr.set_post_ops(product.post_ops);
  return product;
}

WeightedOperands operands_of(const std::string& source, const Int8Product& product, std::int64_t n,
                             std::int64_t k) {
  return {source, plain_desc({n, k}, memory::data_type::s8), product.weights.data(),
          plain_desc({static_cast<std::int64_t>(product.requant.bias.size())}),
          product.requant.bias.data()};
}

// The inner product on plain [rows, K] and [rows, N] views of the N-D values (the source
// reordered to row-major once if it lives in another layout).
bool emit_folded_int8_matmul(RegionContext& context, std::size_t index, const GemmSpec& spec,
                             const QuantizedAlias& input, const QuantizedWeights& weights,
                             const QuantizedChain& chain) {
  const PlannedNode& node = context.planned(index);
  const Shape a = rows_by_last(node.inputs[0].shape);
  const Shape c = rows_by_last(node.outputs[0].shape);
  const std::optional<Int8Product> product =
      int8_product(context, spec, input, weights, chain, c[1]);
  if (!product) return false;
  std::optional<InnerProductPd> pd;
  try {
    dnnl::inner_product_forward::desc desc(
        dnnl::prop_kind::forward_inference, plain_desc(a, input.quant.type),
        memory::desc({c[1], a[1]}, memory::data_type::s8, memory::format_tag::any),
        plain_desc({c[1]}), plain_desc(c, chain.dst_type()));
    pd.emplace(desc, product->attr, context.engine());
  } catch (const dnnl::error&) {
    return false;
  }
  if (is_reference_impl(*pd)) return false;
  const WeightedOperands operands = operands_of(input.source, *product, c[1], a[1]);
  const int src = context.use_as(input.source, plain_desc(node.inputs[0].shape, input.quant.type));
  OpArgs args = {
      {DNNL_ARG_SRC, context.activation_slot(context.storage_of(src), pd->src_desc())},
      {DNNL_ARG_WEIGHTS, context.constant_slot(context.pack(
                             pd->weights_desc(), operands.plain_weights, operands.weights))},
      {DNNL_ARG_BIAS,
       context.constant_slot(context.pack(pd->bias_desc(), operands.plain_bias, operands.bias))}};
  const OpArgs post_op_args = quantized_post_op_args(context, chain, product->post_ops);
  args.insert(args.end(), post_op_args.begin(), post_op_args.end());
  context.claim_chain(chain);
  const int dst =
      context.define_new(chain.output, plain_desc(node.outputs[0].shape, chain.dst_type()));
  args.emplace_back(DNNL_ARG_DST, context.activation_slot(context.storage_of(dst), pd->dst_desc()));
  context.add_compute_op(dnnl::inner_product_forward(*pd), std::move(args), pd->scratchpad_desc());
  return true;
}

using SpecParser = std::optional<GemmSpec> (*)(const PlannedNode&);
using Emitter = bool (*)(RegionContext&, std::size_t, const GemmSpec&, const QuantizedAlias&,
                         const QuantizedWeights&, const QuantizedChain&);

template <SpecParser Parse>
bool match_with(const MatchView& view, std::size_t index) {
  if (!view.reads_alias(index, 0)) return false;
  const std::optional<GemmSpec> spec = Parse(view.planned(index));
  return spec && gemm_int8_weights(view, index, *spec);
}

template <SpecParser Parse, Emitter Emit>
bool lower_with(RegionContext& context, std::size_t index) {
  const PlannedNode& node = context.planned(index);
  const GemmSpec spec = *Parse(node);
  const QuantizedAlias& input = *context.alias_of(node.node->inputs[0]);
  const QuantizedWeights weights = *gemm_int8_weights(context, index, spec);
  const QuantizedChain bridged =
      context.collect_quantized_chain(index, node.outputs[0].shape.back());
  const bool emitted =
      (bridged.bridge && Emit(context, index, spec, input, weights, bridged)) ||
      Emit(context, index, spec, input, weights, context.collect_quantized_chain(index));
  if (!emitted) return false;
  context.note_packed_from_origin(node.node->inputs[1], index);
  return true;
}

}  // namespace

bool match_int8_matmul(const MatchView& view, std::size_t index) {
  return match_with<folded_matmul_spec>(view, index);
}

bool lower_int8_matmul(RegionContext& context, std::size_t index) {
  return lower_with<folded_matmul_spec, emit_folded_int8_matmul>(context, index);
}

bool match_int8_gemm(const MatchView& view, std::size_t index) {
  return match_with<parse_gemm>(view, index);
}

bool lower_int8_gemm(RegionContext& context, std::size_t index) {
  return lower_with<parse_gemm, emit_int8_gemm>(context, index);
}

bool emit_int8_gemm(RegionContext& context, std::size_t index, const GemmSpec& spec,
                    const QuantizedAlias& input, const QuantizedWeights& weights,
                    const QuantizedChain& chain) {
  const PlannedNode& node = context.planned(index);
  if (context.value(input.source).md.dims().size() != 2) return false;
  const std::int64_t n = node.outputs[0].shape[1];
  const std::int64_t k = node.inputs[0].shape[1];
  const std::optional<Int8Product> product = int8_product(context, spec, input, weights, chain, n);
  if (!product) return false;
  const ScopedOmpThreads scoped(int8_op_threads(context, element_count(node.outputs[0].shape) * k));
  std::optional<InnerProductPd> pd;
  try {
    dnnl::inner_product_forward::desc desc(
        dnnl::prop_kind::forward_inference,
        memory::desc(node.inputs[0].shape, input.quant.type, memory::format_tag::any),
        memory::desc({n, k}, memory::data_type::s8, memory::format_tag::any), plain_desc({n}),
        memory::desc(node.outputs[0].shape, chain.dst_type(), memory::format_tag::any));
    pd.emplace(desc, product->attr, context.engine());
  } catch (const dnnl::error&) {
    return false;
  }
  add_weighted_op<dnnl::inner_product_forward>(
      context, *pd, operands_of(input.source, *product, n, k),
      quantized_post_op_args(context, chain, product->post_ops), [&](const memory::desc& dst) {
        context.claim_chain(chain);
        return context.define_new(chain.output, dst);
      });
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
