#pragma once
// Small helpers for oneDNN memory descriptors and primitive descriptors.
#include <dnnl.hpp>
#include <optional>

#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime::onednn {

dnnl::memory::desc plain_desc(const Shape& shape,
                              dnnl::memory::data_type type = dnnl::memory::data_type::f32);
dnnl::memory::desc plain_desc(const TensorDesc& desc);
// An f32 descriptor whose layout the primitive chooses.
dnnl::memory::desc any_desc(const Shape& shape);

dnnl::memory::data_type type_of(const dnnl::memory::desc& md);
dnnl::memory::desc with_type(dnnl::memory::desc md, dnnl::memory::data_type type);

// The blocked or channels-last layout of a 4-D f32 activation, if it is one of those.
std::optional<dnnl::memory::format_tag> activation_layout(const dnnl::memory::desc& md);

// `md` with its batch (dimension 0) set to `batch`, when each sample is one contiguous
// run of bytes (dimension 0 outermost and not blocked), so that a chunk of samples is a
// view at an offset; nullopt for other layouts.
std::optional<dnnl::memory::desc> with_batch(const dnnl::memory::desc& md, dnnl::memory::dim batch);

// oneDNN's reference implementations: correct but far slower than the optimized ones.
bool is_reference_impl(const dnnl::primitive_desc_base& pd);

}  // namespace edgeperf::runtime::onednn
