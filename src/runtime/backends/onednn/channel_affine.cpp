#include "channel_affine.h"

#include <algorithm>

#include "edgeperf/core/isa_target.h"
#include "vector_isa.h"

namespace edgeperf::runtime::onednn {
namespace {

namespace baseline {
#include "channel_affine_body.inc"
}  // namespace baseline

#if defined(__x86_64__)
EP_TARGET_BEGIN(EP_ISA_AVX512)
namespace avx512 {
#include "channel_affine_body.inc"
}  // namespace avx512
EP_TARGET_END

EP_TARGET_BEGIN(EP_ISA_AVX2)
namespace avx2 {
#include "channel_affine_body.inc"
}  // namespace avx2
EP_TARGET_END
#endif

}  // namespace

void channel_affine_scalar(const ChannelAffine& affine, const ChannelRows& rows) {
  for (std::int64_t p = 0; p < rows.pixels; ++p) {
    for (std::int64_t l = 0; l < rows.lanes; ++l) {
      const float v = rows.x[p * rows.x_stride + l] * affine.scale[l] + affine.shift[l];
      // ReLU is max(v, 0): -inf gives 0 (not -inf * 0 = NaN) and negatives +0.
      const float negative = affine.slope != 0.0f ? v * affine.slope : 0.0f;
      rows.y[p * rows.y_stride + l] = affine.relu && v < 0.0f ? negative : v;
    }
  }
}

void channel_affine(const ChannelAffine& affine, const ChannelRows& rows) {
  switch (host_vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512:
      avx512::run(affine, rows);
      return;
    case VectorIsa::avx2:
      avx2::run(affine, rows);
      return;
#endif
    default:
      baseline::run(affine, rows);
  }
}

const char* channel_affine_isa() { return vector_isa_name(host_vector_isa()); }

}  // namespace edgeperf::runtime::onednn
