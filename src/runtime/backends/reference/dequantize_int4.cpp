// edgeperf.DequantizeInt4(packed, scales) -> f32 weight of attribute `shape`.
// The weight is read as rows = shape[0] by K = the rest; each row is split into
// ceil(K / block_size) groups with one scale each (scales: f16 or f32 [rows * groups]).
// packed: u8 [ceil(rows * K / 2)], the 4-bit codes of the weight in row-major order, two
// per byte, low nibble first (no padding); w = (code - 8) * scale.
// Both inputs are initializers, so infer() decodes once and the session folds it.
#include <cstring>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct Int4Layout {
  Shape shape;
  std::int64_t rows = 0, k = 0, block = 0, groups = 0;
};

Int4Layout layout_of(const graph::Node& node) {
  EP_CHECK(node.has_attr("shape"), "node {}: missing attribute 'shape'", node.label());
  Int4Layout layout;
  layout.shape = node.attr_ints("shape");
  const std::int64_t numel =
      element_count(layout.shape, "node " + node.label() + " attribute 'shape'");
  EP_CHECK(!layout.shape.empty() && layout.shape[0] > 0,
           "node {}: attribute 'shape' needs a first dimension > 0", node.label());
  layout.block = node.attr_int("block_size");
  EP_CHECK(layout.block >= 1 && layout.block <= 4096, "node {}: block_size {} is not in [1, 4096]",
           node.label(), layout.block);
  layout.rows = layout.shape[0];
  layout.k = numel / layout.rows;
  layout.groups = (layout.k + layout.block - 1) / layout.block;
  return layout;
}

float scale_at(const Tensor& scales, std::int64_t index) {
  return scales.dtype() == DType::f16 ? half_to_float(scales.data<std::uint16_t>()[index])
                                      : scales.data<float>()[index];
}

Tensor decode(const graph::Node& node, const Tensor& packed, const Tensor& scales) {
  const Int4Layout layout = layout_of(node);
  const std::int64_t numel = layout.rows * layout.k;
  EP_CHECK(packed.dtype() == DType::u8 && packed.numel() == (numel + 1) / 2,
           "node {}: packed must be u8 with {} bytes, got {} {}", node.label(), (numel + 1) / 2,
           dtype_name(packed.dtype()), shape_to_string(packed.shape()));
  EP_CHECK(scales.numel() == layout.rows * layout.groups,
           "node {}: scales must hold {} values, got {}", node.label(), layout.rows * layout.groups,
           shape_to_string(scales.shape()));
  Tensor weight(DType::f32, layout.shape);
  float* out = weight.data<float>();
  const std::uint8_t* bytes = packed.data<std::uint8_t>();
  for (std::int64_t r = 0; r < layout.rows; ++r) {
    for (std::int64_t i = 0; i < layout.k; ++i) {
      const std::int64_t flat = r * layout.k + i;
      const int code = flat % 2 == 0 ? (bytes[flat / 2] & 0x0F) : (bytes[flat / 2] >> 4);
      out[flat] =
          static_cast<float>(code - 8) * scale_at(scales, r * layout.groups + i / layout.block);
    }
  }
  return weight;
}

Tensor decode_from_context(const PrepareContext& context) {
  check_input_count(context, 2, 2);
  check_dtype(context, 0, {DType::u8}, "packed");
  check_dtype(context, 1, {DType::f16, DType::f32}, "scales");
  return decode(context.node, require_constant(context, 0, "packed"),
                require_constant(context, 1, "scales"));
}

}  // namespace

void infer_dequantize_int4(PrepareContext& context) {
  Tensor weight = decode_from_context(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, weight.dtype(), weight.shape());
  context.output_values[0] = std::move(weight);
}

std::unique_ptr<Kernel> create_dequantize_int4(const PrepareContext& context) {
  const Tensor weight = decode_from_context(context);
  return make_kernel([weight](std::span<const Tensor>, std::span<Tensor> out) {
    if (weight.nbytes() > 0) std::memcpy(out[0].raw(), weight.raw(), weight.nbytes());
  });
}

}  // namespace edgeperf::runtime::reference
