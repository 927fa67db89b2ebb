// Reductions: ReduceMean ReduceSum ReduceProd ReduceMax ReduceMin (axes as attribute or input,
// keepdims, noop_with_empty_axes) and ArgMax ArgMin.
#include <cmath>
#include <limits>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct ReduceGeometry {
  Shape input;
  Shape output;
  std::vector<bool> reduced;  // per input axis
  std::int64_t count = 1;     // elements folded into each output
};

ReduceGeometry reduce_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 1, 2);
  if (node.op_type == "ReduceMean") {
    check_dtype(context, 0, {DType::f32}, "data");
  } else {
    check_dtype(context, 0, {DType::f32, DType::i32, DType::i64}, "data");
  }
  ReduceGeometry g;
  g.input = context.inputs[0].shape;
  const auto rank = static_cast<std::int64_t>(g.input.size());
  bool given = false;
  std::vector<std::int64_t> axes = ints_from_input_or_attr(context, 1, "axes", &given);
  const bool keepdims = node.attr_int("keepdims", 1) != 0;
  const bool noop = node.attr_int("noop_with_empty_axes", 0) != 0;
  g.reduced.assign(g.input.size(), false);
  if (axes.empty()) {
    if (!noop) g.reduced.assign(g.input.size(), true);
  } else {
    for (std::int64_t axis : normalize_axes(node, axes, rank)) {
      g.reduced[static_cast<std::size_t>(axis)] = true;
    }
  }
  for (std::size_t i = 0; i < g.input.size(); ++i) {
    if (g.reduced[i]) {
      g.count *= g.input[i];
      if (keepdims) g.output.push_back(1);
    } else {
      g.output.push_back(g.input[i]);
    }
  }
  return g;
}

template <typename T>
void run_reduce(const ReduceGeometry& g, const std::string& op, const T* x, T* y,
                std::int64_t out_count) {
  T initial = op == "ReduceProd" ? T{1} : T{0};
  if (op == "ReduceMax") initial = std::numeric_limits<T>::lowest();
  if (op == "ReduceMin") initial = std::numeric_limits<T>::max();
  if constexpr (std::is_floating_point_v<T>) {
    if (op == "ReduceMax") initial = -std::numeric_limits<T>::infinity();
    if (op == "ReduceMin") initial = std::numeric_limits<T>::infinity();
  }
  for (std::int64_t i = 0; i < out_count; ++i) y[i] = initial;
  // Output strides seen from input indices: 0 on reduced axes.
  Shape kept;
  for (std::size_t i = 0; i < g.input.size(); ++i) kept.push_back(g.reduced[i] ? 1 : g.input[i]);
  const std::vector<std::int64_t> out_strides = broadcast_strides(kept, g.input);
  const std::vector<std::int64_t> in_strides = contiguous_strides(g.input);
  const std::int64_t inner = g.input.empty() ? 0 : out_strides.back();
  const bool is_max = op == "ReduceMax";
  const bool is_min = op == "ReduceMin";
  const bool is_prod = op == "ReduceProd";
  for_each_row(g.input, {in_strides, out_strides},
               [&](const std::vector<std::int64_t>& o, std::int64_t n) {
                 const T* row = x + o[0];
                 T* target = y + o[1];
                 for (std::int64_t i = 0; i < n; ++i) {
                   T& slot = target[i * inner];
                   const T value = row[i];
                   if (is_max) {
                     if (value > slot || value != value) slot = slot != slot ? slot : value;
                   } else if (is_min) {
                     if (value < slot || value != value) slot = slot != slot ? slot : value;
                   } else if (is_prod) {
                     slot *= value;
                   } else {
                     slot += value;
                   }
                 }
               });
  if (op == "ReduceMean") {
    for (std::int64_t i = 0; i < out_count; ++i) y[i] /= static_cast<T>(g.count);
  }
}

}  // namespace

void infer_reduce(PrepareContext& context) {
  const ReduceGeometry g = reduce_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, g.output);
}

std::unique_ptr<Kernel> create_reduce(const PrepareContext& context) {
  const ReduceGeometry g = reduce_geometry(context);
  const std::string op = context.node.op_type;
  const graph::Node node = context.node;
  const DType dtype = context.inputs[0].dtype;
  if ((op == "ReduceMax" || op == "ReduceMin") && g.count == 0) {
    fail("node {}: cannot reduce an empty tensor with {}", node.label(), op);
  }
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    dispatch_numeric(node, dtype, [&](auto tag) {
      using T = decltype(tag);
      run_reduce<T>(g, op, static_cast<const T*>(in[0].raw()), static_cast<T*>(out[0].raw()),
                    out[0].numel());
    });
  });
}

// ---- ArgMax / ArgMin ----

struct ArgGeometry {
  std::int64_t outer = 1, length = 1, inner = 1;
  bool max = true, last = false;
  Shape output;
};

ArgGeometry arg_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 1, 1);
  check_dtype(context, 0, {DType::f32, DType::i32, DType::i64}, "data");
  const Shape& x = context.inputs[0].shape;
  EP_CHECK(!x.empty(), "node {}: input must have rank >= 1", node.label());
  const auto axis = static_cast<std::size_t>(
      normalize_axis(node, node.attr_int("axis", 0), static_cast<std::int64_t>(x.size())));
  EP_CHECK(x[axis] > 0, "node {}: cannot take {} over an empty axis", node.label(), node.op_type);
  ArgGeometry g;
  g.max = node.op_type == "ArgMax";
  g.last = node.attr_int("select_last_index", 0) != 0;
  g.outer = product(x, 0, axis);
  g.length = x[axis];
  g.inner = product(x, axis + 1, x.size());
  const bool keepdims = node.attr_int("keepdims", 1) != 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (i != axis)
      g.output.push_back(x[i]);
    else if (keepdims)
      g.output.push_back(1);
  }
  return g;
}

template <typename T>
void run_arg(const ArgGeometry& g, const T* x, std::int64_t* y) {
  for (std::int64_t o = 0; o < g.outer; ++o) {
    for (std::int64_t i = 0; i < g.inner; ++i) {
      const T* base = x + o * g.length * g.inner + i;
      std::int64_t best = 0;
      for (std::int64_t k = 1; k < g.length; ++k) {
        const T value = base[k * g.inner];
        const T current = base[best * g.inner];
        const bool better = g.max ? value > current : value < current;
        if (better || (g.last && value == current)) best = k;
      }
      y[o * g.inner + i] = best;
    }
  }
}

void infer_arg_reduce(PrepareContext& context) {
  const ArgGeometry g = arg_geometry(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, DType::i64, g.output);
}

std::unique_ptr<Kernel> create_arg_reduce(const PrepareContext& context) {
  const ArgGeometry g = arg_geometry(context);
  const DType dtype = context.inputs[0].dtype;
  const graph::Node node = context.node;
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    dispatch_numeric(node, dtype, [&](auto tag) {
      using T = decltype(tag);
      run_arg<T>(g, static_cast<const T*>(in[0].raw()), out[0].data<std::int64_t>());
    });
  });
}

}  // namespace edgeperf::runtime::reference
