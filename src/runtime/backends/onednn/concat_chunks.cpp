#include "concat_chunks.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::memory;

constexpr std::size_t kPiece = std::size_t{1} << 16;

std::int64_t product(const std::vector<std::int64_t>& dims, std::size_t from, std::size_t to) {
  std::int64_t result = 1;
  for (std::size_t i = from; i < to; ++i) result *= dims[i];
  return result;
}

}  // namespace

std::optional<RowMajorView> row_major_view(const Shape& shape, int axis,
                                           std::optional<memory::format_tag> tag) {
  if (!tag || *tag == memory::format_tag::abcd) return RowMajorView{shape, axis};
  const std::int64_t n = shape[0], c = shape[1], h = shape[2], w = shape[3];
  if (*tag == memory::format_tag::acdb) {
    static constexpr int kChannelsLastAxis[] = {0, 3, 1, 2};
    return RowMajorView{{n, h, w, c}, kChannelsLastAxis[axis]};
  }
  const std::int64_t block = *tag == memory::format_tag::aBcd16b ? 16 : 8;
  if (c % block != 0) return std::nullopt;
  return RowMajorView{{n, c / block, h, w, block}, axis};
}

std::int64_t block_along(const memory::desc& md, int axis) {
  const auto& blocking = md.data.format_desc.blocking;
  std::int64_t block = 1;
  for (int i = 0; i < blocking.inner_nblks; ++i) {
    if (blocking.inner_idxs[i] == axis) block *= blocking.inner_blks[i];
  }
  return block;
}

ChunkCopy::ChunkCopy(std::vector<ConcatPartCopy> parts, std::size_t element_bytes, int threads)
    : threads_(threads), parts_(std::move(parts)) {
  const RowMajorView& first = parts_[0].view;
  outer_ = product(first.dims, 0, static_cast<std::size_t>(first.axis));
  for (const ConcatPartCopy& part : parts_) {
    const RowMajorView& view = part.view;
    const std::int64_t elements =
        product(view.dims, static_cast<std::size_t>(view.axis), view.dims.size());
    chunk_bytes_.push_back(static_cast<std::size_t>(elements) * element_bytes);
  }
  for (std::size_t bytes : chunk_bytes_) row_bytes_ += bytes;
}

void ChunkCopy::operator()(const ArgMap& args) const {
  auto* out = static_cast<std::byte*>(args.at(DNNL_ARG_DST).get_data_handle());
  std::vector<const std::byte*> sources;
  for (std::size_t p = 0; p < parts_.size(); ++p) {
    sources.push_back(static_cast<const std::byte*>(
        args.at(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(p)).get_data_handle()));
  }
  const auto pieces = static_cast<std::int64_t>((outer_ * row_bytes_ + kPiece - 1) / kPiece);
  const int threads = run_threads(threads_);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && pieces > 1)
  for (std::int64_t piece = 0; piece < pieces; ++piece) {
    copy_range(sources, out, static_cast<std::size_t>(piece) * kPiece,
               std::min(static_cast<std::size_t>(piece + 1) * kPiece,
                        static_cast<std::size_t>(outer_) * row_bytes_));
  }
}

// Output bytes [begin, end): row by row, part by part.
void ChunkCopy::copy_range(const std::vector<const std::byte*>& sources, std::byte* out,
                           std::size_t begin, std::size_t end) const {
  while (begin < end) {
    const std::size_t row = begin / row_bytes_;
    std::size_t offset = begin % row_bytes_;
    std::size_t part = 0;
    while (offset >= chunk_bytes_[part]) offset -= chunk_bytes_[part++];
    const std::size_t bytes = std::min(chunk_bytes_[part] - offset, end - begin);
    const ConcatPartCopy& copy = parts_[part];
    const std::byte* source = sources[part] + row * chunk_bytes_[part] + offset;
    if (copy.table) {
      apply_byte_table(*copy.table, reinterpret_cast<const std::uint8_t*>(source),
                       reinterpret_cast<std::uint8_t*>(out + begin), bytes);
    } else if (!copy.in_place) {
      std::memcpy(out + begin, source, bytes);
    }
    begin += bytes;
  }
}

}  // namespace edgeperf::runtime::onednn
