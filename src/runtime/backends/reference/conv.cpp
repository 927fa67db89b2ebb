// Conv (1-D, 2-D, 3-D; groups, dilations, strides, pads, auto_pad), direct loops.
#include <algorithm>

#include "conv_geometry.h"
#include "ops.h"
#include "spatial.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

ConvGeometry conv_geometry(const PrepareContext& context) {
  check_input_count(context, 2, 3);
  check_dtype(context, 0, {DType::f32}, "X");
  check_dtype(context, 1, {DType::f32}, "W");
  const ConvGeometry g = resolve_conv_geometry(context, 0, 1, "X", "W");
  if (context.has_input(2)) {
    check_dtype(context, 2, {DType::f32}, "B");
    EP_CHECK(context.inputs[2].shape == Shape{g.out_channels},
             "node {}: bias B {} must have shape [{}]", context.node.label(),
             shape_to_string(context.inputs[2].shape), g.out_channels);
  }
  return g;
}

// Adds the contribution of one input channel plane into kBlock output planes at once
// (each input row is read once for all of them). weights[b] points at the kernel of
// output b for this input channel.
template <int kBlock>
void accumulate_planes(const ConvGeometry& g, const std::vector<Tap>& taps,
                       const float* __restrict x, const float* const* weights, float* const* outs) {
  const auto [D, H, W] = g.input;
  const auto [OD, OH, OW] = g.output;
  const std::int64_t sw = g.strides[2];
  for (const Tap& tap : taps) {
    float weight[kBlock];
    for (int b = 0; b < kBlock; ++b) weight[b] = weights[b][tap.index];
    const std::int64_t shift_w = tap.shift[2];
    for (std::int64_t od = tap.lo[0]; od < tap.hi[0]; ++od) {
      const std::int64_t id = od * g.strides[0] + tap.shift[0];
      for (std::int64_t oh = tap.lo[1]; oh < tap.hi[1]; ++oh) {
        const std::int64_t ih = oh * g.strides[1] + tap.shift[1];
        const float* __restrict in_row = x + (id * H + ih) * W;
        const std::int64_t row = (od * OH + oh) * OW;
        for (int b = 0; b < kBlock; ++b) {
          float* __restrict out_row = outs[b] + row;
          const float w = weight[b];
          if (sw == 1) {
            for (std::int64_t ow = tap.lo[2]; ow < tap.hi[2]; ++ow) {
              out_row[ow] += w * in_row[ow + shift_w];
            }
          } else {
            for (std::int64_t ow = tap.lo[2]; ow < tap.hi[2]; ++ow) {
              out_row[ow] += w * in_row[ow * sw + shift_w];
            }
          }
        }
      }
    }
  }
}

constexpr std::int64_t kChannelBlock = 4;

void run_conv(const ConvGeometry& g, const std::vector<Tap>& taps, int threads, const float* x,
              const float* w, const float* bias, float* y) {
  const std::int64_t in_plane = g.input[0] * g.input[1] * g.input[2];
  const std::int64_t out_plane = g.output[0] * g.output[1] * g.output[2];
  const std::int64_t kernel_size = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const std::int64_t group_in = g.in_channels / g.group;
  const std::int64_t group_out = g.out_channels / g.group;
  // Jobs: (batch, group, block of up to kChannelBlock output channels of that group).
  const std::int64_t blocks = (group_out + kChannelBlock - 1) / kChannelBlock;
  const std::int64_t jobs = g.batch * g.group * blocks;
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (std::int64_t job = 0; job < jobs; ++job) {
    const std::int64_t n = job / (g.group * blocks);
    const std::int64_t group = job / blocks % g.group;
    const std::int64_t first = group * group_out + job % blocks * kChannelBlock;
    const std::int64_t count = std::min(kChannelBlock, (group + 1) * group_out - first);
    float* outs[kChannelBlock];
    const float* weights[kChannelBlock];
    for (std::int64_t b = 0; b < count; ++b) {
      outs[b] = y + (n * g.out_channels + first + b) * out_plane;
      std::fill(outs[b], outs[b] + out_plane, bias != nullptr ? bias[first + b] : 0.0f);
    }
    for (std::int64_t c = 0; c < group_in; ++c) {
      const float* in = x + (n * g.in_channels + group * group_in + c) * in_plane;
      for (std::int64_t b = 0; b < count; ++b) {
        weights[b] = w + ((first + b) * group_in + c) * kernel_size;
      }
      if (count == kChannelBlock) {
        accumulate_planes<kChannelBlock>(g, taps, in, weights, outs);
      } else {
        for (std::int64_t b = 0; b < count; ++b) {
          accumulate_planes<1>(g, taps, in, weights + b, outs + b);
        }
      }
    }
  }
}

// ---- Channels-inner path, for convolutions with many output channels per group ----
// Innermost loop over output channels (weights packed [group][in channel][tap][out channel]),
// accumulating a tile of output pixels of one row in a small buffer.

constexpr std::int64_t kMinChannelsInner = 16;
constexpr std::int64_t kPixelTile = 8;
constexpr std::int64_t kOutputChannelTile = 256;

void pack_weights(const ConvGeometry& g, const float* w, float* packed) {
  const std::int64_t taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const std::int64_t group_in = g.in_channels / g.group;
  const std::int64_t group_out = g.out_channels / g.group;
  for (std::int64_t group = 0; group < g.group; ++group)
    for (std::int64_t m = 0; m < group_out; ++m)
      for (std::int64_t c = 0; c < group_in; ++c)
        for (std::int64_t t = 0; t < taps; ++t) {
          packed[((group * group_in + c) * taps + t) * group_out + m] =
              w[((group * group_out + m) * group_in + c) * taps + t];
        }
}

void run_conv_channels_inner(const ConvGeometry& g, int threads, const float* x,
                             const float* packed, const float* bias, float* y) {
  const auto [D, H, W] = g.input;
  const auto [OD, OH, OW] = g.output;
  const std::int64_t taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const std::int64_t group_in = g.in_channels / g.group;
  const std::int64_t group_out = g.out_channels / g.group;
  const std::int64_t in_plane = D * H * W;
  const std::int64_t out_plane = OD * OH * OW;
  const std::int64_t channel_tiles = (group_out + kOutputChannelTile - 1) / kOutputChannelTile;
  const std::int64_t jobs = g.batch * g.group * OD * OH * channel_tiles;
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (std::int64_t job = 0; job < jobs; ++job) {
    std::int64_t rest = job;
    const std::int64_t tile = rest % channel_tiles;
    rest /= channel_tiles;
    const std::int64_t oh = rest % OH;
    rest /= OH;
    const std::int64_t od = rest % OD;
    rest /= OD;
    const std::int64_t group = rest % g.group;
    const std::int64_t n = rest / g.group;
    const std::int64_t m0 = tile * kOutputChannelTile;
    const std::int64_t channels = std::min(kOutputChannelTile, group_out - m0);
    const std::int64_t first_out = group * group_out + m0;
    float acc[kPixelTile][kOutputChannelTile];
    for (std::int64_t ow0 = 0; ow0 < OW; ow0 += kPixelTile) {
      const std::int64_t pixels = std::min(kPixelTile, OW - ow0);
      for (std::int64_t p = 0; p < pixels; ++p)
        for (std::int64_t m = 0; m < channels; ++m) {
          acc[p][m] = bias != nullptr ? bias[first_out + m] : 0.0f;
        }
      for (std::int64_t c = 0; c < group_in; ++c) {
        const float* plane = x + (n * g.in_channels + group * group_in + c) * in_plane;
        for (std::int64_t kd = 0; kd < g.kernel[0]; ++kd) {
          const std::int64_t id = od * g.strides[0] - g.pads[0] + kd * g.dilations[0];
          if (id < 0 || id >= D) continue;
          for (std::int64_t kh = 0; kh < g.kernel[1]; ++kh) {
            const std::int64_t ih = oh * g.strides[1] - g.pads[1] + kh * g.dilations[1];
            if (ih < 0 || ih >= H) continue;
            const float* row = plane + (id * H + ih) * W;
            for (std::int64_t kw = 0; kw < g.kernel[2]; ++kw) {
              const std::int64_t tap = (kd * g.kernel[1] + kh) * g.kernel[2] + kw;
              const float* __restrict weights =
                  packed + ((group * group_in + c) * taps + tap) * group_out + m0;
              for (std::int64_t p = 0; p < pixels; ++p) {
                const std::int64_t iw = (ow0 + p) * g.strides[2] - g.pads[2] + kw * g.dilations[2];
                if (iw < 0 || iw >= W) continue;
                const float value = row[iw];
                float* __restrict a = acc[p];
                for (std::int64_t m = 0; m < channels; ++m) a[m] += value * weights[m];
              }
            }
          }
        }
      }
      for (std::int64_t m = 0; m < channels; ++m) {
        float* out =
            y + (n * g.out_channels + first_out + m) * out_plane + (od * OH + oh) * OW + ow0;
        for (std::int64_t p = 0; p < pixels; ++p) out[p] = acc[p][m];
      }
    }
  }
}

}  // namespace

void infer_conv(PrepareContext& context) {
  const ConvGeometry g = conv_geometry(context);
  prepare_outputs(context, 1, 1);
  const std::size_t spatial = context.inputs[0].shape.size() - 2;
  Shape out{g.batch, g.out_channels};
  for (std::size_t i = 3 - spatial; i < 3; ++i) out.push_back(g.output[i]);
  set_output(context, 0, DType::f32, out);
}

std::unique_ptr<Kernel> create_conv(const PrepareContext& context) {
  const ConvGeometry g = conv_geometry(context);
  const bool has_bias = context.has_input(2);
  if (g.out_channels / g.group >= kMinChannelsInner) {
    // Weights packed once when constant, else on every run into the same buffer.
    const Tensor* constant_weights = context.constant(1);
    auto packed =
        std::make_shared<std::vector<float>>(static_cast<std::size_t>(context.inputs[1].numel()));
    if (constant_weights != nullptr)
      pack_weights(g, constant_weights->data<float>(), packed->data());
    const bool repack = constant_weights == nullptr;
    return make_parallel_kernel(
        [g, has_bias, packed, repack](int threads, std::span<const Tensor> in,
                                      std::span<Tensor> out) {
          if (repack) pack_weights(g, in[1].data<float>(), packed->data());
          run_conv_channels_inner(g, threads, in[0].data<float>(), packed->data(),
                                  has_bias ? in[2].data<float>() : nullptr, out[0].data<float>());
        },
        packed->size() * sizeof(float));
  }
  const std::vector<Tap> taps = kernel_taps(g);
  return make_parallel_kernel(
      [g, taps, has_bias](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
        run_conv(g, taps, threads, in[0].data<float>(), in[1].data<float>(),
                 has_bias ? in[2].data<float>() : nullptr, out[0].data<float>());
      });
}

}  // namespace edgeperf::runtime::reference
