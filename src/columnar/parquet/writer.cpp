// Parquet writer: flat REQUIRED columns, data page v1, PLAIN or dictionary
// (RLE_DICTIONARY) pages, one column chunk per column and row group. Column
// chunks are encoded and compressed in parallel, then laid out in order.
#include <fcntl.h>
#include <limits.h>
#include <omp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <random>
#include <span>

#include "codec.h"
#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/error.h"
#include "format.h"
#include "rle.h"

namespace edgeperf::columnar {
namespace {

constexpr std::size_t kPageBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxDictionaryEntries = std::size_t{1} << 16;
constexpr char kMagic[] = "PAR1";

template <typename T>
using BitsOf = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

template <typename T>
constexpr std::int32_t thrift_type() {
  if constexpr (std::is_same_v<T, std::int32_t>) return format::type::int32;
  if constexpr (std::is_same_v<T, std::int64_t>) return format::type::int64;
  if constexpr (std::is_same_v<T, float>) return format::type::float32;
  return format::type::float64;
}

template <typename T>
std::string plain_value(T value) {
  std::string bytes(sizeof(T), '\0');
  std::memcpy(bytes.data(), &value, sizeof(T));
  return bytes;
}

template <typename T>
std::optional<format::Statistics> column_statistics(std::span<const T> values) {
  format::Statistics stats;
  stats.null_count = 0;
  std::size_t first = 0;
  if constexpr (std::is_floating_point_v<T>) {
    while (first < values.size() && std::isnan(values[first])) ++first;  // NaN is left out
  }
  if (first == values.size()) return stats;
  T lo = values[first];
  T hi = values[first];
  // Written as selects so the loop vectorizes; a NaN compares false and is skipped.
  for (std::size_t i = first + 1; i < values.size(); ++i) {
    const T v = values[i];
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  if constexpr (std::is_floating_point_v<T>) {
    // Readers compare with the sign of zero, so widen zero bounds (spec rule).
    if (lo == 0) lo = -T{0};
    if (hi == 0) hi = T{0};
  }
  stats.min_value = plain_value(lo);
  stats.max_value = plain_value(hi);
  return stats;
}

template <typename T>
struct Dictionary {
  std::vector<T> entries;
  std::vector<std::uint32_t> indices;
};

// Open-addressing map from a value's bit pattern to its dictionary index. It
// starts small (sensor ids stay in L1) and doubles at half load.
template <typename Bits>
class BitsIndex {
 public:
  BitsIndex() { rehash(1024); }

  // Index of `bits`, or `next` after inserting it.
  std::uint32_t find_or_insert(Bits bits, std::uint32_t next) {
    std::size_t slot = home(bits);
    while (slots_[slot].index != kEmpty) {
      if (slots_[slot].bits == bits) return slots_[slot].index;
      slot = (slot + 1) & mask_;
    }
    slots_[slot] = {bits, next};
    if (++size_ * 2 > slots_.size()) rehash(slots_.size() * 2);
    return next;
  }

 private:
  static constexpr std::uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    Bits bits;
    std::uint32_t index;
  };
  std::size_t home(Bits bits) const {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(bits) * 0x9E3779B97F4A7C15ull) >>
                                    32) &
           mask_;
  }
  void rehash(std::size_t count) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(count, Slot{0, kEmpty});
    mask_ = count - 1;
    for (const Slot& s : old) {
      if (s.index == kEmpty) continue;
      std::size_t slot = home(s.bits);
      while (slots_[slot].index != kEmpty) slot = (slot + 1) & mask_;
      slots_[slot] = s;
    }
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

// Dictionary of the values' bit patterns (so -0.0 and NaNs round-trip), or
// nothing once more than `max_entries` distinct values turn up.
template <typename T>
std::optional<Dictionary<T>> build_dictionary(std::span<const T> values, std::size_t max_entries) {
  using Bits = BitsOf<T>;
  BitsIndex<Bits> index;
  Dictionary<T> dict;
  dict.indices.resize(values.size());
  Bits previous_bits = 0;
  std::uint32_t previous_index = UINT32_MAX;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Bits bits = std::bit_cast<Bits>(values[i]);
    if (bits != previous_bits || previous_index == UINT32_MAX) {
      const auto next = static_cast<std::uint32_t>(dict.entries.size());
      previous_index = index.find_or_insert(bits, next);
      previous_bits = bits;
      if (previous_index == next) {
        if (dict.entries.size() == max_entries) return std::nullopt;
        dict.entries.push_back(values[i]);
      }
    }
    dict.indices[i] = previous_index;
  }
  return dict;
}

struct Piece {
  const char* external = nullptr;  // null: the range is in EncodedChunk::owned
  std::size_t offset = 0;
  std::size_t size = 0;
};

struct EncodedChunk {
  std::string owned;
  std::vector<Piece> pieces;
  std::size_t size = 0;
  std::int64_t uncompressed_size = 0;
  std::optional<std::int64_t> dictionary_bytes;  // dictionary page length at the chunk start
  std::vector<std::int32_t> encodings;
  std::optional<format::Statistics> statistics;

  void add_owned(std::size_t offset, std::size_t length) {
    pieces.push_back({nullptr, offset, length});
    size += length;
  }
  void add_external(const void* data, std::size_t length) {
    pieces.push_back({static_cast<const char*>(data), 0, length});
    size += length;
  }
  const char* data_of(const Piece& piece) const {
    return piece.external ? piece.external : owned.data() + piece.offset;
  }
};

class ChunkEncoder {
 public:
  explicit ChunkEncoder(const WriteOptions& options)
      : options_(options), compressor_(options.compression, options.zstd_level) {}

  template <typename T>
  EncodedChunk encode(std::span<const T> values) {
    EncodedChunk chunk;
    if (options_.statistics) chunk.statistics = column_statistics(values);
    std::optional<Dictionary<T>> dict;
    if (options_.dictionary && values.size() >= 16) {
      dict = build_dictionary(values, std::min(kMaxDictionaryEntries, values.size() / 4));
    }
    if (dict && dictionary_is_smaller(*dict, values.size())) {
      write_dictionary_pages(*dict, chunk);
    } else {
      write_plain_pages(values, chunk);
    }
    return chunk;
  }

 private:
  template <typename T>
  static bool dictionary_is_smaller(const Dictionary<T>& dict, std::size_t rows) {
    const int width = rle::bit_width_for(static_cast<std::uint32_t>(dict.entries.size() - 1));
    const std::size_t dict_bytes = dict.entries.size() * sizeof(T) + rows * width / 8;
    return dict_bytes * 10 < rows * sizeof(T) * 8;
  }

  template <typename T>
  void write_plain_pages(std::span<const T> values, EncodedChunk& chunk) {
    const std::size_t per_page = std::max<std::size_t>(1, kPageBytes / sizeof(T));
    for (std::size_t start = 0; start < values.size(); start += per_page) {
      const std::size_t count = std::min(per_page, values.size() - start);
      write_data_page(format::encoding::plain, count, values.data() + start, count * sizeof(T),
                      true, chunk);
    }
    chunk.encodings = {format::encoding::plain};
  }

  template <typename T>
  void write_dictionary_pages(const Dictionary<T>& dict, EncodedChunk& chunk) {
    format::PageHeader header;
    header.type = format::page_type::dictionary_page;
    header.dictionary_page = format::DictionaryPageHeader{
        static_cast<std::int32_t>(dict.entries.size()), format::encoding::plain};
    write_page(header, dict.entries.data(), dict.entries.size() * sizeof(T), false, chunk);
    chunk.dictionary_bytes = static_cast<std::int64_t>(chunk.size);

    const int width = rle::bit_width_for(static_cast<std::uint32_t>(dict.entries.size() - 1));
    const std::size_t per_page = kPageBytes / sizeof(T);
    for (std::size_t start = 0; start < dict.indices.size(); start += per_page) {
      const std::size_t count = std::min(per_page, dict.indices.size() - start);
      indices_.clear();
      indices_.push_back(static_cast<char>(width));
      rle::encode(dict.indices.data() + start, count, width, indices_);
      write_data_page(format::encoding::rle_dictionary, count, indices_.data(), indices_.size(),
                      false, chunk);
    }
    chunk.encodings = {format::encoding::plain, format::encoding::rle_dictionary};
  }

  void write_data_page(std::int32_t encoding, std::size_t count, const void* body,
                       std::size_t body_size, bool body_outlives_chunk, EncodedChunk& chunk) {
    format::PageHeader header;
    header.type = format::page_type::data_page;
    format::DataPageHeader data;
    data.num_values = static_cast<std::int32_t>(count);
    data.encoding = encoding;
    header.data_page = data;
    write_page(header, body, body_size, body_outlives_chunk, chunk);
  }

  // The body is compressed first (its size goes in the header); pieces keep
  // the header ahead of it in the file.
  void write_page(format::PageHeader& header, const void* body, std::size_t body_size,
                  bool body_outlives_chunk, EncodedChunk& chunk) {
    header.uncompressed_page_size = static_cast<std::int32_t>(body_size);
    std::size_t body_offset = chunk.owned.size();
    if (options_.compression == Compression::none) {
      header.compressed_page_size = header.uncompressed_page_size;
      if (!body_outlives_chunk) chunk.owned.append(static_cast<const char*>(body), body_size);
    } else {
      header.compressed_page_size =
          static_cast<std::int32_t>(compressor_.append(body, body_size, chunk.owned));
    }
    const void* stored_bytes = options_.compression == Compression::none && body_outlives_chunk
                                   ? body
                                   : static_cast<const void*>(chunk.owned.data() + body_offset);
    header.crc =
        codec::page_crc32(stored_bytes, static_cast<std::size_t>(header.compressed_page_size));
    const std::size_t header_offset = chunk.owned.size();
    format::serialize(header, chunk.owned);
    const std::size_t header_size = chunk.owned.size() - header_offset;
    chunk.add_owned(header_offset, header_size);
    const auto stored = static_cast<std::size_t>(header.compressed_page_size);
    if (options_.compression == Compression::none && body_outlives_chunk) {
      chunk.add_external(body, body_size);
    } else {
      chunk.add_owned(body_offset, stored);
    }
    chunk.uncompressed_size += static_cast<std::int64_t>(header_size + body_size);
  }

  const WriteOptions& options_;
  codec::Compressor compressor_;
  std::string indices_;
};

std::vector<format::SchemaElement> schema_elements(const std::vector<Field>& fields) {
  std::vector<format::SchemaElement> schema(1);
  schema[0].name = "schema";
  schema[0].num_children = static_cast<std::int32_t>(fields.size());
  for (const Field& field : fields) {
    format::SchemaElement e;
    e.name = field.name;
    e.repetition = format::repetition::required;
    switch (field.type) {
      case PhysicalType::int32:
        e.type = format::type::int32;
        break;
      case PhysicalType::int64:
        e.type = format::type::int64;
        break;
      case PhysicalType::float32:
        e.type = format::type::float32;
        break;
      case PhysicalType::float64:
        e.type = format::type::float64;
        break;
    }
    e.timestamp_nanos = field.timestamp_ns;
    e.adjusted_to_utc = true;
    schema.push_back(std::move(e));
  }
  return schema;
}

EncodedChunk encode_column_chunk(const ColumnValues& column, std::size_t first_row,
                                 std::size_t rows, ChunkEncoder& encoder) {
  return std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        return encoder.encode(std::span<const T>(values.data() + first_row, rows));
      },
      column);
}

format::ColumnMetaData chunk_metadata(const Field& field, const ColumnValues& column,
                                      const EncodedChunk& chunk, std::int64_t offset,
                                      std::size_t rows, const WriteOptions& options) {
  format::ColumnMetaData m;
  m.type = std::visit(
      [](const auto& values) {
        return thrift_type<typename std::decay_t<decltype(values)>::value_type>();
      },
      column);
  m.encodings = chunk.encodings;
  m.path_in_schema = {field.name};
  m.codec = codec::thrift_codec(options.compression);
  m.num_values = static_cast<std::int64_t>(rows);
  m.total_uncompressed_size = chunk.uncompressed_size;
  m.total_compressed_size = static_cast<std::int64_t>(chunk.size);
  m.data_page_offset = offset + chunk.dictionary_bytes.value_or(0);
  if (chunk.dictionary_bytes) m.dictionary_page_offset = offset;
  m.statistics = chunk.statistics;
  return m;
}

// Encodes all (row group, column) chunks in parallel; index = group * columns + column.
std::vector<EncodedChunk> encode_chunks(const Table& table, const WriteOptions& options,
                                        std::size_t groups) {
  const std::size_t columns = table.columns.size();
  const std::size_t rows = table.num_rows();
  std::vector<EncodedChunk> chunks(groups * columns);
  std::vector<std::exception_ptr> errors(chunks.size());
  // One encoder (zstd context, scratch buffers) per thread, made outside the
  // parallel region so a failure to create one is an ordinary exception.
  std::vector<std::unique_ptr<ChunkEncoder>> encoders(
      static_cast<std::size_t>(omp_get_max_threads()));
  for (auto& encoder : encoders) encoder = std::make_unique<ChunkEncoder>(options);
#pragma omp parallel for schedule(dynamic, 1)
  for (std::size_t task = 0; task < chunks.size(); ++task) {
    try {
      ChunkEncoder& encoder = *encoders[static_cast<std::size_t>(omp_get_thread_num())];
      const std::size_t group = task / columns;
      const std::size_t first_row = group * options.row_group_rows;
      const std::size_t count = std::min(options.row_group_rows, rows - first_row);
      chunks[task] = encode_column_chunk(table.columns[task % columns], first_row, count, encoder);
    } catch (...) {
      errors[task] = std::current_exception();
    }
  }
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return chunks;
}

void append_u32_le(std::uint32_t value, std::string& out) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

// Chunks encoded and the footer (metadata, its length, magic) that describes them.
struct EncodedFile {
  std::vector<EncodedChunk> chunks;
  std::string footer;
  std::size_t size = 0;
};

EncodedFile encode_file(const Table& table, const WriteOptions& options) {
  table.validate();
  EP_CHECK(options.row_group_rows > 0, "parquet: row_group_rows must be positive");
  EP_CHECK(options.row_group_rows <= static_cast<std::size_t>(INT32_MAX),
           "parquet: row_group_rows {} exceeds the page value limit", options.row_group_rows);
  const std::size_t rows = table.num_rows();
  const std::size_t columns = table.columns.size();
  const std::size_t groups =
      columns == 0 ? 0 : (rows + options.row_group_rows - 1) / options.row_group_rows;
  EncodedFile file;
  file.chunks = encode_chunks(table, options, groups);

  format::FileMetaData metadata;
  metadata.version = 2;
  metadata.schema = schema_elements(table.schema);
  metadata.num_rows = static_cast<std::int64_t>(rows);
  metadata.created_by = "edgeperf";
  std::size_t offset = 4;  // after the leading magic
  for (std::size_t group = 0; group < groups; ++group) {
    format::RowGroup row_group;
    const std::size_t group_rows =
        std::min(options.row_group_rows, rows - group * options.row_group_rows);
    row_group.num_rows = static_cast<std::int64_t>(group_rows);
    row_group.file_offset = static_cast<std::int64_t>(offset);
    std::int64_t compressed = 0;
    for (std::size_t c = 0; c < columns; ++c) {
      const EncodedChunk& chunk = file.chunks[group * columns + c];
      format::ColumnChunk column;
      column.file_offset = static_cast<std::int64_t>(offset);
      column.meta_data = chunk_metadata(table.schema[c], table.columns[c], chunk,
                                        static_cast<std::int64_t>(offset), group_rows, options);
      row_group.total_byte_size += chunk.uncompressed_size;
      compressed += static_cast<std::int64_t>(chunk.size);
      offset += chunk.size;
      row_group.columns.push_back(std::move(column));
    }
    row_group.total_compressed_size = compressed;
    metadata.row_groups.push_back(std::move(row_group));
  }
  format::serialize(metadata, file.footer);
  append_u32_le(static_cast<std::uint32_t>(file.footer.size()), file.footer);
  file.footer.append(kMagic, 4);
  file.size = offset + file.footer.size();
  return file;
}

class TempFile {
 public:
  explicit TempFile(const std::filesystem::path& path)
      : path_(path),
        temporary_(path.string() +
                   fmt::format(".tmp-{}-{:x}", ::getpid(), std::random_device()())) {
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    EP_CHECK(fd_ >= 0, "{}: cannot create: {}", path_.string(), std::strerror(errno));
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temporary_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  // Gathers up to IOV_MAX ranges per system call.
  void write(std::vector<iovec>& ranges) {
    std::size_t first = 0;
    while (first < ranges.size()) {
      const int count = static_cast<int>(std::min<std::size_t>(IOV_MAX, ranges.size() - first));
      const ssize_t written = ::writev(fd_, ranges.data() + first, count);
      if (written < 0 && errno == EINTR) continue;
      EP_CHECK(written > 0, "{}: write failed: {}", path_.string(), std::strerror(errno));
      auto left = static_cast<std::size_t>(written);
      while (first < ranges.size() && left >= ranges[first].iov_len)
        left -= ranges[first++].iov_len;
      if (left > 0) {
        ranges[first].iov_base = static_cast<char*>(ranges[first].iov_base) + left;
        ranges[first].iov_len -= left;
      }
    }
  }

  void commit() {
    EP_CHECK(::fsync(fd_) == 0, "{}: fsync failed: {}", path_.string(), std::strerror(errno));
    const int fd = fd_;
    fd_ = -1;
    EP_CHECK(::close(fd) == 0, "{}: close failed: {}", path_.string(), std::strerror(errno));
    EP_CHECK(::rename(temporary_.c_str(), path_.c_str()) == 0, "{}: cannot rename into place: {}",
             path_.string(), std::strerror(errno));
    committed_ = true;
    const std::filesystem::path directory = path_.parent_path();
    const int dir_fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
  }

 private:
  std::filesystem::path path_;
  std::string temporary_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

std::string encode_parquet(const Table& table, const WriteOptions& options) {
  const EncodedFile file = encode_file(table, options);
  std::string out;
  out.reserve(file.size);
  out.append(kMagic, 4);
  for (const EncodedChunk& chunk : file.chunks) {
    for (const Piece& piece : chunk.pieces) out.append(chunk.data_of(piece), piece.size);
  }
  out.append(file.footer);
  return out;
}

// Same temp + fsync + rename pattern as write_file_atomic, but gathering the
// chunks' pieces with writev instead of first concatenating the whole file.
void write_parquet(const std::filesystem::path& path, const Table& table,
                   const WriteOptions& options) {
  const EncodedFile file =
      with_error_context(path.string(), [&] { return encode_file(table, options); });
  std::vector<iovec> ranges;
  auto add = [&](const char* data, std::size_t size) {
    if (size != 0) ranges.push_back({const_cast<char*>(data), size});
  };
  add(kMagic, 4);
  for (const EncodedChunk& chunk : file.chunks) {
    for (const Piece& piece : chunk.pieces) add(chunk.data_of(piece), piece.size);
  }
  add(file.footer.data(), file.footer.size());
  TempFile temp(path);
  temp.write(ranges);
  temp.commit();
}

}  // namespace edgeperf::columnar
