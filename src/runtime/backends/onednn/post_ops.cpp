#include "post_ops.h"

#include <algorithm>

#include "memory_descs.h"

namespace edgeperf::runtime::onednn {

dnnl::post_ops make_post_ops(const std::vector<ChainLink>& links, std::size_t count,
                             bool drop_final_swish) {
  dnnl::post_ops post_ops;
  for (std::size_t i = 0; i < count; ++i) {
    if (links[i].sum) post_ops.append_sum(1.0f);
    std::size_t eltwise = links[i].eltwise.size();
    if (drop_final_swish && i + 1 == count) --eltwise;
    for (std::size_t e = 0; e < eltwise; ++e) {
      const EltwiseOp& op = links[i].eltwise[e];
      post_ops.append_eltwise(1.0f, op.algorithm, op.alpha, op.beta);
    }
  }
  return post_ops;
}

bool ends_in_swish(const std::vector<ChainLink>& links, std::size_t count) {
  if (count == 0 || links[count - 1].eltwise.empty()) return false;
  const EltwiseOp& last = links[count - 1].eltwise.back();
  return last.algorithm == dnnl::algorithm::eltwise_swish && last.alpha == 1.0f;
}

const ChainLink* sum_link(const std::vector<ChainLink>& links, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (links[i].sum) return &links[i];
  }
  return nullptr;
}

namespace {

bool has_linear(const std::vector<EltwiseOp>& ops) {
  return std::any_of(ops.begin(), ops.end(), [](const EltwiseOp& op) {
    return op.algorithm == dnnl::algorithm::eltwise_linear;
  });
}

// v is the op's result in units of the first quantization, without its zero point.
// Rounding it and clamping to the type's range less the zero point gives q - zero_point
// exactly as QuantizeLinear (round(x / scale) + zero_point, saturated); the clamp's
// output scale makes it real again. Then the Add, the activations and the final
// quantization, whose rounding and saturation is the conversion to the output type (none
// for an f32 result).
std::optional<dnnl::post_ops> bridged_post_ops(const QuantizedChain& chain, int dst_rank) {
  const ActivationQuant& first = *chain.quant;
  const QuantizedBridge& bridge = *chain.bridge;
  auto clips = quantized_activation(chain.eltwise, first.scale, 0);
  if (!clips || has_linear(bridge.eltwise) || (!bridge.addend.empty() && dst_rank < 2)) {
    return std::nullopt;
  }
  const bool is_u8 = first.type == dnnl::memory::data_type::u8;
  const float zero = static_cast<float>(first.zero_point);
  dnnl::post_ops post_ops;
  for (const EltwiseOp& op : *clips) {
    post_ops.append_eltwise(1.0f, op.algorithm, op.alpha, op.beta);
  }
  post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_round, 0.0f, 0.0f);
  post_ops.append_eltwise(first.scale, dnnl::algorithm::eltwise_clip,
                          (is_u8 ? 0.0f : -128.0f) - zero, (is_u8 ? 255.0f : 127.0f) - zero);
  if (!bridge.addend.empty()) {
    Shape dims(static_cast<std::size_t>(dst_rank), 1);
    dims[1] = static_cast<std::int64_t>(bridge.addend.size());
    post_ops.append_binary(dnnl::algorithm::binary_add, plain_desc(dims));
  }
  for (const EltwiseOp& op : bridge.eltwise) {
    post_ops.append_eltwise(1.0f, op.algorithm, op.alpha, op.beta);
  }
  if (bridge.quant) {
    post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, 1.0f / bridge.quant->scale,
                            static_cast<float>(bridge.quant->zero_point));
  }
  return post_ops;
}

}  // namespace

OpArgs quantized_post_op_args(RegionContext& context, const QuantizedChain& chain,
                              const dnnl::post_ops& post_ops) {
  OpArgs args;
  if (!chain.bridge) return args;
  for (int i = 0; i < post_ops.len(); ++i) {
    if (post_ops.kind(i) != dnnl::primitive::kind::binary) continue;
    dnnl::algorithm algorithm{};
    dnnl::memory::desc md;
    post_ops.get_params_binary(i, algorithm, md);
    args.emplace_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1,
                      context.constant_slot(context.pack(md, md, chain.bridge->addend.data())));
  }
  return args;
}

// The linear part is one op (oneDNN 2.6 mixes up the constants of two linear post-ops
// in one primitive); the activations follow as clips.
std::optional<dnnl::post_ops> quantized_post_ops(const QuantizedChain& chain, float alpha,
                                                 float beta, int dst_rank) {
  if (chain.bridge) {
    if (alpha != 1.0f || beta != 0.0f) return std::nullopt;
    return bridged_post_ops(chain, dst_rank);
  }
  const float zero = chain.quant ? static_cast<float>(chain.quant->zero_point) : 0.0f;
  std::vector<EltwiseOp> activations = chain.eltwise;
  if (chain.quant) {
    auto clips = quantized_activation(chain.eltwise, chain.quant->scale, chain.quant->zero_point);
    if (!clips) return std::nullopt;
    activations = *clips;
  }
  dnnl::post_ops post_ops;
  if (alpha != 1.0f || beta + zero != 0.0f) {
    for (const EltwiseOp& op : activations) {
      if (op.algorithm == dnnl::algorithm::eltwise_linear) return std::nullopt;
    }
    post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_linear, alpha, beta + zero);
  }
  for (const EltwiseOp& op : activations) {
    post_ops.append_eltwise(1.0f, op.algorithm, op.alpha, op.beta);
  }
  return post_ops;
}

}  // namespace edgeperf::runtime::onednn
