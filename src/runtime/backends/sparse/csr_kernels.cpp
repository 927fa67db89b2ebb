#include "csr_kernels.h"

#include <algorithm>
#include <cstring>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized inside their own helpers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/isa_target.h"

// Vec is passed by value between internal helpers only; GCC notes that its ABI differs
// without AVX-512, which does not matter inside one translation unit.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace edgeperf::runtime::sparse {
namespace {

constexpr std::int64_t kLanes = 16;
constexpr int kBlockVectors = 4;  // 64 pixels per block: 4 accumulators stay in registers
constexpr std::int64_t kBlockPixels = kLanes * kBlockVectors;
constexpr std::int64_t kWindow = 64;  // columns a group can reach: four registers of inputs

// One copy of the kernels per ISA; the CPU picks one at run time (CpuFeatures).
#if defined(__x86_64__)
EP_TARGET_BEGIN(EP_ISA_AVX512)
#define EP_CSR_AVX512 1
namespace avx512 {
#include "csr_row_kernels.inc"
}  // namespace avx512
#undef EP_CSR_AVX512
EP_TARGET_END

EP_TARGET_BEGIN(EP_ISA_AVX2)
namespace avx2 {
#include "csr_row_kernels.inc"
}  // namespace avx2
EP_TARGET_END
#endif

namespace portable {
#include "csr_row_kernels.inc"
}  // namespace portable

struct CsrKernels {
  decltype(&portable::conv1x1_loop) conv1x1;
  decltype(&portable::fully_connected_loop) fully_connected;
};

CsrKernels kernels_for(const CpuFeatures& cpu) {
#if defined(__x86_64__)
  if (cpu.avx512) return {avx512::conv1x1_loop, avx512::fully_connected_loop};
  if (cpu.avx2_fma) return {avx2::conv1x1_loop, avx2::fully_connected_loop};
#endif
  (void)cpu;
  return {portable::conv1x1_loop, portable::fully_connected_loop};
}

// Fills the group arrays from column/value.
void build_groups(CsrWeights& weights) {
  weights.group_begin.assign(1, 0);
  for (std::int64_t row = 0; row < weights.rows; ++row) {
    std::uint32_t j = weights.row_begin[row];
    const std::uint32_t end = weights.row_begin[row + 1];
    while (j < end) {
      const std::uint32_t window = weights.column[j] / kWindow;
      weights.group_window.push_back(window);
      for (std::int64_t lane = 0; lane < kLanes; ++lane) {
        const bool used = j < end && weights.column[j] / kWindow == window;
        weights.group_lane_column.push_back(
            used ? static_cast<std::uint8_t>(weights.column[j] % kWindow) : 0);
        weights.group_value.push_back(used ? weights.value[j] : 0.0f);
        if (used) ++j;
      }
    }
    weights.group_begin.push_back(static_cast<std::uint32_t>(weights.group_window.size()));
  }
  // A group costs about as much as 6 scalar multiply-adds (measured on ResNet-18's FC):
  // sparser rows leave groups mostly padding, and the scalar loop wins.
  weights.use_groups = weights.nonzeros() >= 6 * weights.group_window.size();
}

}  // namespace

double CsrWeights::density() const {
  const double total = static_cast<double>(rows) * static_cast<double>(columns);
  return total > 0 ? static_cast<double>(nonzeros()) / total : 0.0;
}

std::size_t CsrWeights::bytes() const {
  return row_begin.size() * sizeof(std::uint32_t) + column.size() * sizeof(std::uint32_t) +
         value.size() * sizeof(float) + bias.size() * sizeof(float) +
         group_begin.size() * sizeof(std::uint32_t) + group_window.size() * sizeof(std::uint32_t) +
         group_lane_column.size() + group_value.size() * sizeof(float);
}

std::int64_t CsrWeights::padded_columns() const {
  return (columns + kWindow - 1) / kWindow * kWindow;
}

CsrWeights make_csr(std::span<const float> dense, std::int64_t rows, std::int64_t columns,
                    std::vector<float> bias, bool relu) {
  EP_CHECK(rows > 0 && columns > 0 && static_cast<std::int64_t>(dense.size()) == rows * columns,
           "sparse weights: {} values for a {}x{} matrix", dense.size(), rows, columns);
  EP_CHECK(columns <= std::numeric_limits<std::uint32_t>::max() &&
               dense.size() <= std::numeric_limits<std::uint32_t>::max(),
           "sparse weights: a {}x{} matrix is too large for 32-bit indices", rows, columns);
  EP_CHECK(bias.empty() || static_cast<std::int64_t>(bias.size()) == rows,
           "sparse weights: {} bias values for {} rows", bias.size(), rows);
  CsrWeights weights;
  weights.rows = rows;
  weights.columns = columns;
  weights.relu = relu;
  weights.bias =
      bias.empty() ? std::vector<float>(static_cast<std::size_t>(rows), 0.0f) : std::move(bias);
  weights.row_begin.reserve(static_cast<std::size_t>(rows) + 1);
  weights.row_begin.push_back(0);
  for (std::int64_t row = 0; row < rows; ++row) {
    for (std::int64_t column = 0; column < columns; ++column) {
      const float value = dense[static_cast<std::size_t>(row * columns + column)];
      if (value == 0.0f) continue;
      weights.column.push_back(static_cast<std::uint32_t>(column));
      weights.value.push_back(value);
    }
    weights.row_begin.push_back(static_cast<std::uint32_t>(weights.value.size()));
  }
  build_groups(weights);
  return weights;
}

void conv1x1_nchw(const CsrWeights& weights, const float* in, float* out, std::int64_t images,
                  std::int64_t pixels, int threads) {
  kernels_for(CpuFeatures::host()).conv1x1(weights, in, out, images, pixels, threads);
}

void fully_connected(const CsrWeights& weights, const float* a, float* out, std::int64_t batch,
                     float* padded, int threads) {
  const std::int64_t columns = weights.columns;
  const std::int64_t padded_columns = weights.padded_columns();
  for (std::int64_t m = 0; m < batch; ++m) {
    std::memcpy(padded + m * padded_columns, a + m * columns,
                static_cast<std::size_t>(columns) * sizeof(float));
    std::fill(padded + m * padded_columns + columns, padded + (m + 1) * padded_columns, 0.0f);
  }
  kernels_for(CpuFeatures::host()).fully_connected(weights, padded, out, batch, threads);
}

void subsample(const float* in, float* out, std::int64_t planes, std::int64_t height,
               std::int64_t width, std::int64_t stride_h, std::int64_t stride_w, int threads) {
  const std::int64_t out_h = (height - 1) / stride_h + 1;
  const std::int64_t out_w = (width - 1) / stride_w + 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (std::int64_t plane = 0; plane < planes; ++plane) {
    const float* source = in + plane * height * width;
    float* target = out + plane * out_h * out_w;
    for (std::int64_t y = 0; y < out_h; ++y) {
      for (std::int64_t x = 0; x < out_w; ++x) {
        target[y * out_w + x] = source[y * stride_h * width + x * stride_w];
      }
    }
  }
}

}  // namespace edgeperf::runtime::sparse
