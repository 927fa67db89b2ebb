#include "csr_kernels.h"

#include <algorithm>
#include <cstring>
#include <limits>

#ifdef __AVX512F__
#include <immintrin.h>
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized inside their own helpers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "edgeperf/core/error.h"

// Vec is passed by value between internal helpers only; GCC notes that its ABI differs
// without AVX-512, which does not matter inside one translation unit.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace edgeperf::runtime::sparse {
namespace {

// 16 floats: one AVX-512 register, two AVX2 registers, or four SSE registers; the
// compiler picks the instructions for the target (-march=native when EP_NATIVE=ON).
using Vec = float __attribute__((vector_size(64)));
constexpr std::int64_t kLanes = 16;
constexpr int kBlockVectors = 4;  // 64 pixels per block: 4 accumulators stay in registers
constexpr std::int64_t kBlockPixels = kLanes * kBlockVectors;

Vec load(const float* source) {
  Vec vector;
  std::memcpy(&vector, source, sizeof vector);
  return vector;
}

void store(float* target, Vec vector) { std::memcpy(target, &vector, sizeof vector); }

Vec broadcast(float scalar) { return Vec{} + scalar; }

// The first `count` (< 16) lanes; the rest read as zero and are never written.
class PartialVector {
 public:
  explicit PartialVector(std::int64_t count) : count_(count) {
#ifdef __AVX512F__
    mask_ = static_cast<__mmask16>((1u << count) - 1u);
#endif
  }
  Vec load(const float* source) const {
#ifdef __AVX512F__
    return reinterpret_cast<Vec>(_mm512_maskz_loadu_ps(mask_, source));
#else
    float lanes[kLanes] = {};
    std::memcpy(lanes, source, static_cast<std::size_t>(count_) * sizeof(float));
    return sparse::load(lanes);
#endif
  }
  void store(float* target, Vec vector) const {
#ifdef __AVX512F__
    _mm512_mask_storeu_ps(target, mask_, reinterpret_cast<__m512>(vector));
#else
    float lanes[kLanes];
    sparse::store(lanes, vector);
    std::memcpy(target, lanes, static_cast<std::size_t>(count_) * sizeof(float));
#endif
  }

 private:
  std::int64_t count_;
#ifdef __AVX512F__
  __mmask16 mask_;
#endif
};

Vec activate(const CsrWeights& weights, Vec vector) {
  return weights.relu ? (vector > 0 ? vector : Vec{}) : vector;
}

// `vectors` x 16 pixels plus `tail` (< 16) more of one output row, in one pass over the
// row's nonzeros; `in`/`out` point at the first pixel.
template <int vectors>
void row_pixels(const CsrWeights& weights, std::int64_t row, const float* in, std::int64_t pixels,
                float* out, std::int64_t tail) {
  const PartialVector partial(tail);
  Vec accumulator[vectors > 0 ? vectors : 1];
  const Vec bias = broadcast(weights.bias[row]);
  for (int v = 0; v < vectors; ++v) accumulator[v] = bias;
  Vec tail_accumulator = bias;
  for (std::uint32_t j = weights.row_begin[row]; j < weights.row_begin[row + 1]; ++j) {
    const float* source = in + static_cast<std::int64_t>(weights.column[j]) * pixels;
    const Vec scale = broadcast(weights.value[j]);
    for (int v = 0; v < vectors; ++v) accumulator[v] += scale * load(source + v * kLanes);
    if (tail > 0) tail_accumulator += scale * partial.load(source + vectors * kLanes);
  }
  for (int v = 0; v < vectors; ++v) store(out + v * kLanes, activate(weights, accumulator[v]));
  if (tail > 0) partial.store(out + vectors * kLanes, activate(weights, tail_accumulator));
}

// Pixels [begin, begin + width) of one output row, width <= kBlockPixels.
void row_block(const CsrWeights& weights, std::int64_t row, const float* image_in,
               std::int64_t pixels, float* row_out, std::int64_t begin, std::int64_t width) {
  const float* in = image_in + begin;
  float* out = row_out + begin;
  const std::int64_t tail = width % kLanes;
  switch (width / kLanes) {
    case 4:
      return row_pixels<4>(weights, row, in, pixels, out, tail);
    case 3:
      return row_pixels<3>(weights, row, in, pixels, out, tail);
    case 2:
      return row_pixels<2>(weights, row, in, pixels, out, tail);
    case 1:
      return row_pixels<1>(weights, row, in, pixels, out, tail);
    default:
      return row_pixels<0>(weights, row, in, pixels, out, tail);
  }
}

constexpr std::int64_t kWindow = 64;  // columns a group can reach: four registers of inputs

float finish(const CsrWeights& weights, std::int64_t row, float sum) {
  sum += weights.bias[row];
  return weights.relu ? std::max(sum, 0.0f) : sum;
}

#ifdef __AVX512F__
float row_dot_groups(const CsrWeights& weights, std::int64_t row, const float* a);
#endif

// One row against one zero-padded input vector (padded_columns() floats).
float row_dot(const CsrWeights& weights, std::int64_t row, const float* a) {
#ifdef __AVX512F__
  if (weights.use_groups) return row_dot_groups(weights, row, a);
#endif
  float partial[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  std::uint32_t j = weights.row_begin[row];
  const std::uint32_t end = weights.row_begin[row + 1];
  for (; j + 4 <= end; j += 4) {
    for (int lane = 0; lane < 4; ++lane) {
      partial[lane] += weights.value[j + lane] * a[weights.column[j + lane]];
    }
  }
  for (; j < end; ++j) partial[0] += weights.value[j] * a[weights.column[j]];
  return finish(weights, row, (partial[0] + partial[1]) + (partial[2] + partial[3]));
}

#ifdef __AVX512F__
float row_dot_groups(const CsrWeights& weights, std::int64_t row, const float* a) {
  __m512 accumulator = _mm512_setzero_ps();
  const __m512i upper_half = _mm512_set1_epi32(32);
  for (std::uint32_t g = weights.group_begin[row]; g < weights.group_begin[row + 1]; ++g) {
    const float* window = a + static_cast<std::int64_t>(weights.group_window[g]) * kWindow;
    const __m512i lane_column = _mm512_cvtepu8_epi32(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(&weights.group_lane_column[g * kLanes])));
    // Columns 0-31 come from the first two registers, 32-63 from the last two.
    const __m512 low =
        _mm512_permutex2var_ps(_mm512_loadu_ps(window), lane_column, _mm512_loadu_ps(window + 16));
    const __m512 high = _mm512_permutex2var_ps(_mm512_loadu_ps(window + 32), lane_column,
                                               _mm512_loadu_ps(window + 48));
    const __mmask16 from_high = _mm512_test_epi32_mask(lane_column, upper_half);
    accumulator = _mm512_fmadd_ps(_mm512_loadu_ps(&weights.group_value[g * kLanes]),
                                  _mm512_mask_blend_ps(from_high, low, high), accumulator);
  }
  return finish(weights, row, _mm512_reduce_add_ps(accumulator));
}
#endif

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
  const std::int64_t blocks = (pixels + kBlockPixels - 1) / kBlockPixels;
  const std::int64_t rows = weights.rows;
  const std::int64_t in_image = weights.columns * pixels;
  const std::int64_t out_image = rows * pixels;
  // Rows innermost: each thread reuses one block of input pixels (columns x 64 floats)
  // across many output channels while it sits in L1/L2.
#pragma omp parallel for collapse(3) schedule(static) num_threads(threads) if (threads > 1)
  for (std::int64_t image = 0; image < images; ++image) {
    for (std::int64_t block = 0; block < blocks; ++block) {
      for (std::int64_t row = 0; row < rows; ++row) {
        const std::int64_t begin = block * kBlockPixels;
        const std::int64_t width = std::min(kBlockPixels, pixels - begin);
        row_block(weights, row, in + image * in_image, pixels,
                  out + image * out_image + row * pixels, begin, width);
      }
    }
  }
}

void fully_connected(const CsrWeights& weights, const float* a, float* out, std::int64_t batch,
                     float* padded, int threads) {
  const std::int64_t rows = weights.rows;
  const std::int64_t columns = weights.columns;
  const std::int64_t padded_columns = weights.padded_columns();
  for (std::int64_t m = 0; m < batch; ++m) {
    std::memcpy(padded + m * padded_columns, a + m * columns,
                static_cast<std::size_t>(columns) * sizeof(float));
    std::fill(padded + m * padded_columns + columns, padded + (m + 1) * padded_columns, 0.0f);
  }
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (std::int64_t row = 0; row < rows; ++row) {
    for (std::int64_t m = 0; m < batch; ++m) {
      out[m * rows + row] = row_dot(weights, row, padded + m * padded_columns);
    }
  }
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
