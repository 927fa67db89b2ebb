// QuantizeLinear of an f32 value, in its layout (except RGB images, below): oneDNN's
// reorder quantizing a plain NCHW image straight into channels-last takes twice as
// long as quantizing then reordering the bytes.
#include "../image_quantize.h"
#include "../memory_descs.h"
#include "ops.h"
#include "scaling_reorder.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

using dnnl::memory;

bool is_rgb_image_to_u8(const RegionContext& context, const memory::desc& source,
                        const ActivationQuant& quant) {
  const memory::dims dims = source.dims();
  return context.settings().own_int8_kernels && image_quantize_available() &&
         quant.type == memory::data_type::u8 && dims.size() == 4 && dims[1] == 3 &&
         source == memory::desc(dims, memory::data_type::f32, memory::format_tag::abcd) &&
         quant.zero_point >= 0 && quant.zero_point <= 255 && quant.scale > 0.0f;
}

// A planar RGB f32 image quantized to u8 goes straight to channels-last, the layout
// int8 convs read, in one pass of our own.
bool emit_image_quantize(RegionContext& context, std::size_t index, const ActivationQuant& quant) {
  const Value source = context.value(context.planned(index).node->inputs[0]);
  if (!is_rgb_image_to_u8(context, source.md, quant)) return false;
  const memory::dims dims = source.md.dims();
  const ImageQuantize job{dims[0], dims[2] * dims[3], 1.0f / quant.scale,
                          static_cast<std::uint8_t>(quant.zero_point)};
  const int from = context.activation_slot(source.storage, source.md);
  const int to =
      context.define_new(context.output_of(index),
                         memory::desc(dims, memory::data_type::u8, memory::format_tag::acdb));
  const int threads = context.input().threads;
  context.add_compute_op({}, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, memory::desc(),
                         [job, threads](const ArgMap& bound) {
                           quantize_rgb_to_nhwc_u8(
                               job,
                               static_cast<const float*>(bound.at(DNNL_ARG_FROM).get_data_handle()),
                               static_cast<std::uint8_t*>(bound.at(DNNL_ARG_TO).get_data_handle()),
                               run_threads(threads));
                         });
  return true;
}

}  // namespace

bool match_quantize(const MatchView& view, std::size_t index) {
  return parse_quantize(view.planned(index)).has_value();
}

bool lower_quantize(RegionContext& context, std::size_t index) {
  context.materialize_inputs(index);
  const ActivationQuant quant = *parse_quantize(context.planned(index));
  if (emit_image_quantize(context, index, quant)) return true;
  const Value source = context.value(context.planned(index).node->inputs[0]);
  const memory::desc md = with_type(source.md, quant.type);
  dnnl::primitive_attr attr = context.base_attr();
  attr.set_output_scales(0, {1.0f / quant.scale});
  if (quant.zero_point != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {quant.zero_point});
  add_scaling_reorder(context, index, source, md, attr);
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
