// Concat without the copy: a part whose only reader is a channel Concat is computed
// straight into its slice of the Concat's buffer, when that slice is itself a dense
// tensor in the part's layout (batch 1, plain or channel-blocked, whole blocks before
// it). The Concat then copies only the parts that are not there yet, or nothing.
#include <array>

#include "aligned_buffer.h"
#include "region_context.h"

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::memory;

constexpr std::array kSliceableLayouts = {memory::format_tag::aBcd16b, memory::format_tag::aBcd8b,
                                          memory::format_tag::abcd};

std::optional<memory::format_tag> sliceable_layout(const memory::desc& md) {
  if (md.dims().size() != 4) return std::nullopt;
  for (memory::format_tag tag : kSliceableLayouts) {
    if (md == memory::desc(md.dims(), memory::data_type::f32, tag)) return tag;
  }
  return std::nullopt;
}

// The byte offset of `part` in `whole` from channel `first` on, when that slice of
// `whole` is laid out exactly as `part`.
std::optional<std::size_t> dense_slice_offset(const memory::desc& whole, const memory::desc& part,
                                              std::int64_t first) {
  memory::dims offsets(whole.dims().size(), 0);
  offsets[1] = first;
  memory::desc slice;
  try {
    slice = whole.submemory_desc(part.dims(), offsets);
  } catch (const dnnl::error&) {
    return std::nullopt;  // not along whole blocks
  }
  dnnl_memory_desc_t raw = slice.data;
  const auto offset = static_cast<std::size_t>(raw.offset0) * sizeof(float);
  raw.offset0 = 0;
  for (int d = 0; d < raw.ndims; ++d) raw.padded_offsets[d] = 0;
  // Our own kernels may load whole vectors from aligned addresses.
  if (memory::desc(raw) != part || offset % kBufferAlignment != 0) return std::nullopt;
  return offset;
}

}  // namespace

// DenseNet's Concat read only by a BatchNormalization applies it while it copies
// (ops/concat.cpp): it writes a buffer of its own, and a slice would go unused.
bool RegionContext::read_by_batch_norm(const std::string& name) const {
  const std::vector<std::size_t>& readers = input().consumers_of(name);
  return readers.size() == 1 && planned(readers[0]).node->op_type == "BatchNormalization";
}

std::optional<int> RegionContext::concat_slice(const std::string& name, const memory::desc& md) {
  const std::vector<std::size_t>& readers = input().consumers_of(name);
  if (readers.size() != 1 || input().is_graph_output(name) || is_region_output(name))
    return std::nullopt;
  const std::size_t index = readers[0];
  if (!in_region(index) || !enabled_[index] || claimed_[index]) return std::nullopt;
  const PlannedNode& node = planned(index);
  if (node.node->op_type != "Concat" || !node.node->domain.empty() || node.outputs.size() != 1 ||
      node.outputs[0].shape.size() != 4 || parse_concat_axis(node) != 1)
    return std::nullopt;
  const std::string& output = node.node->outputs[0];
  if (input().is_graph_output(output) || is_region_output(output) || read_by_batch_norm(output))
    return std::nullopt;
  std::int64_t first = 0;
  int position = -1;
  for (std::size_t i = 0; i < node.node->inputs.size(); ++i) {
    if (node.node->inputs[i] == name) {
      if (position >= 0) return std::nullopt;  // read twice: two slices
      position = static_cast<int>(i);
    } else if (position < 0) {
      first += node.inputs[i].shape[1];
    }
  }
  const std::optional<memory::format_tag> tag = sliceable_layout(md);
  if (position < 0 || !tag) return std::nullopt;
  const memory::desc whole(node.outputs[0].shape, memory::data_type::f32, *tag);
  const std::optional<std::size_t> offset = dense_slice_offset(whole, md, first);
  if (!offset) return std::nullopt;
  auto [found, added] = concat_storages_.try_emplace(index, ConcatStorage{-1, whole});
  if (added) found->second.storage = new_storage(whole.get_size());
  if (found->second.whole != whole) return std::nullopt;  // an earlier part has another layout
  const int slice = new_storage(md.get_size());
  storages_[slice].within = found->second.storage;
  storages_[slice].offset = *offset;
  return slice;
}

std::optional<RegionContext::InPlaceConcat> RegionContext::concat_in_place(
    std::size_t index, const memory::desc& md) const {
  const auto found = concat_storages_.find(index);
  if (found == concat_storages_.end() || found->second.whole != md) return std::nullopt;
  const PlannedNode& node = planned(index);
  InPlaceConcat result{found->second.storage, {}};
  for (std::size_t i = 0; i < node.node->inputs.size(); ++i) {
    const auto part = values_.find(node.node->inputs[i]);
    result.parts.push_back(part != values_.end() &&
                           storages_[part->second.storage].within == result.storage);
  }
  return result;
}

}  // namespace edgeperf::runtime::onednn
