// Serialization of Parquet metadata with the Thrift compact protocol. Each struct's field
// ids (as in parquet.thrift) are stated once, in its field table below, which drives both
// writing and reading.
#include "edgeperf/core/error.h"
#include "format.h"
#include "thrift_compact.h"
#include "thrift_fields.h"

namespace edgeperf::columnar::thrift {

using format::ColumnChunk;
using format::ColumnMetaData;
using format::DataPageHeader;
using format::DataPageHeaderV2;
using format::DictionaryPageHeader;
using format::FileMetaData;
using format::PageHeader;
using format::RowGroup;
using format::SchemaElement;
using format::Statistics;
constexpr Presence kRequired = Presence::required;

template <>
struct StructFields<Statistics> {
  static constexpr const char* name = "Statistics";
  static constexpr std::array fields{
      field<&Statistics::null_count>(3, "null_count"),
      field<&Statistics::max_value>(5, "max_value"),
      field<&Statistics::min_value>(6, "min_value"),
  };
};

namespace {

// SchemaElement.logicalType (10), a union of which only TIMESTAMP (8) with its
// isAdjustedToUTC (1) and unit (2) NANOS (3) is kept.
struct LogicalTimestamp {
  static void write(CompactWriter& w, std::int16_t id, const SchemaElement& e) {
    if (!e.timestamp_nanos) return;
    w.begin_struct_field(id);
    w.begin_struct_field(8);
    w.field_bool(1, e.adjusted_to_utc);
    w.begin_struct_field(2);
    w.begin_struct_field(3);
    w.end_struct();
    w.end_struct();
    w.end_struct();
    w.end_struct();
  }

  static void read(CompactReader& r, CType t, SchemaElement& e) {
    r.expect(t, CType::structure);
    read_struct(r, [&](std::int16_t id, CType type) {
      if (id != 8 || type != CType::structure) return r.skip(type);
      read_struct(r, [&](std::int16_t ts_id, CType ts_type) {
        if (ts_id == 1) {
          e.adjusted_to_utc = r.read_bool(ts_type);
        } else if (ts_id == 2 && ts_type == CType::structure) {
          e.timestamp_nanos = unit_is_nanos(r);
        } else {
          r.skip(ts_type);
        }
      });
    });
  }

 private:
  template <typename OnField>
  static void read_struct(CompactReader& r, OnField&& on_field) {
    r.begin_struct();
    std::int16_t id = 0;
    CType type = CType::stop;
    while (r.next_field(id, type)) on_field(id, type);
    r.end_struct();
  }

  static bool unit_is_nanos(CompactReader& r) {
    bool nanos = false;
    read_struct(r, [&](std::int16_t id, CType type) {
      if (id == 3) nanos = true;
      r.skip(type);
    });
    return nanos;
  }
};

}  // namespace

template <>
struct StructFields<SchemaElement> {
  static constexpr const char* name = "SchemaElement";
  static constexpr std::array fields{
      field<&SchemaElement::type>(1, "type"),
      field<&SchemaElement::repetition>(3, "repetition_type"),
      field<&SchemaElement::name>(4, "name", kRequired),
      field<&SchemaElement::num_children>(5, "num_children"),
      field<&SchemaElement::converted_type>(6, "converted_type"),
      Field<SchemaElement>{10, "logicalType", Presence::optional, LogicalTimestamp::write,
                           LogicalTimestamp::read},
  };
};

template <>
struct StructFields<ColumnMetaData> {
  static constexpr const char* name = "ColumnMetaData";
  static constexpr std::array fields{
      field<&ColumnMetaData::type>(1, "type", kRequired),
      field<&ColumnMetaData::encodings>(2, "encodings"),
      field<&ColumnMetaData::path_in_schema>(3, "path_in_schema"),
      field<&ColumnMetaData::codec>(4, "codec", kRequired),
      field<&ColumnMetaData::num_values>(5, "num_values", kRequired),
      field<&ColumnMetaData::total_uncompressed_size>(6, "total_uncompressed_size"),
      field<&ColumnMetaData::total_compressed_size>(7, "total_compressed_size", kRequired),
      field<&ColumnMetaData::data_page_offset>(9, "data_page_offset", kRequired),
      field<&ColumnMetaData::dictionary_page_offset>(11, "dictionary_page_offset"),
      field<&ColumnMetaData::statistics>(12, "statistics"),
  };
};

template <>
struct StructFields<ColumnChunk> {
  static constexpr const char* name = "ColumnChunk";
  static constexpr std::array fields{
      field<&ColumnChunk::file_offset>(2, "file_offset"),
      field<&ColumnChunk::meta_data>(3, "meta_data"),
  };
};

template <>
struct StructFields<RowGroup> {
  static constexpr const char* name = "RowGroup";
  static constexpr std::array fields{
      field<&RowGroup::columns>(1, "columns", kRequired),
      field<&RowGroup::total_byte_size>(2, "total_byte_size"),
      field<&RowGroup::num_rows>(3, "num_rows", kRequired),
      field<&RowGroup::file_offset>(5, "file_offset"),
      field<&RowGroup::total_compressed_size>(6, "total_compressed_size"),
  };
};

namespace {

// FileMetaData.column_orders (7), written only: TYPE_ORDER (1) for every leaf, so readers
// trust min_value/max_value.
void write_column_orders(CompactWriter& w, std::int16_t id, const FileMetaData& m) {
  const std::size_t leaves = m.schema.empty() ? 0 : m.schema.size() - 1;
  w.begin_list_field(id, CType::structure, leaves);
  for (std::size_t i = 0; i < leaves; ++i) {
    w.begin_struct_element();
    w.begin_struct_field(1);
    w.end_struct();
    w.end_struct();
  }
}

}  // namespace

template <>
struct StructFields<FileMetaData> {
  static constexpr const char* name = "FileMetaData";
  static constexpr std::array fields{
      field<&FileMetaData::version>(1, "version"),
      field<&FileMetaData::schema>(2, "schema", kRequired),
      field<&FileMetaData::num_rows>(3, "num_rows", kRequired),
      field<&FileMetaData::row_groups>(4, "row_groups", kRequired),
      field<&FileMetaData::created_by>(6, "created_by"),
      Field<FileMetaData>{7, "column_orders", Presence::optional, write_column_orders, nullptr},
  };
};

template <>
struct StructFields<DataPageHeader> {
  static constexpr const char* name = "DataPageHeader";
  static constexpr std::array fields{
      field<&DataPageHeader::num_values>(1, "num_values", kRequired),
      field<&DataPageHeader::encoding>(2, "encoding", kRequired),
      field<&DataPageHeader::definition_level_encoding>(3, "definition_level_encoding"),
      field<&DataPageHeader::repetition_level_encoding>(4, "repetition_level_encoding"),
  };
};

template <>
struct StructFields<DictionaryPageHeader> {
  static constexpr const char* name = "DictionaryPageHeader";
  static constexpr std::array fields{
      field<&DictionaryPageHeader::num_values>(1, "num_values", kRequired),
      field<&DictionaryPageHeader::encoding>(2, "encoding"),
  };
};

template <>
struct StructFields<DataPageHeaderV2> {
  static constexpr const char* name = "DataPageHeaderV2";
  static constexpr std::array fields{
      field<&DataPageHeaderV2::num_values>(1, "num_values", kRequired),
      field<&DataPageHeaderV2::num_nulls>(2, "num_nulls", kRequired),
      field<&DataPageHeaderV2::num_rows>(3, "num_rows", kRequired),
      field<&DataPageHeaderV2::encoding>(4, "encoding", kRequired),
      field<&DataPageHeaderV2::definition_levels_byte_length>(5, "definition_levels_byte_length",
                                                              kRequired),
      field<&DataPageHeaderV2::repetition_levels_byte_length>(6, "repetition_levels_byte_length",
                                                              kRequired),
      field<&DataPageHeaderV2::is_compressed>(7, "is_compressed"),
  };
};

template <>
struct StructFields<PageHeader> {
  static constexpr const char* name = "PageHeader";
  static constexpr std::array fields{
      field<&PageHeader::type>(1, "type", kRequired),
      field<&PageHeader::uncompressed_page_size>(2, "uncompressed_page_size", kRequired),
      field<&PageHeader::compressed_page_size>(3, "compressed_page_size", kRequired),
      field<&PageHeader::crc>(4, "crc"),
      field<&PageHeader::data_page>(5, "data_page_header"),
      field<&PageHeader::dictionary_page>(7, "dictionary_page_header"),
      field<&PageHeader::data_page_v2>(8, "data_page_header_v2"),
  };
};

}  // namespace edgeperf::columnar::thrift

namespace edgeperf::columnar::format {

const char* type_name(std::int32_t physical_type) {
  static constexpr const char* kNames[] = {
      "BOOLEAN", "INT32",  "INT64",      "INT96",
      "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  if (physical_type < 0 || physical_type > 7) return "unknown type";
  return kNames[physical_type];
}

const char* encoding_name(std::int32_t encoding) {
  static constexpr const char* kNames[] = {
      "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
      "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
      "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  if (encoding < 0 || encoding > 9) return "unknown encoding";
  return kNames[encoding];
}

const char* codec_name(std::int32_t codec) {
  static constexpr const char* kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                           "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  if (codec < 0 || codec > 7) return "unknown codec";
  return kNames[codec];
}

void serialize(const FileMetaData& m, std::string& out) {
  thrift::CompactWriter w(out);
  thrift::write_struct_fields(w, m);
  w.end_struct();
}

void serialize(const PageHeader& h, std::string& out) {
  thrift::CompactWriter w(out);
  thrift::write_struct_fields(w, h);
  w.end_struct();
}

FileMetaData parse_file_metadata(const std::uint8_t* data, std::size_t size) {
  thrift::CompactReader r(data, size);
  FileMetaData m;
  thrift::read_struct_fields(r, m);
  return m;
}

PageHeader parse_page_header(const std::uint8_t* data, std::size_t size, std::size_t& consumed) {
  thrift::CompactReader r(data, size);
  PageHeader h;
  thrift::read_struct_fields(r, h);
  consumed = r.position();
  return h;
}

}  // namespace edgeperf::columnar::format
