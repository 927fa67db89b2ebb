#pragma once
// LayerNormalization over the last axis of 8-bit rows, straight to 8-bit output:
// QuantizeLinear(LayerNorm(DequantizeLinear(q))) in one pass per row. The mean and the
// variance of s * (q - z) follow from the integer sums of q and q * q, so only the
// normalization itself is in float. ConvNeXt's LayerNorms between its int8 depthwise
// conv and MatMul otherwise took a dequantizing reorder, oneDNN's f32 layer
// normalization and a quantizing reorder.
#include <cstdint>
#include <vector>

namespace edgeperf::runtime::onednn {

struct ByteQuantization {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  bool is_signed = false;  // s8, else u8
};

struct LayerNormBytesParams {
  std::int64_t rows = 1, size = 1;
  float epsilon = 1e-5f;
  ByteQuantization in, out;
  std::vector<float> gamma;  // size values
  std::vector<float> beta;   // size values (zeros when the node has no bias)
};

// The oracle: one element at a time, as the formula reads.
void layer_norm_bytes_scalar(const LayerNormBytesParams& params, const std::uint8_t* src,
                             std::uint8_t* dst);

class LayerNormBytes {
 public:
  explicit LayerNormBytes(LayerNormBytesParams params);
  // Rows split between `threads` in contiguous ranges.
  void run(const std::uint8_t* src, std::uint8_t* dst, int threads) const;
  // Part `part` of `parts` of run's work (parts <= max_parts()).
  void run_part(const std::uint8_t* src, std::uint8_t* dst, int part, int parts) const;
  std::int64_t max_parts() const { return params_.rows; }
  // "avx512", "avx2" or "baseline": the version run() uses on this CPU.
  const char* isa() const;

 private:
  using NormalizeRows = void (*)(const LayerNormBytesParams& p, const float* gamma_over_scale,
                                 const float* beta_offset, const std::uint8_t* src,
                                 std::uint8_t* dst, std::int64_t first_row, std::int64_t end_row);

  LayerNormBytesParams params_;
  std::vector<float> gamma_over_scale_;  // gamma / out.scale
  std::vector<float> beta_offset_;       // beta / out.scale + out.zero_point
  NormalizeRows normalize_;              // the version for this CPU, chosen once
};

}  // namespace edgeperf::runtime::onednn
