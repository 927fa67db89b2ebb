#pragma once
// Parquet file metadata (parquet.thrift), the fields edgeperf writes or reads.
// Unknown fields are skipped when parsing, as Thrift intends.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgeperf::columnar::format {

namespace type {
enum : std::int32_t {
  boolean = 0,
  int32 = 1,
  int64 = 2,
  int96 = 3,
  float32 = 4,
  float64 = 5,
  byte_array = 6,
  fixed_len_byte_array = 7
};
}
namespace repetition {
enum : std::int32_t { required = 0, optional = 1, repeated = 2 };
}
namespace encoding {
enum : std::int32_t {
  plain = 0,
  plain_dictionary = 2,
  rle = 3,
  bit_packed = 4,
  delta_binary_packed = 5,
  delta_length_byte_array = 6,
  delta_byte_array = 7,
  rle_dictionary = 8,
  byte_stream_split = 9
};
}
namespace codec {
enum : std::int32_t {
  uncompressed = 0,
  snappy = 1,
  gzip = 2,
  lzo = 3,
  brotli = 4,
  lz4 = 5,
  zstd = 6,
  lz4_raw = 7
};
}
namespace page_type {
enum : std::int32_t { data_page = 0, index_page = 1, dictionary_page = 2, data_page_v2 = 3 };
}

const char* type_name(std::int32_t physical_type);
const char* encoding_name(std::int32_t encoding);
const char* codec_name(std::int32_t codec);

struct SchemaElement {
  std::optional<std::int32_t> type;
  std::optional<std::int32_t> repetition;
  std::string name;
  std::optional<std::int32_t> num_children;
  std::optional<std::int32_t> converted_type;
  bool timestamp_nanos = false;  // logicalType TIMESTAMP with unit NANOS
  bool adjusted_to_utc = true;
};

struct Statistics {
  std::optional<std::string> min_value;
  std::optional<std::string> max_value;
  std::optional<std::int64_t> null_count;
};

struct ColumnMetaData {
  std::int32_t type = 0;
  std::vector<std::int32_t> encodings;
  std::vector<std::string> path_in_schema;
  std::int32_t codec = 0;
  std::int64_t num_values = 0;
  std::int64_t total_uncompressed_size = 0;
  std::int64_t total_compressed_size = 0;
  std::int64_t data_page_offset = 0;
  std::optional<std::int64_t> dictionary_page_offset;
  std::optional<Statistics> statistics;
};

struct ColumnChunk {
  std::int64_t file_offset = 0;
  std::optional<ColumnMetaData> meta_data;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  std::int64_t total_byte_size = 0;
  std::int64_t num_rows = 0;
  std::optional<std::int64_t> file_offset;
  std::optional<std::int64_t> total_compressed_size;
};

struct FileMetaData {
  std::int32_t version = 2;
  std::vector<SchemaElement> schema;
  std::int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::string created_by;
};

struct DataPageHeader {
  std::int32_t num_values = 0;
  std::int32_t encoding = 0;
  std::int32_t definition_level_encoding = encoding::rle;
  std::int32_t repetition_level_encoding = encoding::rle;
};

struct DictionaryPageHeader {
  std::int32_t num_values = 0;
  std::int32_t encoding = encoding::plain;
};

struct DataPageHeaderV2 {
  std::int32_t num_values = 0;
  std::int32_t num_nulls = 0;
  std::int32_t num_rows = 0;
  std::int32_t encoding = 0;
  std::int32_t definition_levels_byte_length = 0;
  std::int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
};

struct PageHeader {
  std::int32_t type = 0;
  std::int32_t uncompressed_page_size = 0;
  std::int32_t compressed_page_size = 0;
  // CRC-32 (the gzip polynomial) of the page bytes as stored, after the header.
  std::optional<std::uint32_t> crc;
  std::optional<DataPageHeader> data_page;
  std::optional<DictionaryPageHeader> dictionary_page;
  std::optional<DataPageHeaderV2> data_page_v2;
};

void serialize(const FileMetaData& metadata, std::string& out);
void serialize(const PageHeader& header, std::string& out);

// Both throw Error describing the first problem (truncation, bad type,
// missing required field), without file context; callers add it.
FileMetaData parse_file_metadata(const std::uint8_t* data, std::size_t size);
// `consumed` receives the header's length in bytes.
PageHeader parse_page_header(const std::uint8_t* data, std::size_t size, std::size_t& consumed);

}  // namespace edgeperf::columnar::format
