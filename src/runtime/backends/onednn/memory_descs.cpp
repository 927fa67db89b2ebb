#include "memory_descs.h"

#include <string_view>

#include "int8_patterns.h"

namespace edgeperf::runtime::onednn {

using dnnl::memory;

memory::desc plain_desc(const Shape& shape, memory::data_type type) {
  return memory::desc(shape, type, contiguous_strides(shape));
}

memory::desc plain_desc(const TensorDesc& desc) {
  return plain_desc(desc.shape, dnnl_type(desc.dtype));
}

memory::desc any_desc(const Shape& shape) {
  return memory::desc(shape, memory::data_type::f32, memory::format_tag::any);
}

memory::data_type type_of(const memory::desc& md) {
  return static_cast<memory::data_type>(md.data.data_type);
}

memory::desc with_type(memory::desc md, memory::data_type type) {
  md.data.data_type = static_cast<dnnl_data_type_t>(type);
  return md;
}

std::optional<memory::format_tag> activation_layout(const memory::desc& md) {
  if (md.dims().size() != 4) return std::nullopt;
  for (memory::format_tag tag :
       {memory::format_tag::aBcd16b, memory::format_tag::acdb, memory::format_tag::aBcd8b}) {
    if (md == memory::desc(md.dims(), memory::data_type::f32, tag)) return tag;
  }
  return std::nullopt;
}

std::optional<memory::desc> with_batch(const memory::desc& md, memory::dim batch) {
  dnnl_memory_desc_t raw = md.data;
  if (raw.format_kind != dnnl_blocked || raw.ndims < 1 || raw.offset0 != 0 ||
      raw.extra.flags != 0 || raw.padded_dims[0] != raw.dims[0] || raw.dims[0] <= 0) {
    return std::nullopt;
  }
  const dnnl_blocking_desc_t& blocking = raw.format_desc.blocking;
  for (int i = 0; i < blocking.inner_nblks; ++i) {
    if (blocking.inner_idxs[i] == 0) return std::nullopt;
  }
  const auto elements =
      static_cast<memory::dim>(md.get_size() / memory::data_type_size(type_of(md)));
  if (blocking.strides[0] * raw.dims[0] != elements) return std::nullopt;
  raw.dims[0] = raw.padded_dims[0] = batch;
  return memory::desc(raw);
}

bool is_reference_impl(const dnnl::primitive_desc_base& pd) {
  return std::string_view(pd.impl_info_str()).starts_with("ref");
}

}  // namespace edgeperf::runtime::onednn
