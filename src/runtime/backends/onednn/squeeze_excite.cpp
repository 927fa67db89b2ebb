#include "squeeze_excite.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/isa_target.h"
#include "quantize_level.h"
#include "vector_isa.h"

namespace edgeperf::runtime::onednn {
namespace {

namespace baseline {
#include "squeeze_excite_body.inc"
}  // namespace baseline

#if defined(__x86_64__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps, which -Wmaybe-uninitialized
// reports when they are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
EP_TARGET_BEGIN(EP_ISA_AVX512)
namespace avx512 {
#include "squeeze_excite_body.inc"
#include "swish_avx512.inc"

// The AVX-512 passes use the body's helpers and swish16: after them.
#include "squeeze_excite_avx512.inc"
}  // namespace avx512
EP_TARGET_END
EP_TARGET_BEGIN(EP_ISA_AVX512_VBMI ",bmi2")
namespace avx512 {
#include "squeeze_excite_vbmi.inc"
}  // namespace avx512
EP_TARGET_END
#pragma GCC diagnostic pop

EP_TARGET_BEGIN(EP_ISA_AVX2)
namespace avx2 {
#include "squeeze_excite_body.inc"
}  // namespace avx2
EP_TARGET_END
#endif

// Calls `run` with the version for this CPU's vector level.
template <typename Run>
void at_host_isa(const Run& run) {
  switch (host_vector_isa()) {
#if defined(__x86_64__)
    case VectorIsa::avx512:
      if (looks_up_activations()) {
        run([](auto&&... args) { avx512::activate_vbmi(args...); },
            [](auto&&... args) { avx512::gate16(args...); },
            [](auto&&... args) { avx512::gate_bytes_vbmi(args...); });
        return;
      }
      run([](auto&&... args) { avx512::activate16(args...); },
          [](auto&&... args) { avx512::gate16(args...); },
          [](auto&&... args) { avx512::gate_bytes16(args...); });
      return;
    case VectorIsa::avx2:
      run([](auto&&... args) { avx2::activate(args...); },
          [](auto&&... args) { avx2::gate(args...); },
          [](auto&&... args) { avx2::gate_bytes(args...); });
      return;
#endif
    default:
      run([](auto&&... args) { baseline::activate(args...); },
          [](auto&&... args) { baseline::gate(args...); },
          [](auto&&... args) { baseline::gate_bytes(args...); });
  }
}

// Calls `run` with `data` as a pointer to int8 or uint8.
template <typename Run>
void as_bytes(const void* data, bool is_signed, const Run& run) {
  if (is_signed) {
    run(static_cast<const std::int8_t*>(data));
  } else {
    run(static_cast<const std::uint8_t*>(data));
  }
}
template <typename Run>
void as_bytes(void* data, bool is_signed, const Run& run) {
  if (is_signed) {
    run(static_cast<std::int8_t*>(data));
  } else {
    run(static_cast<std::uint8_t*>(data));
  }
}

float dequantized(const void* q, const Dequantization& dq, std::int64_t i) {
  const float level =
      dq.is_signed ? static_cast<const std::int8_t*>(q)[i] : static_cast<const std::uint8_t*>(q)[i];
  return (level - static_cast<float>(dq.zero_point)) * dq.scale;
}

float activated(float x, const Activation& act) {
  switch (act.kind) {
    case ByteActivation::hard_sigmoid_gate:
      return x * std::min(1.0f, std::max(0.0f, act.alpha * x + act.beta));
    case ByteActivation::swish:
      return x / (1.0f + std::exp(-x));
    default:
      return x;
  }
}

// `level` (a value over the scale) as QuantizeLinear stores it.
void store_level(float level, const Quantization& out, void* y, std::int64_t i) {
  if (out.is_signed) {
    static_cast<std::int8_t*>(y)[i] = quantize_level<std::int8_t>(level, out.zero_point);
  } else {
    static_cast<std::uint8_t*>(y)[i] = quantize_level<std::uint8_t>(level, out.zero_point);
  }
}

// value * factor, quantized as QuantizeLinear quantizes value * factor * scale.
void store_quantized(float value, float factor, const Quantization& out, void* y, std::int64_t i) {
  store_level(value * factor, out, y, i);
}

}  // namespace

std::shared_ptr<const ActivationTable> activation_table(const Dequantization& dq,
                                                        const Activation& act) {
  auto table = std::make_shared<ActivationTable>();
  for (int entry = 0; entry < 256; ++entry) {
    const auto bits = static_cast<std::uint8_t>(entry);
    const auto level = static_cast<std::int8_t>(bits);
    const float value = dq.is_signed ? activated(dequantized(&level, dq, 0), act)
                                     : activated(dequantized(&bits, dq, 0), act);
    std::uint32_t value_bits = 0;
    std::memcpy(&value_bits, &value, sizeof value_bits);
    for (int k = 0; k < 4; ++k) {
      table->planes[256 * k + entry] = static_cast<std::uint8_t>(value_bits >> (8 * k));
    }
  }
  return table;
}

bool looks_up_activations() {
#if defined(__x86_64__)
  return host_vector_isa() == VectorIsa::avx512 && CpuFeatures::host().avx512_vbmi;
#else
  return false;
#endif
}

void activate_bytes_scalar(const void* q, const Dequantization& dq, const Activation& act,
                           ChannelsLast shape, float* t, float* sums) {
  for (std::int64_t p = 0; p < shape.pixels; ++p) {
    for (std::int64_t c = 0; c < shape.channels; ++c) {
      const std::int64_t i = p * shape.channels + c;
      const float value = activated(dequantized(q, dq, i), act);
      if (t != nullptr) t[i] = value;
      if (sums != nullptr) sums[c] += value;
    }
  }
}

void activate_bytes(const void* q, const Dequantization& dq, const Activation& act,
                    ChannelsLast shape, float* t, float* sums) {
  at_host_isa([&](auto activate, auto, auto) {
    as_bytes(q, dq.is_signed, [&](auto* bytes) { activate(bytes, dq, act, shape, t, sums); });
  });
}

void gate_quantize_scalar(const float* x, const float* gate, ChannelsLast shape,
                          const Quantization& out, void* y) {
  for (std::int64_t p = 0; p < shape.pixels; ++p) {
    for (std::int64_t c = 0; c < shape.channels; ++c) {
      const std::int64_t i = p * shape.channels + c;
      store_quantized(x[i], gate[c] / out.scale, out, y, i);
    }
  }
}

void gate_quantize(const float* x, const float* gate, ChannelsLast shape, const Quantization& out,
                   void* y) {
  at_host_isa([&](auto, auto gate_run, auto) {
    as_bytes(y, out.is_signed, [&](auto* bytes) { gate_run(x, gate, shape, out, bytes); });
  });
}

void gate_quantize_bytes_scalar(const void* q, const Dequantization& dq, const Activation& act,
                                const float* gate, ChannelsLast shape, const Quantization& out,
                                void* y) {
  for (std::int64_t p = 0; p < shape.pixels; ++p) {
    for (std::int64_t c = 0; c < shape.channels; ++c) {
      const std::int64_t i = p * shape.channels + c;
      store_quantized(activated(dequantized(q, dq, i), act), gate[c] / out.scale, out, y, i);
    }
  }
}

void gate_quantize_bytes(const void* q, const Dequantization& dq, const Activation& act,
                         const float* gate, ChannelsLast shape, const Quantization& out, void* y) {
  at_host_isa([&](auto, auto, auto gate_bytes_run) {
    as_bytes(q, dq.is_signed, [&](auto* in) {
      as_bytes(y, out.is_signed,
               [&](auto* bytes) { gate_bytes_run(in, dq, act, gate, shape, out, bytes); });
    });
  });
}

void quantize_values(const float* x, std::int64_t count, const Quantization& out, void* y) {
  for (std::int64_t i = 0; i < count; ++i) store_level(x[i] / out.scale, out, y, i);
}

const char* squeeze_excite_isa() { return vector_isa_name(host_vector_isa()); }

}  // namespace edgeperf::runtime::onednn
