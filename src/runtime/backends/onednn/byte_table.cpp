#include "byte_table.h"

#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/isa_target.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgeperf::runtime::onednn {
namespace {

#if defined(__x86_64__)
// Bytes 0..127 index the first two 64-byte quarters of the table, 128..255 the last two;
// bit 7 of each source byte picks between the two lookups.
EP_TARGET_BEGIN(EP_ISA_AVX512_VBMI ",bmi2")
void apply_vbmi(const ByteTable& table, const std::uint8_t* src, std::uint8_t* dst,
                std::size_t count) {
  const __m512i q0 = _mm512_loadu_si512(table.data());
  const __m512i q1 = _mm512_loadu_si512(table.data() + 64);
  const __m512i q2 = _mm512_loadu_si512(table.data() + 128);
  const __m512i q3 = _mm512_loadu_si512(table.data() + 192);
  const auto lookup = [&](__m512i x) {
    const __m512i low = _mm512_permutex2var_epi8(q0, x, q1);
    const __m512i high = _mm512_permutex2var_epi8(q2, x, q3);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), low, high);
  };
  std::size_t i = 0;
  for (; i + 64 <= count; i += 64) {
    _mm512_storeu_si512(dst + i, lookup(_mm512_loadu_si512(src + i)));
  }
  if (i < count) {
    const __mmask64 tail = _bzhi_u64(~0ULL, static_cast<unsigned>(count - i));
    _mm512_mask_storeu_epi8(dst + i, tail, lookup(_mm512_maskz_loadu_epi8(tail, src + i)));
  }
}
EP_TARGET_END

// BMI2 (bzhi) comes with every AVX-512 CPU.
bool has_vbmi() { return CpuFeatures::host().avx512_vbmi; }
#endif

}  // namespace

void apply_byte_table_scalar(const ByteTable& table, const std::uint8_t* src, std::uint8_t* dst,
                             std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) dst[i] = table[src[i]];
}

void apply_byte_table(const ByteTable& table, const std::uint8_t* src, std::uint8_t* dst,
                      std::size_t count) {
#if defined(__x86_64__)
  if (has_vbmi()) {
    apply_vbmi(table, src, dst, count);
    return;
  }
#endif
  apply_byte_table_scalar(table, src, dst, count);
}

const char* byte_table_isa() {
#if defined(__x86_64__)
  if (has_vbmi()) return "avx512_vbmi";
#endif
  return "scalar";
}

}  // namespace edgeperf::runtime::onednn
