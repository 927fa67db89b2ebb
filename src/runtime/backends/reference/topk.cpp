// TopK (opsets 1, 10, 11): the k largest (or smallest) elements along an axis, with their
// indices. k is an attribute before opset 10 and a constant input from 10. Ties keep
// the lower index first, as ONNX Runtime does; the result is always sorted.
#include <algorithm>
#include <numeric>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct TopKGeometry {
  std::int64_t outer = 1, length = 1, inner = 1, k = 0;
  bool largest = true;
  Shape output;
};

TopKGeometry topk_geometry(const PrepareContext& context) {
  const graph::Node& node = context.node;
  const bool k_is_input = context.opset >= 10;
  check_input_count(context, k_is_input ? 2 : 1, k_is_input ? 2 : 1);
  check_dtype(context, 0, {DType::f32, DType::i32, DType::i64}, "X");
  const Shape& x = context.inputs[0].shape;
  EP_CHECK(!x.empty(), "node {}: X must have rank >= 1", node.label());
  const auto axis = static_cast<std::size_t>(
      normalize_axis(node, node.attr_int("axis", -1), static_cast<std::int64_t>(x.size())));
  TopKGeometry g;
  if (k_is_input) {
    const std::vector<std::int64_t> k = constant_ints(context, 1, "K");
    EP_CHECK(k.size() == 1, "node {}: K must hold one value, got {}", node.label(), k.size());
    g.k = k[0];
  } else {
    g.k = node.attr_int("k");
  }
  EP_CHECK(g.k >= 0 && g.k <= x[axis], "node {}: k = {} is outside [0, {}] (axis {} of {})",
           node.label(), g.k, x[axis], axis, shape_to_string(x));
  g.largest = node.attr_int("largest", 1) != 0;
  g.outer = product(x, 0, axis);
  g.length = x[axis];
  g.inner = product(x, axis + 1, x.size());
  g.output = x;
  g.output[axis] = g.k;
  return g;
}

template <typename T>
void run_topk(const TopKGeometry& g, const T* x, T* values, std::int64_t* indices) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(g.length));
  const auto before = [&](const T* line) {
    return [line, &g](std::int64_t a, std::int64_t b) {
      const T va = line[a * g.inner], vb = line[b * g.inner];
      if (va != vb) return g.largest ? va > vb : va < vb;
      return a < b;
    };
  };
  for (std::int64_t o = 0; o < g.outer; ++o) {
    for (std::int64_t i = 0; i < g.inner; ++i) {
      const T* line = x + o * g.length * g.inner + i;
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + g.k, order.end(), before(line));
      for (std::int64_t j = 0; j < g.k; ++j) {
        const std::int64_t at = (o * g.k + j) * g.inner + i;
        values[at] = line[order[static_cast<std::size_t>(j)] * g.inner];
        indices[at] = order[static_cast<std::size_t>(j)];
      }
    }
  }
}

}  // namespace

void infer_topk(PrepareContext& context) {
  const TopKGeometry g = topk_geometry(context);
  prepare_outputs(context, 2, 2);
  set_output(context, 0, context.inputs[0].dtype, g.output);
  set_output(context, 1, DType::i64, g.output);
}

std::unique_ptr<Kernel> create_topk(const PrepareContext& context) {
  const TopKGeometry g = topk_geometry(context);
  const graph::Node node = context.node;
  const DType dtype = context.inputs[0].dtype;
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    dispatch_numeric(node, dtype, [&](auto tag) {
      using T = decltype(tag);
      run_topk<T>(g, in[0].data<T>(), out[0].data<T>(), out[1].data<std::int64_t>());
    });
  });
}

}  // namespace edgeperf::runtime::reference
