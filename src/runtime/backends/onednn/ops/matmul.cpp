// f32 MatMul beyond the inner product: batched (rank 3 to 5, B's batch dims broadcast)
// with constant or computed B, and 2-D MatMul of two computed values, as oneDNN's matmul
// primitive with activations fused. Operands are plain row-major.
#include <optional>
#include <string_view>

#include "../memory_descs.h"
#include "../post_ops.h"
#include "bias_add.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

// A slot holding `name` row-major with `padded` dims (its shape with leading 1s).
int plain_slot(RegionContext& context, const std::string& name, const Shape& shape,
               const Shape& padded) {
  const int slot = context.use_as(name, plain_desc(shape));
  if (padded == shape) return slot;
  return context.activation_slot(context.storage_of(slot), plain_desc(padded));
}

// Large constant weights read by many rows are used in place, row-major, instead of a
// packed copy: the kernel then blocks them on the fly, which ViT-B/16 (197 rows) measured
// at about 3% slower, and the weights are not held twice (its peak RSS fell from 754 to
// 446 MiB). With few rows that blocking is not amortized, so those weights are packed.
// Weights the session releases once packed (initializer_releases.h) are packed anyway.
bool borrows_weights(const MatMulSpec& spec) {
  constexpr std::size_t kMinBorrowedBytes = std::size_t{1} << 20;
  constexpr std::int64_t kMinRows = 64;
  if (spec.b_constant == nullptr || spec.b_constant->nbytes() < kMinBorrowedBytes ||
      spec.b_dims.size() != 2) {
    return false;
  }
  std::int64_t rows = 1;
  for (std::size_t i = 0; i + 1 < spec.a_dims.size(); ++i) rows *= spec.a_dims[i];
  return rows >= kMinRows;
}

// With row-major weights, oneDNN's first choice (brgemm) re-blocks them for every block
// of rows, while its jit GEMM packs each operand once per call in large panels: on
// ViT-B/16's MLP weights (197 rows) 6.3 ms against 12.8 ms a layer. Where the GEMM
// implementation exists (x86-64), it is taken.
dnnl::matmul::primitive_desc prefer_jit_gemm(const dnnl::matmul::primitive_desc& first) {
  dnnl::matmul::primitive_desc candidate = first;
  do {
    if (std::string_view(candidate.impl_info_str()).starts_with("gemm:jit")) return candidate;
  } while (candidate.next_impl());
  return first;
}

std::optional<dnnl::matmul::primitive_desc> make_pd(const RegionContext& context,
                                                    const MatMulSpec& spec, bool borrow,
                                                    const std::optional<BiasAdd>& bias,
                                                    const std::vector<ChainLink>& links,
                                                    std::size_t count) {
  try {
    const bool packed = spec.b_constant != nullptr && !borrow;
    const memory::desc weights = packed ? any_desc(spec.b_dims) : plain_desc(spec.b_dims);
    const memory::desc bias_md = bias ? plain_desc(bias->dims) : memory::desc();
    dnnl::matmul::desc desc(plain_desc(spec.a_dims), weights, bias_md, plain_desc(spec.c_dims));
    dnnl::primitive_attr attr = context.base_attr();
    attr.set_post_ops(make_post_ops(links, count));
    dnnl::matmul::primitive_desc pd(desc, attr, context.engine());
    if (!packed && spec.b_constant != nullptr) pd = prefer_jit_gemm(pd);
    if (is_reference_impl(pd)) return std::nullopt;
    return pd;
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

}  // namespace

bool match_matmul(const MatchView& view, std::size_t index) {
  return parse_matmul(view.planned(index)).has_value();
}

bool lower_matmul(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const PlannedNode& node = context.planned(index);
  const MatMulSpec spec = *parse_matmul(node);
  const std::optional<BiasAdd> bias =
      find_bias_add(context, index, spec.c_dims.back(), spec.c_dims.size());
  const std::string& last = bias ? context.output_of(bias->node) : context.output_of(index);
  const std::vector<ChainLink> links = context.collect_chain_from(index, last, false, false);
  // Weights the session lets go once packed are packed whatever their size: held once.
  const bool release = spec.b_constant != nullptr && context.may_release_input(index, 1);
  const bool borrow = borrows_weights(spec) && !release;
  for (std::size_t count = links.size() + 1; count-- > 0;) {
    const std::optional<dnnl::matmul::primitive_desc> pd =
        make_pd(context, spec, borrow, bias, links, count);
    if (!pd) continue;
    const std::vector<std::string>& inputs = node.node->inputs;
    OpArgs args = {
        {DNNL_ARG_SRC, plain_slot(context, inputs[0], node.inputs[0].shape, spec.a_dims)}};
    if (borrow) {
      args.emplace_back(DNNL_ARG_WEIGHTS,
                        context.borrowed_constant_slot(pd->weights_desc(), *spec.b_constant));
    } else if (spec.b_constant) {
      const memory::desc plain = plain_desc(spec.b_dims);
      const PackedConstant packed = context.pack(pd->weights_desc(), plain, spec.b_constant->raw());
      if (release) context.release_input(index, 1, packed, plain);
      args.emplace_back(DNNL_ARG_WEIGHTS, context.constant_slot(packed));
    } else {
      args.emplace_back(DNNL_ARG_WEIGHTS,
                        plain_slot(context, inputs[1], node.inputs[1].shape, spec.b_dims));
    }
    if (bias) {
      args.emplace_back(DNNL_ARG_BIAS,
                        context.constant_slot(context.pack(pd->bias_desc(), plain_desc(bias->dims),
                                                           bias->bias->raw())));
      context.claim(bias->node);
    }
    context.claim_links(links, count);
    // The value keeps the node's shape; the primitive writes the same bytes as c_dims.
    const int dst =
        context.define_chain_output(links, count, last, plain_desc(node.outputs[0].shape));
    args.emplace_back(DNNL_ARG_DST,
                      context.activation_slot(context.storage_of(dst), pd->dst_desc()));
    context.add_compute_op(dnnl::matmul(*pd), std::move(args), pd->scratchpad_desc());
    return true;
  }
  return false;
}

}  // namespace edgeperf::runtime::onednn::ops
