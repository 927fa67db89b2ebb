#include "channel_shuffle.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "edgeperf/core/error.h"
#include "edgeperf/core/isa_target.h"
#include "quantize_level.h"
#include "vector_isa.h"

namespace edgeperf::runtime::onednn {
namespace {

namespace baseline {
#include "channel_shuffle_body.inc"
}  // namespace baseline

#if defined(__x86_64__)
EP_TARGET_BEGIN(EP_ISA_AVX512)
namespace avx512 {
#include "channel_shuffle_body.inc"
}  // namespace avx512
EP_TARGET_END

EP_TARGET_BEGIN(EP_ISA_AVX2)
namespace avx2 {
#include "channel_shuffle_body.inc"
}  // namespace avx2
EP_TARGET_END
#endif

float read_value(const ShuffleTensor& tensor, const void* data, std::int64_t index) {
  switch (tensor.type) {
    case ShuffleType::u8:
      return static_cast<float>(static_cast<const std::uint8_t*>(data)[index] - tensor.zero) *
             tensor.scale;
    case ShuffleType::s8:
      return static_cast<float>(static_cast<const std::int8_t*>(data)[index] - tensor.zero) *
             tensor.scale;
    default:
      return static_cast<const float*>(data)[index];
  }
}

void write_value(const ShuffleTensor& tensor, void* data, std::int64_t index, float x) {
  switch (tensor.type) {
    case ShuffleType::u8:
      static_cast<std::uint8_t*>(data)[index] =
          quantize_level<std::uint8_t>(x / tensor.scale, tensor.zero);
      return;
    case ShuffleType::s8:
      static_cast<std::int8_t*>(data)[index] =
          quantize_level<std::int8_t>(x / tensor.scale, tensor.zero);
      return;
    default:
      static_cast<float*>(data)[index] = x;
  }
}

}  // namespace

ChannelShuffle::ChannelShuffle(ChannelShuffleSpec spec) : spec_(std::move(spec)) {
  for (const ShuffleTensor& part : spec_.parts) channels_ += part.channels;
  const std::int64_t groups = spec_.groups;
  EP_CHECK(groups > 0 && channels_ > 0 && channels_ % groups == 0,
           "channel shuffle: {} channels do not split into {} groups", channels_, groups);
  const std::int64_t per_group = channels_ / groups;
  for (const ShuffleOutput& output : spec_.outputs) {
    EP_CHECK(
        output.first >= 0 && output.channels > 0 && output.first + output.channels <= channels_,
        "channel shuffle: output channels [{}, {}) outside the {} channels", output.first,
        output.first + output.channels, channels_);
    std::vector<std::int32_t> sources;
    for (std::int64_t j = output.first; j < output.first + output.channels; ++j) {
      sources.push_back(static_cast<std::int32_t>(j % groups * per_group + j / groups));
    }
    sources_.push_back(std::move(sources));
  }
}

void ChannelShuffle::run_scalar(const void* const* parts, void* const* outputs, std::int64_t begin,
                                std::int64_t end) const {
  const std::int64_t per_group = channels_ / spec_.groups;
  for (std::int64_t pixel = begin; pixel < end; ++pixel) {
    for (std::size_t o = 0; o < spec_.outputs.size(); ++o) {
      const ShuffleOutput& output = spec_.outputs[o];
      for (std::int64_t k = 0; k < output.channels; ++k) {
        const std::int64_t j = output.first + k;
        std::int64_t source = j % spec_.groups * per_group + j / spec_.groups;
        std::size_t part = 0;
        while (source >= spec_.parts[part].channels) source -= spec_.parts[part++].channels;
        const ShuffleTensor& from = spec_.parts[part];
        const float x = read_value(from, parts[part], pixel * from.channels + source);
        write_value(output, outputs[o], pixel * output.channels + k, x);
      }
    }
  }
}

void ChannelShuffle::run(const void* const* parts, void* const* outputs, std::int64_t begin,
                         std::int64_t end) const {
  switch (host_vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512:
      avx512::run(*this, parts, outputs, begin, end);
      return;
    case VectorIsa::avx2:
      avx2::run(*this, parts, outputs, begin, end);
      return;
#endif
    default:
      baseline::run(*this, parts, outputs, begin, end);
  }
}

const char* channel_shuffle_isa() { return vector_isa_name(host_vector_isa()); }

}  // namespace edgeperf::runtime::onednn
