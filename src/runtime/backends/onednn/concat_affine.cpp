#include "concat_affine.h"

#include <algorithm>

#include "edgeperf/graph/ops/batch_norm.h"
#include "node_specs.h"

namespace edgeperf::runtime::onednn {

using dnnl::memory;

std::vector<ConcatAffineTask> concat_affine_tasks(const std::vector<TensorDesc>& parts,
                                                  const Shape& y,
                                                  std::optional<memory::format_tag> tag) {
  const std::int64_t batch = y[0], channels = y[1];
  std::int64_t pixels = 1;
  for (std::size_t d = 2; d < y.size(); ++d) pixels *= y[d];
  std::vector<ConcatAffineTask> tasks;
  // With one pixel ([N, C] values), plain is channels-last too: a row per part, not a
  // task per element.
  const bool channels_last = tag ? *tag == memory::format_tag::acdb : pixels == 1;
  if (channels_last) {
    constexpr std::int64_t kPixelsPerTask = 256;
    for (std::int64_t n = 0; n < batch; ++n) {
      for (std::int64_t p0 = 0; p0 < pixels; p0 += kPixelsPerTask) {
        std::int64_t channel = 0;
        for (std::size_t part = 0; part < parts.size(); ++part) {
          const std::int64_t c = parts[part].shape[1];
          tasks.push_back({part, channel, (n * pixels + p0) * c, c,
                           (n * pixels + p0) * channels + channel, channels,
                           std::min(kPixelsPerTask, pixels - p0), c});
          channel += c;
        }
      }
    }
    return tasks;
  }
  std::int64_t lanes = 1;
  if (tag && *tag == memory::format_tag::aBcd16b) lanes = 16;
  if (tag && *tag == memory::format_tag::aBcd8b) lanes = 8;
  if (tag && lanes == 1) return {};
  for (std::int64_t n = 0; n < batch; ++n) {
    std::int64_t channel = 0;
    for (std::size_t part = 0; part < parts.size(); ++part) {
      const std::int64_t c = parts[part].shape[1];
      for (std::int64_t b = 0; b < c / lanes; ++b) {
        tasks.push_back({part, channel + b * lanes, (n * c + b * lanes) * pixels, lanes,
                         (n * channels + channel + b * lanes) * pixels, lanes, pixels, lanes});
      }
      channel += c;
    }
  }
  return tasks;
}

std::optional<ConcatBatchNorm> concat_batch_norm(const RegionContext& context, std::size_t index) {
  const Shape& y = context.planned(index).outputs[0].shape;
  if (y.size() < 2) return std::nullopt;
  ConcatBatchNorm chain;
  chain.links = context.collect_chain(index, true, false);
  if (chain.links.empty() || !chain.links[0].fold_batch_norm) return std::nullopt;
  const std::optional<BatchNormSpec> spec = parse_batch_norm(context.planned(chain.links[0].node));
  if (!spec) return std::nullopt;
  chain.count = 1;
  if (chain.links.size() > 1 && chain.links[1].eltwise.size() == 1 &&
      chain.links[1].eltwise[0].algorithm == dnnl::algorithm::eltwise_relu) {
    chain.relu = true;
    chain.slope = chain.links[1].eltwise[0].alpha;
    chain.count = 2;
  }
  const auto params = graph::ops::BatchNormParams::from_tensors(
      *spec->scale, *spec->shift, *spec->mean, *spec->variance, spec->epsilon);
  if (params.channels() != y[1]) return std::nullopt;
  chain.scale.assign(params.scale.begin(), params.scale.end());
  chain.shift.assign(params.shift.begin(), params.shift.end());
  return chain;
}

}  // namespace edgeperf::runtime::onednn
