#pragma once
// Squeeze-and-excitation on 8-bit activations in a channels-last layout, as quantized
// MobileNetV3, EfficientNet and RegNetY have it: the trunk t = act(DequantizeLinear(q)),
// a GlobalAveragePool of t, the gate computed from it, then QuantizeLinear(t * gate).
// Node by node that is a dequantizing reorder, one or two f32 passes for the
// activation, a pooling pass and a binary pass. Here it is two passes:
// - activate_bytes: the per-channel sums the pool needs, from the bytes (and t itself,
//   when something else reads it);
// - gate_quantize: the gate's multiply and the QuantizeLinear after it, from t (f32) or
//   from the bytes, t computed again on the way (cheaper than storing and reading it,
//   for every activation here but swish, whose exponential costs more than the f32 pass).
// Every function works on `pixels` rows of `channels` values ([pixels, channels]).
#include <array>
#include <cstdint>
#include <memory>

#include "swish.h"

namespace edgeperf::runtime::onednn {

enum class ByteActivation {
  identity,
  hard_sigmoid_gate,  // x * clip(alpha * x + beta, 0, 1): HardSigmoid then Mul, HardSwish
  swish,              // x * sigmoid(x)
};

// act((b - zero_point) * scale) for every byte b (its bits read as the input's type),
// each entry computed as the oracle computes it, stored as the lookup reads it: byte k of
// entry b's float is planes[256 * k + b].
struct ActivationTable {
  alignas(64) std::array<std::uint8_t, 1024> planes;
};

struct Activation {
  Activation() = default;
  Activation(ByteActivation kind, float alpha = 0.0f, float beta = 0.0f)
      : kind(kind), alpha(alpha), beta(beta) {}

  ByteActivation kind = ByteActivation::identity;
  float alpha = 0.0f, beta = 0.0f;  // hard_sigmoid_gate's
  // Set (activation_table): the passes from bytes look their values up there when this
  // CPU has AVX-512 VBMI (64 bytes per 9 permutes), which gives the oracle's values; for
  // swish that is 2-3 times faster than the exponential.
  std::shared_ptr<const ActivationTable> table;
};

struct ChannelsLast {
  std::int64_t pixels = 0, channels = 0;
};

// A QuantizeLinear's output: saturate(round_half_even(x / scale) + zero_point), NaN to
// the zero point.
struct Quantization {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  bool is_signed = false;  // int8, else uint8
};

// act's table for input bytes of `dq`.
std::shared_ptr<const ActivationTable> activation_table(const Dequantization& dq,
                                                        const Activation& act);
// Whether the passes from bytes use an Activation's table here (AVX-512 VBMI).
bool looks_up_activations();

// t = act((q - zero_point) * scale); with `sums`, sums[c] += t over the pixels. `t` may
// be null (only the sums). The oracle computes with std::exp and without fused
// multiply-adds: the vector versions are within swish.h's bound of it.
void activate_bytes_scalar(const void* q, const Dequantization& dq, const Activation& act,
                           ChannelsLast shape, float* t, float* sums);
void activate_bytes(const void* q, const Dequantization& dq, const Activation& act,
                    ChannelsLast shape, float* t, float* sums);

// y = quantize(x * gate[c]), the gate and the output's scale taken together as one
// factor per channel, gate[c] / scale: no division per value. That is QuantizeLinear of
// Mul(x, gate) but where x * gate / scale lies within a rounding error of a half, where
// the two may round to neighbouring levels. The vector versions give the oracle's bytes.
void gate_quantize_scalar(const float* x, const float* gate, ChannelsLast shape,
                          const Quantization& out, void* y);
void gate_quantize(const float* x, const float* gate, ChannelsLast shape, const Quantization& out,
                   void* y);
// The same with x = act((q - zero_point) * scale), never stored.
void gate_quantize_bytes_scalar(const void* q, const Dequantization& dq, const Activation& act,
                                const float* gate, ChannelsLast shape, const Quantization& out,
                                void* y);
void gate_quantize_bytes(const void* q, const Dequantization& dq, const Activation& act,
                         const float* gate, ChannelsLast shape, const Quantization& out, void* y);

// QuantizeLinear itself (a division by the scale), value by value: the pool's output.
void quantize_values(const float* x, std::int64_t count, const Quantization& out, void* y);

// "avx512", "avx2" or "baseline": what the vector versions run here.
const char* squeeze_excite_isa();

}  // namespace edgeperf::runtime::onednn
