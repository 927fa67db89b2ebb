// Elementwise binary ops with multidirectional broadcasting: Add Sub Mul Div Pow Max Min Mod,
// comparisons (Equal Less Greater LessOrEqual GreaterOrEqual), logic (And Or), and Where.
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

enum class BinaryOp {
  add,
  sub,
  mul,
  div,
  pow,
  mod,   // Mod with fmod=0: the remainder takes the divisor's sign (integers only)
  fmod,  // Mod with fmod=1: the remainder takes the dividend's sign, as C's fmod
  max,
  min,
  equal,
  less,
  greater,
  less_equal,
  greater_equal,
  logical_and,
  logical_or
};

BinaryOp parse_op(const graph::Node& node) {
  static constexpr std::pair<std::string_view, BinaryOp> kOps[] = {
      {"Add", BinaryOp::add},
      {"Sub", BinaryOp::sub},
      {"Mul", BinaryOp::mul},
      {"Div", BinaryOp::div},
      {"Pow", BinaryOp::pow},
      {"Max", BinaryOp::max},
      {"Min", BinaryOp::min},
      {"Equal", BinaryOp::equal},
      {"Less", BinaryOp::less},
      {"Greater", BinaryOp::greater},
      {"LessOrEqual", BinaryOp::less_equal},
      {"GreaterOrEqual", BinaryOp::greater_equal},
      {"And", BinaryOp::logical_and},
      {"Or", BinaryOp::logical_or}};
  for (const auto& [name, op] : kOps) {
    if (name == node.op_type) return op;
  }
  if (node.op_type == "Mod") return node.attr_int("fmod", 0) != 0 ? BinaryOp::fmod : BinaryOp::mod;
  fail("node {}: not an elementwise binary op", node.label());
}

bool is_comparison(BinaryOp op) {
  return op == BinaryOp::equal || op == BinaryOp::less || op == BinaryOp::greater ||
         op == BinaryOp::less_equal || op == BinaryOp::greater_equal;
}
bool is_logical(BinaryOp op) { return op == BinaryOp::logical_and || op == BinaryOp::logical_or; }

// Applies op to broadcast operands a, b into dense y.
template <typename T, typename Out, typename Op>
void broadcast_apply(const Tensor& a, const Tensor& b, Tensor& y, Op op) {
  const T* pa = static_cast<const T*>(a.raw());
  const T* pb = static_cast<const T*>(b.raw());
  Out* py = static_cast<Out*>(y.raw());
  if (a.shape() == b.shape()) {
    for (std::int64_t i = 0; i < y.numel(); ++i) py[i] = op(pa[i], pb[i]);
    return;
  }
  const Shape& shape = y.shape();
  const auto sa = broadcast_strides(a.shape(), shape);
  const auto sb = broadcast_strides(b.shape(), shape);
  const std::int64_t inner_a = shape.empty() ? 0 : sa.back();
  const std::int64_t inner_b = shape.empty() ? 0 : sb.back();
  for_each_row(shape, {sa, sb}, [&](const std::vector<std::int64_t>& offsets, std::int64_t n) {
    const T* ra = pa + offsets[0];
    const T* rb = pb + offsets[1];
    for (std::int64_t i = 0; i < n; ++i) py[i] = op(ra[i * inner_a], rb[i * inner_b]);
    py += n;
  });
}

// Integer arithmetic wraps around (two's complement) instead of overflowing.
template <typename T>
T wrap(std::uint64_t value) {
  return static_cast<T>(value);
}

template <typename T>
T integer_pow(T base, T exponent) {
  const double value = std::pow(static_cast<double>(base), static_cast<double>(exponent));
  if (!(value == value)) return 0;
  if (value >= static_cast<double>(std::numeric_limits<T>::max())) {
    return std::numeric_limits<T>::max();
  }
  if (value <= static_cast<double>(std::numeric_limits<T>::lowest())) {
    return std::numeric_limits<T>::lowest();
  }
  return static_cast<T>(value);
}

template <typename T>
void run_arithmetic(BinaryOp op, const std::string& label, const Tensor& a, const Tensor& b,
                    Tensor& y) {
  constexpr bool kInt = std::is_integral_v<T>;
  using U = std::conditional_t<kInt, std::uint64_t, T>;
  switch (op) {
    case BinaryOp::add:
      broadcast_apply<T, T>(a, b, y, [](T x, T z) {
        if constexpr (kInt)
          return wrap<T>(static_cast<U>(x) + static_cast<U>(z));
        else
          return x + z;
      });
      return;
    case BinaryOp::sub:
      broadcast_apply<T, T>(a, b, y, [](T x, T z) {
        if constexpr (kInt)
          return wrap<T>(static_cast<U>(x) - static_cast<U>(z));
        else
          return x - z;
      });
      return;
    case BinaryOp::mul:
      broadcast_apply<T, T>(a, b, y, [](T x, T z) {
        if constexpr (kInt)
          return wrap<T>(static_cast<U>(x) * static_cast<U>(z));
        else
          return x * z;
      });
      return;
    case BinaryOp::div:
      broadcast_apply<T, T>(a, b, y, [&label](T x, T z) {
        if constexpr (kInt) {
          if (z == 0) fail("node {}: integer division by zero", label);
          if (std::is_signed_v<T> && z == T(-1)) return wrap<T>(U(0) - static_cast<U>(x));
          return static_cast<T>(x / z);  // truncates toward zero, as ONNX does
        } else {
          return x / z;
        }
      });
      return;
    case BinaryOp::pow:
      broadcast_apply<T, T>(a, b, y, [](T x, T z) {
        if constexpr (kInt)
          return integer_pow(x, z);
        else
          return static_cast<T>(std::pow(x, z));
      });
      return;
    case BinaryOp::mod:
    case BinaryOp::fmod:
      broadcast_apply<T, T>(a, b, y, [&label, op](T x, T z) {
        if constexpr (kInt) {
          if (z == 0) fail("node {}: integer modulo by zero", label);
          if (std::is_signed_v<T> && z == T(-1)) return T(0);
          const T remainder = static_cast<T>(x % z);
          const bool python_sign =
              op == BinaryOp::mod && remainder != 0 && ((remainder < 0) != (z < 0));
          return python_sign ? static_cast<T>(remainder + z) : remainder;
        } else {
          return static_cast<T>(std::fmod(x, z));
        }
      });
      return;
    case BinaryOp::max:
      broadcast_apply<T, T>(a, b, y, [](T x, T z) {
        if constexpr (!kInt) {
          if (std::isnan(x) || std::isnan(z)) return std::numeric_limits<T>::quiet_NaN();
        }
        return x > z ? x : z;
      });
      return;
    case BinaryOp::min:
      broadcast_apply<T, T>(a, b, y, [](T x, T z) {
        if constexpr (!kInt) {
          if (std::isnan(x) || std::isnan(z)) return std::numeric_limits<T>::quiet_NaN();
        }
        return x < z ? x : z;
      });
      return;
    default:
      break;
  }
  fail("node {}: unsupported arithmetic op", label);
}

template <typename T>
void run_comparison(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& y) {
  switch (op) {
    case BinaryOp::equal:
      broadcast_apply<T, bool>(a, b, y, [](T x, T z) { return x == z; });
      break;
    case BinaryOp::less:
      broadcast_apply<T, bool>(a, b, y, [](T x, T z) { return x < z; });
      break;
    case BinaryOp::greater:
      broadcast_apply<T, bool>(a, b, y, [](T x, T z) { return x > z; });
      break;
    case BinaryOp::less_equal:
      broadcast_apply<T, bool>(a, b, y, [](T x, T z) { return x <= z; });
      break;
    case BinaryOp::greater_equal:
      broadcast_apply<T, bool>(a, b, y, [](T x, T z) { return x >= z; });
      break;
    case BinaryOp::logical_and:
      broadcast_apply<T, bool>(a, b, y, [](T x, T z) { return x && z; });
      break;
    case BinaryOp::logical_or:
      broadcast_apply<T, bool>(a, b, y, [](T x, T z) { return x || z; });
      break;
    default:
      break;
  }
}

// Pow may take an exponent of another dtype; a constant one is converted at create time.
Tensor convert_to(const Tensor& value, DType dtype) {
  Tensor converted(dtype, value.shape());
  if (dtype == DType::f32) {
    const auto doubles = value.to_doubles();
    for (std::size_t i = 0; i < doubles.size(); ++i) {
      converted.data<float>()[i] = static_cast<float>(doubles[i]);
    }
  } else {
    const auto ints = value.to_int64s();
    for (std::size_t i = 0; i < ints.size(); ++i) {
      if (dtype == DType::i64) converted.data<std::int64_t>()[i] = ints[i];
      if (dtype == DType::i32)
        converted.data<std::int32_t>()[i] = static_cast<std::int32_t>(ints[i]);
    }
  }
  return converted;
}

void check_binary(const PrepareContext& context, BinaryOp op) {
  check_input_count(context, 2, 2);
  const DType a = context.inputs[0].dtype;
  const DType b = context.inputs[1].dtype;
  if (is_logical(op)) {
    check_dtype(context, 0, {DType::boolean}, "A");
    check_dtype(context, 1, {DType::boolean}, "B");
    return;
  }
  check_dtype(context, 0, {DType::f32, DType::i32, DType::i64, DType::i8, DType::u8}, "A");
  if (op == BinaryOp::pow && a != b) {
    check_dtype(context, 1, {DType::f32, DType::i32, DType::i64}, "B");
    EP_CHECK(
        context.constant(1) != nullptr && (a == DType::f32 || a == DType::i32 || a == DType::i64),
        "node {}: Pow with exponent dtype {} differing from base dtype {} needs a constant "
        "exponent",
        context.node.label(), dtype_name(b), dtype_name(a));
    return;
  }
  check_same_dtype(context, 0, 1);
  EP_CHECK(op != BinaryOp::mod || a != DType::f32,
           "node {}: Mod of floating-point inputs needs fmod=1 (ONNX)", context.node.label());
}

}  // namespace

void infer_binary(PrepareContext& context) {
  const BinaryOp op = parse_op(context.node);
  check_binary(context, op);
  prepare_outputs(context, 1, 1);
  const Shape shape =
      broadcast_shapes(context.node, context.inputs[0].shape, context.inputs[1].shape);
  const bool boolean = is_comparison(op) || is_logical(op);
  set_output(context, 0, boolean ? DType::boolean : context.inputs[0].dtype, shape);
}

std::unique_ptr<Kernel> create_binary(const PrepareContext& context) {
  const BinaryOp op = parse_op(context.node);
  check_binary(context, op);
  const DType dtype = context.inputs[0].dtype;
  const std::string label = context.node.label();
  const graph::Node node = context.node;
  std::optional<Tensor> exponent;
  if (context.inputs[1].dtype != dtype) exponent = convert_to(*context.constant(1), dtype);
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    const Tensor& b = exponent ? *exponent : in[1];
    if (is_logical(op)) {
      run_comparison<bool>(op, in[0], b, out[0]);
      return;
    }
    dispatch_numeric(node, dtype, [&](auto tag) {
      using T = decltype(tag);
      if (is_comparison(op)) {
        run_comparison<T>(op, in[0], b, out[0]);
      } else {
        run_arithmetic<T>(op, label, in[0], b, out[0]);
      }
    });
  });
}

// ---- Variadic Sum Mean Max Min: output = broadcast(input 0), then folded in order ----

namespace {

BinaryOp variadic_op(const graph::Node& node) {
  if (node.op_type == "Max") return BinaryOp::max;
  if (node.op_type == "Min") return BinaryOp::min;
  return BinaryOp::add;  // Sum, Mean
}

void check_variadic(const PrepareContext& context) {
  EP_CHECK(!context.inputs.empty(), "node {}: needs at least one input", context.node.label());
  const bool mean = context.node.op_type == "Mean";
  for (std::size_t i = 0; i < context.inputs.size(); ++i) {
    EP_CHECK(context.inputs[i].present, "node {}: input {} is missing", context.node.label(), i);
    check_same_dtype(context, 0, i);
  }
  if (mean) {
    check_dtype(context, 0, {DType::f32}, "data_0");
  } else {
    check_dtype(context, 0, {DType::f32, DType::i32, DType::i64, DType::i8, DType::u8}, "data_0");
  }
}

}  // namespace

void infer_variadic(PrepareContext& context) {
  check_variadic(context);
  Shape shape = context.inputs[0].shape;
  for (const TensorDesc& input : context.inputs) {
    shape = broadcast_shapes(context.node, shape, input.shape);
  }
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, shape);
}

std::unique_ptr<Kernel> create_variadic(const PrepareContext& context) {
  check_variadic(context);
  const BinaryOp op = variadic_op(context.node);
  const bool mean = context.node.op_type == "Mean";
  const DType dtype = context.inputs[0].dtype;
  const std::string label = context.node.label();
  const graph::Node node = context.node;
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    Tensor& y = out[0];
    copy_strided(static_cast<const std::byte*>(in[0].raw()), 0,
                 broadcast_strides(in[0].shape(), y.shape()), y.shape(), dtype_size(dtype),
                 static_cast<std::byte*>(y.raw()));
    dispatch_numeric(node, dtype, [&](auto tag) {
      using T = decltype(tag);
      for (std::size_t i = 1; i < in.size(); ++i) run_arithmetic<T>(op, label, y, in[i], y);
    });
    if (mean) {
      const auto count = static_cast<float>(in.size());
      for (float& value : y.values<float>()) value /= count;
    }
  });
}

// ---- Where(condition, X, Y) ----

void infer_where(PrepareContext& context) {
  check_input_count(context, 3, 3);
  check_dtype(context, 0, {DType::boolean}, "condition");
  check_same_dtype(context, 1, 2);
  prepare_outputs(context, 1, 1);
  const graph::Node& node = context.node;
  const Shape shape =
      broadcast_shapes(node, context.inputs[0].shape,
                       broadcast_shapes(node, context.inputs[1].shape, context.inputs[2].shape));
  set_output(context, 0, context.inputs[1].dtype, shape);
}

template <typename T>
void run_where(const Tensor& condition, const Tensor& x, const Tensor& y, Tensor& out) {
  const Shape& shape = out.shape();
  const auto sc = broadcast_strides(condition.shape(), shape);
  const auto sx = broadcast_strides(x.shape(), shape);
  const auto sy = broadcast_strides(y.shape(), shape);
  const bool* pc = condition.data<bool>();
  const T* px = static_cast<const T*>(x.raw());
  const T* py = static_cast<const T*>(y.raw());
  T* po = static_cast<T*>(out.raw());
  const std::int64_t ic = shape.empty() ? 0 : sc.back();
  const std::int64_t ix = shape.empty() ? 0 : sx.back();
  const std::int64_t iy = shape.empty() ? 0 : sy.back();
  for_each_row(shape, {sc, sx, sy}, [&](const std::vector<std::int64_t>& o, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
      po[i] = pc[o[0] + i * ic] ? px[o[1] + i * ix] : py[o[2] + i * iy];
    }
    po += n;
  });
}

std::unique_ptr<Kernel> create_where(const PrepareContext& context) {
  const std::size_t size = dtype_size(context.inputs[1].dtype);
  return make_kernel([size](std::span<const Tensor> in, std::span<Tensor> out) {
    switch (size) {
      case 1:
        run_where<std::uint8_t>(in[0], in[1], in[2], out[0]);
        break;
      case 2:
        run_where<std::uint16_t>(in[0], in[1], in[2], out[0]);
        break;
      case 4:
        run_where<std::uint32_t>(in[0], in[1], in[2], out[0]);
        break;
      default:
        run_where<std::uint64_t>(in[0], in[1], in[2], out[0]);
        break;
    }
  });
}

}  // namespace edgeperf::runtime::reference
