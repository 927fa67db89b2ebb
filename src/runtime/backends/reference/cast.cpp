// Cast between all dtypes. Float to integer truncates toward zero and saturates; NaN
// becomes 0 (ONNX leaves these undefined; this keeps them defined). Anything nonzero,
// NaN included, is true as bool.
#include <cmath>
#include <limits>
#include <type_traits>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

template <typename To>
To from_double(double value) {
  if constexpr (std::is_same_v<To, bool>) {
    return value != 0.0;
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(value);
  } else {
    if (std::isnan(value)) return 0;
    if (value <= static_cast<double>(std::numeric_limits<To>::lowest())) {
      return std::numeric_limits<To>::lowest();
    }
    if (value >= static_cast<double>(std::numeric_limits<To>::max())) {
      return std::numeric_limits<To>::max();
    }
    return static_cast<To>(value);
  }
}

template <typename From, typename To>
void convert(const From* in, To* out, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) {
    if constexpr (std::is_floating_point_v<From>) {
      out[i] = from_double<To>(static_cast<double>(in[i]));
    } else if constexpr (std::is_same_v<To, bool>) {
      out[i] = in[i] != From(0);
    } else {
      out[i] = static_cast<To>(in[i]);  // integer narrowing wraps; int -> float rounds
    }
  }
}

// f16 is handled by widening to float first (or narrowing from float last).
template <typename From>
void convert_to(DType to, const From* in, void* out, std::int64_t count) {
  switch (to) {
    case DType::f32:
      convert(in, static_cast<float*>(out), count);
      return;
    case DType::f16: {
      auto* target = static_cast<std::uint16_t*>(out);
      for (std::int64_t i = 0; i < count; ++i) {
        target[i] = float_to_half(static_cast<float>(in[i]));
      }
      return;
    }
    case DType::i8:
      convert(in, static_cast<std::int8_t*>(out), count);
      return;
    case DType::u8:
      convert(in, static_cast<std::uint8_t*>(out), count);
      return;
    case DType::i32:
      convert(in, static_cast<std::int32_t*>(out), count);
      return;
    case DType::i64:
      convert(in, static_cast<std::int64_t*>(out), count);
      return;
    case DType::boolean:
      convert(in, static_cast<bool*>(out), count);
      return;
  }
}

void run_cast(const Tensor& input, Tensor& output) {
  const std::int64_t count = input.numel();
  const void* in = input.raw();
  void* out = output.raw();
  switch (input.dtype()) {
    case DType::f32:
      convert_to(output.dtype(), static_cast<const float*>(in), out, count);
      return;
    case DType::f16: {
      // Widen in blocks so no allocation is needed.
      const auto* source = static_cast<const std::uint16_t*>(in);
      float block[256];
      const std::size_t element = dtype_size(output.dtype());
      for (std::int64_t start = 0; start < count; start += 256) {
        const std::int64_t n = std::min<std::int64_t>(256, count - start);
        for (std::int64_t i = 0; i < n; ++i) block[i] = half_to_float(source[start + i]);
        convert_to(output.dtype(), block, static_cast<std::byte*>(out) + start * element, n);
      }
      return;
    }
    case DType::i8:
      convert_to(output.dtype(), static_cast<const std::int8_t*>(in), out, count);
      return;
    case DType::u8:
      convert_to(output.dtype(), static_cast<const std::uint8_t*>(in), out, count);
      return;
    case DType::i32:
      convert_to(output.dtype(), static_cast<const std::int32_t*>(in), out, count);
      return;
    case DType::i64:
      convert_to(output.dtype(), static_cast<const std::int64_t*>(in), out, count);
      return;
    case DType::boolean:
      convert_to(output.dtype(), static_cast<const bool*>(in), out, count);
      return;
  }
}

// ONNX TensorProto.DataType codes for the `to` attribute.
DType onnx_dtype(const graph::Node& node, std::int64_t code) {
  switch (code) {
    case 1:
      return DType::f32;
    case 2:
      return DType::u8;
    case 3:
      return DType::i8;
    case 6:
      return DType::i32;
    case 7:
      return DType::i64;
    case 9:
      return DType::boolean;
    case 10:
      return DType::f16;
    default:
      fail("node {}: cast to ONNX data type {} is not supported", node.label(), code);
  }
}

}  // namespace

void infer_cast(PrepareContext& context) {
  check_input_count(context, 1, 1);
  prepare_outputs(context, 1, 1);
  const DType to = onnx_dtype(context.node, context.node.attr_int("to"));
  set_output(context, 0, to, context.inputs[0].shape);
}

std::unique_ptr<Kernel> create_cast(const PrepareContext&) {
  return make_kernel(
      [](std::span<const Tensor> in, std::span<Tensor> out) { run_cast(in[0], out[0]); });
}

}  // namespace edgeperf::runtime::reference
