#include "post_ops.h"

namespace edgeperf::runtime::onednn {

dnnl::post_ops make_post_ops(const std::vector<ChainLink>& links, std::size_t count) {
  dnnl::post_ops post_ops;
  for (std::size_t i = 0; i < count; ++i) {
    if (links[i].sum) post_ops.append_sum(1.0f);
    for (const EltwiseOp& op : links[i].eltwise) {
      post_ops.append_eltwise(1.0f, op.algorithm, op.alpha, op.beta);
    }
  }
  return post_ops;
}

const ChainLink* sum_link(const std::vector<ChainLink>& links, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (links[i].sum) return &links[i];
  }
  return nullptr;
}

// The linear part is one op (oneDNN 2.6 mixes up the constants of two linear post-ops
// in one primitive); the activations follow as clips.
std::optional<dnnl::post_ops> quantized_post_ops(const QuantizedChain& chain, float alpha,
                                                 float beta) {
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
