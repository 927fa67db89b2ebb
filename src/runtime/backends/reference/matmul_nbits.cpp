// com.microsoft MatMulNBits (ONNX Runtime contrib op): Y = A @ dequantize(B)^T + bias, with B
// holding N rows of K n-bit codes quantized in blocks of block_size along K.
//   A            f32 [..., K]
//   B            u8  [N, k_blocks, blob_size]; blob_size = block_size * bits / 8, codes packed
//                    low bits first (4 bits: element 2i in the low nibble of byte i)
//   scales       f32 [N * k_blocks] (or [N, k_blocks])
//   zero_points  u8 packed like B, ceil(k_blocks * bits / 8) bytes per row of N, or f32 shaped
//                like scales; optional, default 2^(bits - 1)
//   g_idx        (deprecated) refused; bias f32 [N] optional
// Weight element (n, k) = (code - zero_point(n, k / block_size)) * scale(n, k / block_size).
#include <algorithm>
#include <optional>

#include "ops.h"
#include "quant_util.h"

namespace edgeperf::runtime::reference {
namespace {

enum MatMulNBitsInput : std::size_t { kA, kB, kScales, kZeroPoints, kGroupIndex, kBias };

struct NBitsGeometry {
  std::int64_t k = 0, n = 0, bits = 4, block_size = 0, k_blocks = 0, blob_size = 0;
  std::int64_t rows = 0;  // product of A's leading dims
  Shape output;
  bool float_zero_points = false;
};

std::int64_t positive_attr(const graph::Node& node, const char* key) {
  const std::int64_t value = node.attr_int(key);
  EP_CHECK(value >= 1 && value <= kMaxParameter, "node {}: attribute '{}' is {}, must be >= 1",
           node.label(), key, value);
  return value;
}

void check_shape(const graph::Node& node, const char* name, const Shape& shape,
                 const Shape& expected, const Shape& alternative = {}) {
  EP_CHECK(shape == expected || (!alternative.empty() && shape == alternative),
           "node {}: input '{}' has shape {}, expected {}", node.label(), name,
           shape_to_string(shape), shape_to_string(expected));
}

// The geometry of the weights, from the attributes and the shapes of B, scales and the
// zero points (zero_point_type nullopt when absent).
NBitsGeometry weight_geometry(const graph::Node& node, const Shape& b, const Shape& scales,
                              std::optional<DType> zero_point_type, const Shape& zero_points) {
  NBitsGeometry g;
  g.k = positive_attr(node, "K");
  g.n = positive_attr(node, "N");
  g.bits = node.attr_int("bits", 4);
  EP_CHECK(g.bits == 2 || g.bits == 4 || g.bits == 8,
           "node {}: attribute 'bits' is {}; supported: 2, 4, 8", node.label(), g.bits);
  g.block_size = positive_attr(node, "block_size");
  EP_CHECK(g.block_size >= 16 && (g.block_size & (g.block_size - 1)) == 0,
           "node {}: attribute 'block_size' is {}; it must be a power of 2 >= 16", node.label(),
           g.block_size);
  g.k_blocks = (g.k + g.block_size - 1) / g.block_size;
  g.blob_size = g.block_size * g.bits / 8;
  check_shape(node, "B", b, {g.n, g.k_blocks, g.blob_size});
  check_shape(node, "scales", scales, {g.n * g.k_blocks}, {g.n, g.k_blocks});
  if (zero_point_type) {
    EP_CHECK(*zero_point_type == DType::u8 || *zero_point_type == DType::f32,
             "node {}: input 'zero_points' is {}, expected u8 or f32", node.label(),
             dtype_name(*zero_point_type));
    g.float_zero_points = *zero_point_type == DType::f32;
    if (g.float_zero_points) {
      check_shape(node, "zero_points", zero_points, {g.n * g.k_blocks}, {g.n, g.k_blocks});
    } else {
      const std::int64_t row_bytes = (g.k_blocks * g.bits + 7) / 8;
      check_shape(node, "zero_points", zero_points, {g.n * row_bytes}, {g.n, row_bytes});
    }
  }
  return g;
}

NBitsGeometry nbits_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 3, 6);
  check_dtype(context, kA, {DType::f32}, "A");
  check_dtype(context, kB, {DType::u8}, "B");
  check_scale_input(context, kScales, "scales", false);
  const bool has_zero_points = context.has_input(kZeroPoints);
  NBitsGeometry g = weight_geometry(
      node, context.inputs[kB].shape, context.inputs[kScales].shape,
      has_zero_points ? std::optional<DType>(context.inputs[kZeroPoints].dtype) : std::nullopt,
      has_zero_points ? context.inputs[kZeroPoints].shape : Shape{});
  const Shape& a = context.inputs[kA].shape;
  EP_CHECK(!a.empty() && a.back() == g.k, "node {}: input 'A' {} must end with K = {}",
           node.label(), shape_to_string(a), g.k);
  EP_CHECK(!context.has_input(kGroupIndex), "node {}: input 'g_idx' (deprecated) is not supported",
           node.label());
  if (context.has_input(kBias)) {
    check_dtype(context, kBias, {DType::f32}, "bias");
    check_shape(node, "bias", context.inputs[kBias].shape, {g.n});
  }
  g.rows = product(a, 0, a.size() - 1);
  g.output.assign(a.begin(), a.end() - 1);
  g.output.push_back(g.n);
  return g;
}

// Code number `index` of a low-bits-first packed stream of `bits`-bit codes (bits divides 8).
inline std::int32_t unpack_code(const std::uint8_t* stream, std::int64_t index, std::int64_t bits) {
  const std::int64_t bit = index * bits;
  const auto mask = static_cast<std::uint32_t>((1 << bits) - 1);
  return static_cast<std::int32_t>((stream[bit / 8] >> (bit % 8)) & mask);
}

// Dequantizes B into `weights`, laid out [K, N] (row p holds weight (n, p) for every n).
void dequantize_weights(const NBitsGeometry& g, const Tensor& b, const Tensor& scales,
                        const Tensor& zero_points, float* weights) {
  const std::uint8_t* codes = b.data<std::uint8_t>();
  const float* scale = scales.data<float>();
  const std::int64_t zero_row_bytes = (g.k_blocks * g.bits + 7) / 8;
  const float default_zero = static_cast<float>(1 << (g.bits - 1));
  for (std::int64_t n = 0; n < g.n; ++n) {
    for (std::int64_t block = 0; block < g.k_blocks; ++block) {
      const std::int64_t param = n * g.k_blocks + block;
      float zero = default_zero;
      if (zero_points.numel() > 0) {
        zero = g.float_zero_points
                   ? zero_points.data<float>()[param]
                   : static_cast<float>(unpack_code(
                         zero_points.data<std::uint8_t>() + n * zero_row_bytes, block, g.bits));
      }
      const std::uint8_t* blob = codes + param * g.blob_size;
      const std::int64_t first = block * g.block_size;
      const std::int64_t count = std::min(g.block_size, g.k - first);
      for (std::int64_t i = 0; i < count; ++i) {
        const float code = static_cast<float>(unpack_code(blob, i, g.bits));
        weights[(first + i) * g.n + n] = (code - zero) * scale[param];
      }
    }
  }
}

void run_nbits_matmul(const NBitsGeometry& g, int threads, const float* a, const float* weights,
                      const float* bias, float* y) {
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t r = 0; r < g.rows; ++r) {
    const float* a_row = a + r * g.k;
    float* row = y + r * g.n;
    for (std::int64_t j = 0; j < g.n; ++j) row[j] = 0.0f;
    for (std::int64_t p = 0; p < g.k; ++p) {
      const float a_value = a_row[p];
      const float* w_row = weights + p * g.n;
      for (std::int64_t j = 0; j < g.n; ++j) row[j] += a_value * w_row[j];
    }
    if (bias != nullptr) {
      for (std::int64_t j = 0; j < g.n; ++j) row[j] += bias[j];
    }
  }
}

}  // namespace

void infer_matmul_nbits(PrepareContext& context) {
  const NBitsGeometry g = nbits_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::f32, g.output);
}

std::unique_ptr<Kernel> create_matmul_nbits(const PrepareContext& context) {
  const NBitsGeometry g = nbits_geometry(context);
  const bool has_zero_points = context.has_input(kZeroPoints);
  const bool has_bias = context.has_input(kBias);
  const bool constant_weights = context.constant(kB) != nullptr &&
                                context.constant(kScales) != nullptr &&
                                (!has_zero_points || context.constant(kZeroPoints) != nullptr);
  auto weights = std::make_shared<std::vector<float>>(static_cast<std::size_t>(g.k * g.n));
  if (constant_weights) {
    dequantize_weights(g, *context.constant(kB), *context.constant(kScales),
                       has_zero_points ? *context.constant(kZeroPoints) : Tensor(),
                       weights->data());
  }
  const graph::Node node = context.node;
  return make_parallel_kernel(
      [=](int threads, std::span<const Tensor> in, std::span<Tensor> out) {
        if (!constant_weights) {
          check_scale_values(node, "scales", in[kScales].values<float>(), false);
          dequantize_weights(g, in[kB], in[kScales], has_zero_points ? in[kZeroPoints] : Tensor(),
                             weights->data());
        }
        run_nbits_matmul(g, threads, in[kA].data<float>(), weights->data(),
                         has_bias ? in[kBias].data<float>() : nullptr, out[0].data<float>());
      },
      weights->size() * sizeof(float));
}

}  // namespace edgeperf::runtime::reference

namespace edgeperf::runtime {

Tensor dequantize_matmul_nbits(const graph::Node& node, const Tensor& b, const Tensor& scales,
                               const Tensor& zero_points) {
  using namespace reference;
  EP_CHECK(b.dtype() == DType::u8, "node {}: input 'B' is {}, expected u8", node.label(),
           dtype_name(b.dtype()));
  EP_CHECK(scales.dtype() == DType::f32, "node {}: input 'scales' is {}, expected f32",
           node.label(), dtype_name(scales.dtype()));
  const bool has_zero_points = zero_points.numel() > 0;
  const NBitsGeometry g =
      weight_geometry(node, b.shape(), scales.shape(),
                      has_zero_points ? std::optional<DType>(zero_points.dtype()) : std::nullopt,
                      zero_points.shape());
  check_scale_values(node, "scales", scales.values<float>(), false);
  Tensor weights(DType::f32, {g.k, g.n});
  dequantize_weights(g, b, scales, zero_points, weights.data<float>());
  return weights;
}

}  // namespace edgeperf::runtime
