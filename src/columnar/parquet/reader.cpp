// Parquet reader: footer, flat schema, row groups streamed one at a time.
// Everything read from the file is untrusted: offsets, lengths and counts are
// checked against the bytes that exist before they are used.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <span>

#include "codec.h"
#include "delta.h"
#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/error.h"
#include "format.h"
#include "rle.h"

namespace edgeperf::columnar {

struct ParquetReader::Footer {
  std::uint64_t file_size = 0;
  format::FileMetaData metadata;
  std::vector<int> max_definition_levels;  // per leaf column
};

namespace {

constexpr std::uint64_t kMagicSize = 4;
constexpr std::size_t kInitialReserveRows = std::size_t{1} << 24;

class File {
 public:
  explicit File(const std::filesystem::path& path) : path_(path.string()) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EP_CHECK(fd_ >= 0, "{}: cannot open: {}", path_, std::strerror(errno));
  }
  ~File() { ::close(fd_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  std::uint64_t size() const {
    struct stat info {};
    EP_CHECK(::fstat(fd_, &info) == 0, "{}: cannot stat: {}", path_, std::strerror(errno));
    EP_CHECK(S_ISREG(info.st_mode), "{}: not a regular file", path_);
    return static_cast<std::uint64_t>(info.st_size);
  }

  void read_at(std::uint64_t offset, std::size_t length, std::uint8_t* out) const {
    while (length > 0) {
      const ssize_t got = ::pread(fd_, out, length, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      EP_CHECK(got > 0, "{}: read of {} bytes at offset {} failed: {}", path_, length, offset,
               got == 0 ? "unexpected end of file" : std::strerror(errno));
      out += got;
      offset += static_cast<std::uint64_t>(got);
      length -= static_cast<std::size_t>(got);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::uint32_t load_u32_le(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

PhysicalType physical_type(const format::SchemaElement& e) {
  EP_CHECK(e.type.has_value(), "column '{}' has no physical type", e.name);
  switch (*e.type) {
    case format::type::int32:
      return PhysicalType::int32;
    case format::type::int64:
      return PhysicalType::int64;
    case format::type::float32:
      return PhysicalType::float32;
    case format::type::float64:
      return PhysicalType::float64;
    default:
      fail("column '{}' has physical type {}, edgeperf reads INT32, INT64, FLOAT, DOUBLE", e.name,
           format::type_name(*e.type));
  }
}

Field map_leaf(const format::SchemaElement& e, int& max_definition_level) {
  EP_CHECK(!e.num_children || *e.num_children == 0,
           "column '{}' is a nested group; edgeperf reads flat schemas", e.name);
  const std::int32_t repetition = e.repetition.value_or(format::repetition::required);
  EP_CHECK(repetition != format::repetition::repeated,
           "column '{}' is REPEATED; edgeperf reads flat schemas", e.name);
  EP_CHECK(repetition == format::repetition::required || repetition == format::repetition::optional,
           "column '{}' has invalid repetition {}", e.name, repetition);
  max_definition_level = repetition == format::repetition::optional ? 1 : 0;
  Field field;
  field.name = e.name;
  field.type = physical_type(e);
  field.timestamp_ns = e.timestamp_nanos && field.type == PhysicalType::int64;
  return field;
}

// First byte of a column chunk (its dictionary page when there is one).
std::int64_t chunk_start(const format::ColumnMetaData& m) {
  if (m.dictionary_page_offset &&
      *m.dictionary_page_offset >= static_cast<std::int64_t>(kMagicSize) &&
      *m.dictionary_page_offset < m.data_page_offset) {
    return *m.dictionary_page_offset;
  }
  return m.data_page_offset;
}

void check_column_chunk(const format::ColumnChunk& chunk, std::int64_t rows,
                        std::uint64_t metadata_start) {
  EP_CHECK(chunk.meta_data.has_value(), "column metadata is missing");
  const format::ColumnMetaData& m = *chunk.meta_data;
  EP_CHECK(m.num_values == rows, "column chunk has {} values but the row group has {} rows",
           m.num_values, rows);
  const std::int64_t start = chunk_start(m);
  EP_CHECK(start >= static_cast<std::int64_t>(kMagicSize) &&
               static_cast<std::uint64_t>(start) < metadata_start,
           "column chunk offset {} is outside the data region (4..{})", start, metadata_start);
  EP_CHECK(m.total_compressed_size > 0 && static_cast<std::uint64_t>(m.total_compressed_size) <=
                                              metadata_start - static_cast<std::uint64_t>(start),
           "column chunk at offset {} of {} bytes runs past the data region end {}", start,
           m.total_compressed_size, metadata_start);
}

void check_row_groups(const format::FileMetaData& metadata, const std::vector<Field>& schema,
                      std::uint64_t metadata_start) {
  std::int64_t total_rows = 0;
  for (std::size_t g = 0; g < metadata.row_groups.size(); ++g) {
    const format::RowGroup& group = metadata.row_groups[g];
    EP_CHECK(group.num_rows >= 0 && group.num_rows <= INT64_MAX - total_rows,
             "row group {} has invalid row count {}", g, group.num_rows);
    total_rows += group.num_rows;
    EP_CHECK(group.columns.size() == schema.size(), "row group {} has {} columns, schema has {}", g,
             group.columns.size(), schema.size());
    for (std::size_t c = 0; c < schema.size(); ++c) {
      with_error_context(fmt::format("row group {}, column '{}'", g, schema[c].name), [&] {
        check_column_chunk(group.columns[c], group.num_rows, metadata_start);
      });
    }
  }
  EP_CHECK(total_rows == metadata.num_rows, "row groups hold {} rows, the footer says {}",
           total_rows, metadata.num_rows);
}

// Decodes the pages of one column chunk into values of type T.
template <typename T>
class ChunkDecoder {
 public:
  ChunkDecoder(std::span<const std::uint8_t> chunk, std::uint64_t file_offset,
               const format::ColumnMetaData& meta, int max_definition_level, std::size_t rows)
      : chunk_(chunk),
        file_offset_(file_offset),
        meta_(meta),
        max_definition_level_(max_definition_level),
        rows_(rows) {}

  // Appends the chunk's values to `out` (read_all streams groups into one vector).
  void decode(std::vector<T>& out) {
    base_ = out.size();
    out.reserve(base_ + std::min(rows_, kInitialReserveRows));
    std::size_t pos = 0;
    while (out.size() - base_ < rows_) {
      EP_CHECK(pos < chunk_.size(), "column chunk ends after {} of {} values", out.size() - base_,
               rows_);
      pos = decode_page(pos, out);
    }
  }

 private:
  std::size_t decode_page(std::size_t pos, std::vector<T>& out) {
    const std::uint64_t offset = file_offset_ + pos;
    std::size_t header_size = 0;
    format::PageHeader header;
    try {
      header = format::parse_page_header(chunk_.data() + pos, chunk_.size() - pos, header_size);
    } catch (const Error& error) {
      if (std::strstr(error.what(), "truncated"))
        fail("page header truncated at offset {}", offset);
      fail("page header at offset {} is corrupt: {}", offset, error.what());
    }
    const std::size_t body = pos + header_size;
    EP_CHECK(header.compressed_page_size >= 0 && header.uncompressed_page_size >= 0,
             "page at offset {} has a negative size", offset);
    const auto compressed = static_cast<std::size_t>(header.compressed_page_size);
    EP_CHECK(compressed <= chunk_.size() - body,
             "page at offset {} ({} bytes) runs past the end of the column chunk", offset,
             compressed);
    const std::span<const std::uint8_t> page = chunk_.subspan(body, compressed);
    if (header.crc) {
      const std::uint32_t actual = codec::page_crc32(page.data(), page.size());
      EP_CHECK(actual == *header.crc,
               "page at offset {} is corrupt: CRC-32 {:08x} does not match the stored {:08x}",
               offset, actual, *header.crc);
    }
    with_error_context(fmt::format("page at offset {}", offset), [&] {
      switch (header.type) {
        case format::page_type::dictionary_page:
          read_dictionary(header, page);
          break;
        case format::page_type::data_page:
          read_data_page_v1(header, page, out);
          break;
        case format::page_type::data_page_v2:
          read_data_page_v2(header, page, out);
          break;
        default:
          break;  // index pages and unknown page types carry no values
      }
    });
    return body + compressed;
  }

  // Decompresses into page_buffer_ unless the codec is UNCOMPRESSED.
  std::span<const std::uint8_t> uncompress(std::span<const std::uint8_t> data,
                                           std::size_t uncompressed_size) {
    if (meta_.codec == format::codec::uncompressed) {
      EP_CHECK(data.size() == uncompressed_size,
               "uncompressed page is {} bytes but its header says {}", data.size(),
               uncompressed_size);
      return data;
    }
    // Values plus levels can never exceed this; a larger size is corruption.
    const std::size_t limit = (rows_ + 1) * (sizeof(T) + 8) + (std::size_t{1} << 16);
    EP_CHECK(uncompressed_size <= limit, "page claims {} uncompressed bytes", uncompressed_size);
    page_buffer_.resize(uncompressed_size);
    codec::decompress(meta_.codec, data.data(), data.size(), page_buffer_.data(),
                      uncompressed_size);
    return page_buffer_;
  }

  void read_dictionary(const format::PageHeader& header, std::span<const std::uint8_t> page) {
    EP_CHECK(header.dictionary_page.has_value(), "dictionary page lacks its header");
    const format::DictionaryPageHeader& h = *header.dictionary_page;
    EP_CHECK(
        h.encoding == format::encoding::plain || h.encoding == format::encoding::plain_dictionary,
        "dictionary page uses encoding {}, edgeperf reads PLAIN",
        format::encoding_name(h.encoding));
    EP_CHECK(h.num_values >= 0 && static_cast<std::size_t>(h.num_values) <= rows_ + 1,
             "dictionary page has invalid entry count {}", h.num_values);
    const auto data = uncompress(page, static_cast<std::size_t>(header.uncompressed_page_size));
    const std::size_t entries = static_cast<std::size_t>(h.num_values);
    EP_CHECK(data.size() >= entries * sizeof(T),
             "dictionary page holds {} bytes, {} entries need {}", data.size(), entries,
             entries * sizeof(T));
    dictionary_.resize(entries);
    if (entries != 0) std::memcpy(dictionary_.data(), data.data(), entries * sizeof(T));
  }

  void read_data_page_v1(const format::PageHeader& header, std::span<const std::uint8_t> page,
                         std::vector<T>& out) {
    EP_CHECK(header.data_page.has_value(), "data page lacks its header");
    const format::DataPageHeader& h = *header.data_page;
    const std::size_t count = checked_count(h.num_values, out);
    auto data = uncompress(page, static_cast<std::size_t>(header.uncompressed_page_size));
    if (max_definition_level_ > 0) {
      EP_CHECK(h.definition_level_encoding == format::encoding::rle,
               "definition levels use encoding {}, edgeperf reads RLE",
               format::encoding_name(h.definition_level_encoding));
      EP_CHECK(data.size() >= 4, "definition levels truncated");
      const std::size_t length = load_u32_le(data.data());
      EP_CHECK(length <= data.size() - 4, "definition levels ({} bytes) run past the page", length);
      check_no_nulls(data.subspan(4, length), count);
      data = data.subspan(4 + length);
    }
    decode_values(h.encoding, data, count, out);
  }

  void read_data_page_v2(const format::PageHeader& header, std::span<const std::uint8_t> page,
                         std::vector<T>& out) {
    EP_CHECK(header.data_page_v2.has_value(), "data page v2 lacks its header");
    const format::DataPageHeaderV2& h = *header.data_page_v2;
    const std::size_t count = checked_count(h.num_values, out);
    EP_CHECK(h.num_nulls == 0, "{} null values; edgeperf tables have no nulls", h.num_nulls);
    EP_CHECK(h.repetition_levels_byte_length == 0, "has repetition levels; flat schemas have none");
    EP_CHECK(h.definition_levels_byte_length >= 0 &&
                 static_cast<std::size_t>(h.definition_levels_byte_length) <= page.size(),
             "definition levels ({} bytes) run past the page", h.definition_levels_byte_length);
    const auto levels_size = static_cast<std::size_t>(h.definition_levels_byte_length);
    if (max_definition_level_ > 0) check_no_nulls(page.subspan(0, levels_size), count);
    EP_CHECK(static_cast<std::size_t>(header.uncompressed_page_size) >= levels_size,
             "uncompressed size {} is smaller than its levels", header.uncompressed_page_size);
    const std::size_t values_size =
        static_cast<std::size_t>(header.uncompressed_page_size) - levels_size;
    const auto values_part = page.subspan(levels_size);
    std::span<const std::uint8_t> data;
    if (h.is_compressed && meta_.codec != format::codec::uncompressed) {
      data = uncompress(values_part, values_size);
    } else {
      EP_CHECK(values_part.size() == values_size, "values are {} bytes but the header says {}",
               values_part.size(), values_size);
      data = values_part;
    }
    decode_values(h.encoding, data, count, out);
  }

  std::size_t checked_count(std::int32_t num_values, const std::vector<T>& out) const {
    const std::size_t remaining = rows_ - (out.size() - base_);
    EP_CHECK(num_values >= 0 && static_cast<std::size_t>(num_values) <= remaining,
             "page has {} values but only {} of the row group's rows remain", num_values,
             remaining);
    return static_cast<std::size_t>(num_values);
  }

  void check_no_nulls(std::span<const std::uint8_t> levels, std::size_t count) {
    indices_.resize(count);
    rle::decode(levels.data(), levels.size(), 1, indices_.data(), count);
    const std::size_t nulls =
        static_cast<std::size_t>(std::count(indices_.begin(), indices_.end(), 0u));
    EP_CHECK(nulls == 0, "{} null values; edgeperf tables have no nulls", nulls);
  }

  void decode_values(std::int32_t encoding, std::span<const std::uint8_t> data, std::size_t count,
                     std::vector<T>& out) {
    const std::size_t old_size = out.size();
    if (encoding == format::encoding::plain) {
      EP_CHECK(data.size() >= count * sizeof(T), "PLAIN values: {} bytes for {} values",
               data.size(), count);
      out.resize(old_size + count);
      if (count != 0) std::memcpy(out.data() + old_size, data.data(), count * sizeof(T));
      return;
    }
    if (encoding == format::encoding::rle_dictionary ||
        encoding == format::encoding::plain_dictionary) {
      EP_CHECK(!dictionary_.empty() || count == 0, "dictionary-encoded page without a dictionary");
      EP_CHECK(!data.empty() || count == 0, "dictionary indices missing");
      if (count == 0) return;
      const int width = data[0];
      EP_CHECK(width <= 32, "dictionary index bit width {} exceeds 32", width);
      indices_.resize(count);
      rle::decode(data.data() + 1, data.size() - 1, width, indices_.data(), count);
      out.resize(old_size + count);
      T* dst = out.data() + old_size;
      const std::size_t entries = dictionary_.size();
      for (std::size_t i = 0; i < count; ++i) {
        EP_CHECK(indices_[i] < entries, "dictionary index {} out of range ({} entries)",
                 indices_[i], entries);
        dst[i] = dictionary_[indices_[i]];
      }
      return;
    }
    if (encoding == format::encoding::byte_stream_split) {
      decode_byte_stream_split(data, count, out);
      return;
    }
    if constexpr (std::is_integral_v<T>) {
      if (encoding == format::encoding::delta_binary_packed) {
        out.resize(old_size + count);
        delta::decode(data, count, out.data() + old_size);
        return;
      }
    }
    fail(
        "values use encoding {}, edgeperf reads PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, "
        "BYTE_STREAM_SPLIT, DELTA_BINARY_PACKED (integers)",
        format::encoding_name(encoding));
  }

  // Byte k of value i is at data[k * count + i].
  static void decode_byte_stream_split(std::span<const std::uint8_t> data, std::size_t count,
                                       std::vector<T>& out) {
    EP_CHECK(data.size() >= count * sizeof(T), "BYTE_STREAM_SPLIT values: {} bytes for {} values",
             data.size(), count);
    const std::size_t old_size = out.size();
    out.resize(old_size + count);
    auto* dst = reinterpret_cast<std::uint8_t*>(out.data() + old_size);
    for (std::size_t i = 0; i < count; ++i) {
      for (std::size_t k = 0; k < sizeof(T); ++k) dst[i * sizeof(T) + k] = data[k * count + i];
    }
  }

  std::span<const std::uint8_t> chunk_;
  std::uint64_t file_offset_;
  const format::ColumnMetaData& meta_;
  int max_definition_level_;
  std::size_t rows_;
  std::size_t base_ = 0;  // values in the output before this chunk
  std::vector<T> dictionary_;
  std::vector<std::uint8_t> page_buffer_;
  std::vector<std::uint32_t> indices_;
};

ColumnValues empty_column(PhysicalType type) {
  switch (type) {
    case PhysicalType::int32:
      return std::vector<std::int32_t>{};
    case PhysicalType::int64:
      return std::vector<std::int64_t>{};
    case PhysicalType::float32:
      return std::vector<float>{};
    case PhysicalType::float64:
      return std::vector<double>{};
  }
  fail("unknown physical type");
}

void read_column_chunk(const File& file, const format::ColumnMetaData& meta,
                       int max_definition_level, std::size_t rows, ColumnValues& column) {
  const auto start = static_cast<std::uint64_t>(chunk_start(meta));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(meta.total_compressed_size));
  file.read_at(start, bytes.size(), bytes.data());
  std::visit(
      [&](auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        ChunkDecoder<T>(bytes, start, meta, max_definition_level, rows).decode(values);
      },
      column);
}

std::vector<std::size_t> select_columns(const std::vector<Field>& schema,
                                        const std::vector<std::string>& columns,
                                        const std::string& file_name) {
  std::vector<std::size_t> selected;
  if (columns.empty()) {
    for (std::size_t i = 0; i < schema.size(); ++i) selected.push_back(i);
    return selected;
  }
  for (const std::string& column : columns) {
    const auto it = std::find_if(schema.begin(), schema.end(),
                                 [&](const Field& f) { return f.name == column; });
    EP_CHECK(it != schema.end(), "{}: no column named '{}'", file_name, column);
    selected.push_back(static_cast<std::size_t>(it - schema.begin()));
  }
  return selected;
}

}  // namespace

ParquetReader::ParquetReader(std::filesystem::path path) : path_(std::move(path)) {
  auto footer = std::make_shared<Footer>();
  const File file(path_);
  footer->file_size = file.size();
  const std::string name = path_.string();
  EP_CHECK(footer->file_size >= 3 * kMagicSize,
           "{}: not a Parquet file (only {} bytes, too short for header and footer)", name,
           footer->file_size);
  std::uint8_t head[4];
  std::uint8_t tail[8];
  file.read_at(0, 4, head);
  file.read_at(footer->file_size - 8, 8, tail);
  EP_CHECK(std::memcmp(head, "PAR1", 4) == 0 && std::memcmp(tail + 4, "PAR1", 4) == 0,
           "{}: not a Parquet file (PAR1 magic missing at its start or end)", name);
  const std::uint64_t footer_length = load_u32_le(tail);
  EP_CHECK(footer_length <= footer->file_size - 3 * kMagicSize,
           "{}: footer length {} exceeds the file size {}", name, footer_length, footer->file_size);
  const std::uint64_t metadata_start = footer->file_size - 8 - footer_length;
  std::vector<std::uint8_t> metadata_bytes(footer_length);
  file.read_at(metadata_start, metadata_bytes.size(), metadata_bytes.data());

  with_error_context(name + ": footer", [&] {
    footer->metadata = format::parse_file_metadata(metadata_bytes.data(), metadata_bytes.size());
    const auto& elements = footer->metadata.schema;
    EP_CHECK(!elements.empty(), "schema is empty");
    EP_CHECK(elements[0].num_children.value_or(0) == static_cast<std::int32_t>(elements.size() - 1),
             "schema root has {} children but {} columns follow; edgeperf reads flat schemas",
             elements[0].num_children.value_or(0), elements.size() - 1);
    EP_CHECK(footer->metadata.num_rows >= 0, "negative row count {}", footer->metadata.num_rows);
    for (std::size_t i = 1; i < elements.size(); ++i) {
      int max_level = 0;
      schema_.push_back(map_leaf(elements[i], max_level));
      footer->max_definition_levels.push_back(max_level);
    }
    check_row_groups(footer->metadata, schema_, metadata_start);
  });
  num_rows_ = static_cast<std::size_t>(footer->metadata.num_rows);
  footer_ = std::move(footer);
}

std::size_t ParquetReader::num_row_groups() const { return footer_->metadata.row_groups.size(); }

namespace {

// Appends row group `index`'s selected columns to `columns` (one per selected).
void read_group_into(const std::filesystem::path& path, const format::FileMetaData& metadata,
                     const std::vector<int>& max_definition_levels,
                     const std::vector<Field>& schema, std::size_t index,
                     const std::vector<std::size_t>& selected, std::vector<ColumnValues>& columns) {
  const std::string name = path.string();
  const format::RowGroup& group = metadata.row_groups[index];
  const auto rows = static_cast<std::size_t>(group.num_rows);
  const File file(path);
  std::vector<std::exception_ptr> errors(selected.size());
#pragma omp parallel for schedule(dynamic, 1) if (selected.size() > 1 && rows > 65536)
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const std::size_t c = selected[i];
    try {
      with_error_context(fmt::format("{}: row group {}, column '{}'", name, index, schema[c].name),
                         [&] {
                           read_column_chunk(file, *group.columns[c].meta_data,
                                             max_definition_levels[c], rows, columns[i]);
                         });
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

Table empty_projection(const std::vector<Field>& schema, const std::vector<std::size_t>& selected) {
  Table table;
  for (std::size_t c : selected) {
    table.schema.push_back(schema[c]);
    table.columns.push_back(empty_column(schema[c].type));
  }
  return table;
}

}  // namespace

Table ParquetReader::read_row_group(std::size_t index,
                                    const std::vector<std::string>& columns) const {
  const std::string name = path_.string();
  EP_CHECK(index < num_row_groups(), "{}: row group {} does not exist (file has {})", name, index,
           num_row_groups());
  const std::vector<std::size_t> selected = select_columns(schema_, columns, name);
  Table table = empty_projection(schema_, selected);
  read_group_into(path_, footer_->metadata, footer_->max_definition_levels, schema_, index,
                  selected, table.columns);
  return table;
}

Table ParquetReader::read_all(const std::vector<std::string>& columns) const {
  const std::vector<std::size_t> selected = select_columns(schema_, columns, path_.string());
  Table all = empty_projection(schema_, selected);
  for (auto& column : all.columns) {
    std::visit([&](auto& values) { values.reserve(std::min(num_rows_, kInitialReserveRows)); },
               column);
  }
  for (std::size_t g = 0; g < num_row_groups(); ++g) {
    read_group_into(path_, footer_->metadata, footer_->max_definition_levels, schema_, g, selected,
                    all.columns);
  }
  return all;
}

}  // namespace edgeperf::columnar
