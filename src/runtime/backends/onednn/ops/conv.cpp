// f32 Conv with its fused chain: a folded BatchNormalization, activations and a
// residual Add (sum post-op). A final swish on a large output runs as our own pass after
// the primitive (output_tail.h): on AVX-512 oneDNN 2.6's swish post-op took 0.35 ns per
// element and ours 0.17, and EfficientNet-B0 went from 8.3 to 7.1 ms on one thread. On
// more threads only after a pointwise conv run in pixel parts (pixel_parts.h): after
// oneDNN's own split (output channels between threads) each thread's pass read half its
// part from the other core's cache, and EfficientNet's 1x1 convs with swish took 2.14 ms
// against 2.04 as post-ops. In pixel parts, 16 -> 96 channels at 112 x 112 took 244 us
// against 343 with the post-op.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string_view>

#include "../batch_norm_fold.h"
#include "../post_ops.h"
#include "../swish.h"
#include "weighted_op.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using ConvPd = dnnl::convolution_forward::primitive_desc;

// Below this many output elements the swish stays a post-op: our pass costs an op.
constexpr std::int64_t kMinSwishTailElements = 16384;
// An input of at most this many channels is an image (RGB, RGBA, gray): oneDNN's direct
// conv reads it in NCHW (ActivationLayout::blocked).
constexpr memory::dim kMaxImageChannels = 4;

// A primitive, and how many parts of the batch it runs over (1: the whole batch).
struct ConvChoice {
  ConvPd pd;
  memory::dim chunks = 1;
};

bool is_winograd(const ConvPd& pd) {
  return pd.weights_desc().data.format_kind == dnnl_format_kind_wino;
}

Shape with_first_dim(Shape shape, std::int64_t first) {
  shape[0] = first;
  return shape;
}

Shape grouped_weight_dims(const ConvSpec& spec) {
  const Shape& w = spec.weights->shape();
  return spec.group == 1 ? w : Shape{spec.group, w[0] / spec.group, w[1], w[2], w[3]};
}

PackedWeights conv_weights(const RegionContext& context, const ConvSpec& spec,
                           const std::vector<ChainLink>& links) {
  PackedWeights packed{to_vector(spec.weights), to_vector(spec.bias)};
  if (links.empty() || !links[0].fold_batch_norm) return packed;
  return fold_batch_norm(std::move(packed), spec.weights->dim(0),
                         *parse_batch_norm(context.planned(links[0].node)));
}

class ConvLowering {
 public:
  ConvLowering(RegionContext& context, std::size_t index, const ConvSpec& spec)
      : context_(context),
        index_(index),
        spec_(spec),
        x_(context.planned(index).node->inputs[0]),
        y_shape_(context.planned(index).outputs[0].shape),
        weight_dims_(grouped_weight_dims(spec)),
        links_(context.collect_chain(index, true, true)),
        packed_(conv_weights(context, spec, links_)),
        bias_md_(packed_.bias.empty() ? memory::desc() : plain_desc({spec.weights->dim(0)})) {}

  // Tries the longest chain first; a BatchNormalization that folds is always kept.
  bool lower() {
    const std::size_t minimum = !links_.empty() && links_[0].fold_batch_norm ? 1 : 0;
    const int threads = context_.input().threads;
    for (std::size_t count = links_.size() + 1; count-- > minimum;) {
      swish_tail_ = ends_in_swish(links_, count) &&
                    element_count(y_shape_) >= kMinSwishTailElements &&
                    (threads == 1 || is_pointwise(spec_));
      std::optional<ConvPd> pd = choose_pd(count);
      pixel_parts_.clear();
      if (pd && swish_tail_ && threads > 1) {
        pixel_parts_ = pixel_parts(*pd, count, threads);
        if (pixel_parts_.empty()) {  // the swish goes back into the post-ops
          swish_tail_ = false;
          pd = choose_pd(count);
        }
      }
      if (pd) {
        if (!pixel_parts_.empty()) {
          add_in_pixel_parts(*pd, count);
          return true;
        }
        const std::optional<ConvChoice> shared =
            is_winograd(*pd) ? shared_winograd(count, *pd) : std::nullopt;
        add(shared.value_or(ConvChoice{*pd, 1}), count);
        return true;
      }
    }
    return false;
  }

 private:
  std::optional<ConvPd> make_pd(const memory::desc& src, const memory::desc& dst, std::size_t count,
                                algorithm kind) const {
    try {
      dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, kind, src,
                                           any_desc(weight_dims_), bias_md_, dst, spec_.strides,
                                           spec_.dilations, spec_.pad_left, spec_.pad_right);
      dnnl::primitive_attr attr = context_.base_attr();
      attr.set_post_ops(make_post_ops(links_, count, swish_tail_));
      return ConvPd(desc, attr, context_.engine());
    } catch (const dnnl::error&) {
      return std::nullopt;
    }
  }

  std::optional<ConvPd> optimized_pd(const memory::desc& src, const memory::desc& dst,
                                     std::size_t count, algorithm kind) const {
    std::optional<ConvPd> pd = make_pd(src, dst, count, kind);
    if (pd && is_reference_impl(*pd)) pd.reset();
    return pd;
  }

  // Keep the producer's layout when an optimized implementation takes it, so
  // consecutive convs need no reorder; otherwise let oneDNN choose.
  std::optional<ConvPd> choose_pd(std::size_t count) const {
    const ChainLink* sum = sum_link(links_, count);
    const memory::desc x_md = context_.value(x_).md;
    const memory::desc any_src = any_desc(x_md.dims());
    const memory::desc any_dst = sum ? context_.value(sum->sum_operand).md : any_desc(y_shape_);
    std::optional<ConvPd> pd;
    if (is_winograd_candidate(spec_)) {
      // A 3x3 stride-1 conv does about half the multiplies in the Winograd domain;
      // oneDNN's convolution_auto does not pick it, so ask for it by name.
      pd = optimized_pd(any_src, any_dst, count, algorithm::convolution_winograd);
    }
    const std::optional<memory::format_tag> x_layout = activation_layout(x_md);
    if (!pd && x_layout) {
      const memory::desc dst =
          sum ? any_dst : memory::desc(y_shape_, memory::data_type::f32, *x_layout);
      pd = optimized_pd(x_md, dst, count, algorithm::convolution_direct);
    }
    if (!pd && !x_layout && !sum && !context_.prefer_blocked() && reads_plain_image(x_md)) {
      context_.note_layout_sensitive();  // the automatic layout lets oneDNN choose below
      if (context_.blocked_activations()) pd = blocked_from_plain(x_md, count);
    }
    if (!pd && context_.prefer_blocked() && !sum) {
      // Winograd convs work in 16-channel blocks; producing that layout here saves
      // a reorder before each of them.
      pd = optimized_pd(any_src,
                        memory::desc(y_shape_, memory::data_type::f32, memory::format_tag::aBcd16b),
                        count, algorithm::convolution_direct);
    }
    if (!pd) pd = make_pd(any_src, any_dst, count, algorithm::convolution_direct);
    return pd;
  }

  bool reads_plain_image(const memory::desc& x_md) const {
    return x_md.dims().size() == 4 && x_md == plain_desc(x_md.dims()) && spec_.group == 1 &&
           x_md.dims()[1] <= kMaxImageChannels;
  }

  // oneDNN's direct conv reads a few-channel NCHW image as it is and writes 16-channel
  // blocks; where it does not, the image is reordered to what the conv asks for.
  std::optional<ConvPd> blocked_from_plain(const memory::desc& x_md, std::size_t count) const {
    const memory::desc blocked(y_shape_, memory::data_type::f32, memory::format_tag::aBcd16b);
    std::optional<ConvPd> pd = optimized_pd(x_md, blocked, count, algorithm::convolution_direct);
    if (pd && std::string_view(pd->impl_info_str()).starts_with("gemm")) pd.reset();
    if (!pd) {
      pd = optimized_pd(any_desc(x_md.dims()), blocked, count, algorithm::convolution_direct);
    }
    return pd;
  }

  // A Winograd conv's packed weight layout depends on the batch. When an earlier plan of
  // the session packed these weights for a batch dividing this one, this plan runs that
  // primitive over parts of the batch and shares them instead of packing its own.
  std::optional<ConvChoice> shared_winograd(std::size_t count, const ConvPd& whole) const {
    const PackedConstantCache* cache = context_.settings().packed_constants;
    const memory::dim batch = y_shape_[0];
    if (cache == nullptr || batch < 2) return std::nullopt;
    const PackedConstantCache::Content weights =
        PackedConstantCache::content_of(plain_desc(weight_dims_), packed_.weights.data());
    if (cache->holds(whole.weights_desc(), weights)) return std::nullopt;
    const ChainLink* sum = sum_link(links_, count);
    const Shape& x_dims = context_.value(x_).md.dims();
    for (memory::dim part = batch / 2; part >= 1; --part) {
      if (batch % part != 0) continue;
      const std::optional<memory::desc> dst =
          sum ? with_batch(context_.value(sum->sum_operand).md, part)
              : std::optional(any_desc(with_first_dim(y_shape_, part)));
      if (!dst) continue;
      std::optional<ConvPd> pd = optimized_pd(any_desc(with_first_dim(x_dims, part)), *dst, count,
                                              algorithm::convolution_winograd);
      if (pd && is_winograd(*pd) && with_batch(pd->src_desc(), batch) &&
          with_batch(pd->dst_desc(), batch) && cache->holds(pd->weights_desc(), weights)) {
        return ConvChoice{*pd, batch / part};
      }
    }
    return std::nullopt;
  }

  WeightedOperands operands() const {
    return {x_, plain_desc(weight_dims_), packed_.weights.data(), bias_md_,
            packed_.bias.empty() ? nullptr : packed_.bias.data()};
  }

  auto define_dst(std::size_t count) {
    return [this, count](const memory::desc& dst) {
      context_.claim_links(links_, count);
      return context_.define_chain_output(links_, count, context_.output_of(index_), dst);
    };
  }

  void add(const ConvChoice& choice, std::size_t count) {
    add_weighted_op<dnnl::convolution_forward>(context_, choice.pd, operands(), {},
                                               define_dst(count), choice.chunks, swish_tail_);
  }

  // One part per thread over contiguous pixel ranges (pixel_parts.h).
  std::vector<PixelPart> pixel_parts(const ConvPd& whole, std::size_t count, int threads) const {
    const std::int64_t in_channels = spec_.weights->dim(1), out_channels = spec_.weights->dim(0);
    return split_pixels(
        whole, element_count(y_shape_) / y_shape_[1], threads, [&](std::int64_t pixels) {
          return optimized_pd(pixel_row_desc(in_channels, pixels, memory::data_type::f32),
                              pixel_row_desc(out_channels, pixels, memory::data_type::f32), count,
                              algorithm::convolution_direct);
        });
  }

  void add_in_pixel_parts(const ConvPd& whole, std::size_t count) {
    add_conv_in_pixel_parts(
        context_, whole, pixel_parts_, operands(), {}, define_dst(count),
        [](void* dst, std::int64_t elements) {
          swish(static_cast<float*>(dst), static_cast<float*>(dst), elements);
        },
        " + edgeperf swish");
  }

  RegionContext& context_;
  std::size_t index_;
  const ConvSpec& spec_;
  const std::string& x_;
  const Shape& y_shape_;
  Shape weight_dims_;
  std::vector<ChainLink> links_;
  PackedWeights packed_;
  memory::desc bias_md_;
  bool swish_tail_ = false;             // the chain's final swish runs after the primitive
  std::vector<PixelPart> pixel_parts_;  // set: the conv runs in these parts
};

}  // namespace

bool match_conv(const MatchView& view, std::size_t index) {
  return parse_conv(view.planned(index)).has_value();
}

bool lower_conv(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const ConvSpec spec = *parse_conv(context.planned(index));
  return ConvLowering(context, index, spec).lower();
}

}  // namespace edgeperf::runtime::onednn::ops
