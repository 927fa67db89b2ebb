// edgeperf.SparseWeight: a pruned weight stored as a bitmask and its nonzero values
// (docs/sparse-format.md). Both inputs are initializers, so the output is known at load
// time: infer() decodes it and the session treats it as a constant (folded once).
#include <bit>
#include <cstring>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

Shape dense_shape(const graph::Node& node) {
  EP_CHECK(node.has_attr("shape"), "node {}: missing attribute 'shape'", node.label());
  Shape shape = node.attr_ints("shape");
  element_count(shape, "node " + node.label() + " attribute 'shape'");
  return shape;
}

void check_mask_bits(const graph::Node& node, const std::uint8_t* mask, std::int64_t mask_bytes,
                     std::int64_t numel, std::int64_t value_count) {
  std::int64_t set_bits = 0;
  for (std::int64_t i = 0; i < mask_bytes; ++i) set_bits += std::popcount(mask[i]);
  EP_CHECK(set_bits == value_count, "node {}: the mask has {} set bits but there are {} values",
           node.label(), set_bits, value_count);
  const int used_bits_in_last_byte = static_cast<int>(numel % 8);
  if (used_bits_in_last_byte == 0) return;
  const std::uint8_t padding = mask[mask_bytes - 1] >> used_bits_in_last_byte;
  EP_CHECK(padding == 0, "node {}: the mask sets padding bits past element {}", node.label(),
           numel - 1);
}

template <typename T>
void scatter(const std::uint8_t* bits, const Tensor& values, Tensor& dense) {
  T* out = dense.data<T>();
  const T* next_value = values.data<T>();
  for (std::int64_t i = 0; i < dense.numel(); ++i) {
    if ((bits[i >> 3] >> (i & 7)) & 1) out[i] = *next_value++;
  }
}

Tensor decode(const graph::Node& node, const Tensor& mask, const Tensor& values,
              const Shape& shape) {
  const std::int64_t numel = element_count(shape);
  EP_CHECK(mask.dtype() == DType::u8 && mask.rank() == 1 && mask.dim(0) == (numel + 7) / 8,
           "node {}: mask must be u8 [{}] for shape {}, got {} {}", node.label(), (numel + 7) / 8,
           shape_to_string(shape), dtype_name(mask.dtype()), shape_to_string(mask.shape()));
  EP_CHECK((values.dtype() == DType::f32 || values.dtype() == DType::i8) && values.rank() == 1,
           "node {}: values must be f32 or i8 [nonzeros], got {} {}", node.label(),
           dtype_name(values.dtype()), shape_to_string(values.shape()));
  const std::uint8_t* bits = mask.data<std::uint8_t>();
  check_mask_bits(node, bits, mask.dim(0), numel, values.dim(0));
  Tensor dense(values.dtype(), shape);
  if (values.dtype() == DType::f32) {
    scatter<float>(bits, values, dense);
  } else {
    scatter<std::int8_t>(bits, values, dense);
  }
  return dense;
}

Tensor decode_from_context(const PrepareContext& context) {
  check_input_count(context, 2, 2);
  check_dtype(context, 0, {DType::u8}, "mask");
  check_dtype(context, 1, {DType::f32, DType::i8}, "values");
  const Tensor& mask = require_constant(context, 0, "mask");
  const Tensor& values = require_constant(context, 1, "values");
  return decode(context.node, mask, values, dense_shape(context.node));
}

}  // namespace

void infer_sparse_weight(PrepareContext& context) {
  Tensor dense = decode_from_context(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, dense.dtype(), dense.shape());
  context.output_values[0] = std::move(dense);
}

std::unique_ptr<Kernel> create_sparse_weight(const PrepareContext& context) {
  const Tensor dense = decode_from_context(context);
  return make_kernel([dense](std::span<const Tensor>, std::span<Tensor> out) {
    if (dense.nbytes() > 0) std::memcpy(out[0].raw(), dense.raw(), dense.nbytes());
  });
}

}  // namespace edgeperf::runtime::reference
