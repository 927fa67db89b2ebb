#pragma once
// A Concat as copies of contiguous chunks: each part and the output seen as row-major
// arrays (plain as is, channels-last as [N, H, W, C], 16/8-blocked as
// [N, C / b, H, W, b]), the output row by row, each row the parts' chunks in turn.
// Used by the f32 Concat and by the int8 one, whose parts may each pass through a byte
// table (a requantization to the output's scale) on the way.
#include <dnnl.hpp>
#include <optional>
#include <vector>

#include "byte_table.h"
#include "region_context.h"

namespace edgeperf::runtime::onednn {

struct RowMajorView {
  std::vector<std::int64_t> dims;
  int axis = 0;
};

// Shape's view in `tag` (plain when none); none when a blocked layout does not divide the
// channels.
std::optional<RowMajorView> row_major_view(const Shape& shape, int axis,
                                           std::optional<dnnl::memory::format_tag> tag);

// The inner block size of `md` along `axis` (1 when not blocked along it).
std::int64_t block_along(const dnnl::memory::desc& md, int axis);

struct ConcatPartCopy {
  RowMajorView view;
  bool in_place = false;           // already in the output: not copied
  std::optional<ByteTable> table;  // bytes mapped through it on the way (1-byte elements)
};

// Reads DNNL_ARG_MULTIPLE_SRC + i for part i and writes DNNL_ARG_DST, in pieces so that
// threads share even one large part.
class ChunkCopy {
 public:
  ChunkCopy(std::vector<ConcatPartCopy> parts, std::size_t element_bytes, int threads);
  void operator()(const ArgMap& args) const;

 private:
  void copy_range(const std::vector<const std::byte*>& sources, std::byte* out, std::size_t begin,
                  std::size_t end) const;

  int threads_;
  std::vector<ConcatPartCopy> parts_;
  std::int64_t outer_ = 1;
  std::vector<std::size_t> chunk_bytes_;
  std::size_t row_bytes_ = 0;
};

}  // namespace edgeperf::runtime::onednn
