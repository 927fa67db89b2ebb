#pragma once
// Compressed sparse row weights and the kernels that use them. One row per output
// channel; zeros are dropped when the matrix is built, so work and bytes scale with
// the number of nonzeros.
#include <cstdint>
#include <span>
#include <vector>

namespace edgeperf::runtime::sparse {

struct CsrWeights {
  std::int64_t rows = 0;
  std::int64_t columns = 0;
  std::vector<std::uint32_t> row_begin;  // rows + 1 offsets into column/value
  std::vector<std::uint32_t> column;
  std::vector<float> value;
  // The same nonzeros regrouped for the FC kernel: each row's nonzeros in windows of 64
  // columns, 16 per group (zero-padded); a group holds its window and, per lane, the
  // column within the window. Lanes then fetch inputs with register permutes, not gathers.
  std::vector<std::uint32_t> group_begin;       // rows + 1 offsets into the group arrays
  std::vector<std::uint32_t> group_window;      // per group
  std::vector<std::uint8_t> group_lane_column;  // 16 per group
  std::vector<float> group_value;               // 16 per group
  bool use_groups = false;  // the FC kernel takes the groups (dense enough to fill them)
  std::vector<float> bias;  // one per row (zeros when the layer has none)
  bool relu = false;        // max(0, x) applied to every output

  std::size_t nonzeros() const { return value.size(); }
  // Input columns rounded up to whole 64-column windows (the FC kernel's padded input).
  std::int64_t padded_columns() const;
  double density() const;
  std::size_t bytes() const;
};

// From a dense row-major [rows, columns] matrix and per-row bias (empty: zeros).
CsrWeights make_csr(std::span<const float> dense, std::int64_t rows, std::int64_t columns,
                    std::vector<float> bias, bool relu);

// 1x1 convolution in NCHW: out[i, r, p] = act(bias[r] + sum_c w[r, c] * in[i, c, p]).
// in: [images, columns, pixels], out: [images, rows, pixels].
void conv1x1_nchw(const CsrWeights& weights, const float* in, float* out, std::int64_t images,
                  std::int64_t pixels, int threads);

// Fully connected: out[m, r] = act(bias[r] + sum_k w[r, k] * a[m, k]).
// a: [batch, columns], out: [batch, rows]; padded: scratch of batch x padded_columns().
void fully_connected(const CsrWeights& weights, const float* a, float* out, std::int64_t batch,
                     float* padded, int threads);

// Every stride-th pixel of each plane: in [planes, height, width] ->
// out [planes, (height - 1) / stride_h + 1, (width - 1) / stride_w + 1].
void subsample(const float* in, float* out, std::int64_t planes, std::int64_t height,
               std::int64_t width, std::int64_t stride_h, std::int64_t stride_w, int threads);

}  // namespace edgeperf::runtime::sparse
