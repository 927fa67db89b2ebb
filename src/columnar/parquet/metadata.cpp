// Serialization of Parquet metadata with the Thrift compact protocol; field
// ids follow parquet.thrift.
#include "edgeperf/core/error.h"
#include "format.h"
#include "thrift_compact.h"

namespace edgeperf::columnar::format {
namespace {

using thrift::CompactReader;
using thrift::CompactWriter;
using thrift::CType;

// ---- writing ----

void write_statistics(CompactWriter& w, std::int16_t id, const Statistics& stats) {
  w.begin_struct_field(id);
  if (stats.null_count) w.field_i64(3, *stats.null_count);
  if (stats.max_value) w.field_binary(5, *stats.max_value);
  if (stats.min_value) w.field_binary(6, *stats.min_value);
  w.end_struct();
}

void write_timestamp_nanos(CompactWriter& w, bool adjusted_to_utc) {
  w.begin_struct_field(10);  // SchemaElement.logicalType
  w.begin_struct_field(8);   // LogicalType.TIMESTAMP
  w.field_bool(1, adjusted_to_utc);
  w.begin_struct_field(2);  // TimeUnit
  w.begin_struct_field(3);  // NANOS
  w.end_struct();
  w.end_struct();
  w.end_struct();
  w.end_struct();
}

void write_schema_element(CompactWriter& w, const SchemaElement& e) {
  w.begin_struct_element();
  if (e.type) w.field_i32(1, *e.type);
  if (e.repetition) w.field_i32(3, *e.repetition);
  w.field_binary(4, e.name);
  if (e.num_children) w.field_i32(5, *e.num_children);
  if (e.converted_type) w.field_i32(6, *e.converted_type);
  if (e.timestamp_nanos) write_timestamp_nanos(w, e.adjusted_to_utc);
  w.end_struct();
}

void write_column_metadata(CompactWriter& w, const ColumnMetaData& m) {
  w.begin_struct_field(3);
  w.field_i32(1, m.type);
  w.begin_list_field(2, CType::i32, m.encodings.size());
  for (std::int32_t e : m.encodings) w.element_i32(e);
  w.begin_list_field(3, CType::binary, m.path_in_schema.size());
  for (const auto& p : m.path_in_schema) w.element_binary(p);
  w.field_i32(4, m.codec);
  w.field_i64(5, m.num_values);
  w.field_i64(6, m.total_uncompressed_size);
  w.field_i64(7, m.total_compressed_size);
  w.field_i64(9, m.data_page_offset);
  if (m.dictionary_page_offset) w.field_i64(11, *m.dictionary_page_offset);
  if (m.statistics) write_statistics(w, 12, *m.statistics);
  w.end_struct();
}

void write_row_group(CompactWriter& w, const RowGroup& g) {
  w.begin_struct_element();
  w.begin_list_field(1, CType::structure, g.columns.size());
  for (const ColumnChunk& c : g.columns) {
    w.begin_struct_element();
    w.field_i64(2, c.file_offset);
    if (c.meta_data) write_column_metadata(w, *c.meta_data);
    w.end_struct();
  }
  w.field_i64(2, g.total_byte_size);
  w.field_i64(3, g.num_rows);
  if (g.file_offset) w.field_i64(5, *g.file_offset);
  if (g.total_compressed_size) w.field_i64(6, *g.total_compressed_size);
  w.end_struct();
}

// ---- parsing ----

// Tracks which required fields a struct had.
class Required {
 public:
  void saw(int id) { seen_ |= std::uint64_t{1} << id; }
  void check(int id, const char* struct_name, const char* field) const {
    EP_CHECK(seen_ & (std::uint64_t{1} << id), "{} lacks required field {}", struct_name, field);
  }

 private:
  std::uint64_t seen_ = 0;
};

template <typename OnField>
void parse_struct(CompactReader& r, OnField&& on_field) {
  r.begin_struct();
  std::int16_t id = 0;
  CType type = CType::stop;
  while (r.next_field(id, type)) on_field(id, type);
  r.end_struct();
}

Statistics parse_statistics(CompactReader& r) {
  Statistics s;
  parse_struct(r, [&](std::int16_t id, CType t) {
    if (id == 3) {
      s.null_count = r.read_i64(t);
    } else if (id == 5) {
      s.max_value = r.read_binary(t);
    } else if (id == 6) {
      s.min_value = r.read_binary(t);
    } else {
      r.skip(t);
    }
  });
  return s;
}

// TimeUnit union: true when NANOS (field 3) is set.
bool parse_time_unit_is_nanos(CompactReader& r) {
  bool nanos = false;
  parse_struct(r, [&](std::int16_t id, CType t) {
    if (id == 3) nanos = true;
    r.skip(t);
  });
  return nanos;
}

void parse_logical_type(CompactReader& r, SchemaElement& e) {
  parse_struct(r, [&](std::int16_t id, CType t) {
    if (id != 8 || t != CType::structure) return r.skip(t);
    parse_struct(r, [&](std::int16_t ts_id, CType ts_t) {
      if (ts_id == 1) {
        e.adjusted_to_utc = r.read_bool(ts_t);
      } else if (ts_id == 2 && ts_t == CType::structure) {
        e.timestamp_nanos = parse_time_unit_is_nanos(r);
      } else {
        r.skip(ts_t);
      }
    });
  });
}

SchemaElement parse_schema_element(CompactReader& r) {
  SchemaElement e;
  Required req;
  parse_struct(r, [&](std::int16_t id, CType t) {
    switch (id) {
      case 1:
        e.type = r.read_i32(t);
        break;
      case 3:
        e.repetition = r.read_i32(t);
        break;
      case 4:
        e.name = r.read_binary(t);
        req.saw(4);
        break;
      case 5:
        e.num_children = r.read_i32(t);
        break;
      case 6:
        e.converted_type = r.read_i32(t);
        break;
      case 10:
        r.expect(t, CType::structure);
        parse_logical_type(r, e);
        break;
      default:
        r.skip(t);
    }
  });
  req.check(4, "SchemaElement", "name");
  return e;
}

template <typename Element>
std::vector<Element> parse_list(CompactReader& r, CType t, Element (*parse)(CompactReader&)) {
  const thrift::ListHeader list = r.read_list_header(t);
  r.expect(list.element, CType::structure);
  std::vector<Element> out;
  out.reserve(list.size);
  for (std::size_t i = 0; i < list.size; ++i) out.push_back(parse(r));
  return out;
}

ColumnMetaData parse_column_metadata(CompactReader& r) {
  ColumnMetaData m;
  Required req;
  parse_struct(r, [&](std::int16_t id, CType t) {
    switch (id) {
      case 1:
        m.type = r.read_i32(t);
        break;
      case 2: {
        const thrift::ListHeader list = r.read_list_header(t);
        for (std::size_t i = 0; i < list.size; ++i) m.encodings.push_back(r.read_i32(list.element));
        break;
      }
      case 3: {
        const thrift::ListHeader list = r.read_list_header(t);
        for (std::size_t i = 0; i < list.size; ++i)
          m.path_in_schema.push_back(r.read_binary(list.element));
        break;
      }
      case 4:
        m.codec = r.read_i32(t);
        break;
      case 5:
        m.num_values = r.read_i64(t);
        break;
      case 6:
        m.total_uncompressed_size = r.read_i64(t);
        break;
      case 7:
        m.total_compressed_size = r.read_i64(t);
        break;
      case 9:
        m.data_page_offset = r.read_i64(t);
        break;
      case 11:
        m.dictionary_page_offset = r.read_i64(t);
        break;
      case 12:
        r.expect(t, CType::structure);
        m.statistics = parse_statistics(r);
        break;
      default:
        r.skip(t);
        return;
    }
    req.saw(id);
  });
  req.check(1, "ColumnMetaData", "type");
  req.check(4, "ColumnMetaData", "codec");
  req.check(5, "ColumnMetaData", "num_values");
  req.check(7, "ColumnMetaData", "total_compressed_size");
  req.check(9, "ColumnMetaData", "data_page_offset");
  return m;
}

ColumnChunk parse_column_chunk(CompactReader& r) {
  ColumnChunk c;
  parse_struct(r, [&](std::int16_t id, CType t) {
    if (id == 2) {
      c.file_offset = r.read_i64(t);
    } else if (id == 3) {
      r.expect(t, CType::structure);
      c.meta_data = parse_column_metadata(r);
    } else {
      r.skip(t);
    }
  });
  return c;
}

RowGroup parse_row_group(CompactReader& r) {
  RowGroup g;
  Required req;
  parse_struct(r, [&](std::int16_t id, CType t) {
    switch (id) {
      case 1:
        g.columns = parse_list(r, t, parse_column_chunk);
        break;
      case 2:
        g.total_byte_size = r.read_i64(t);
        break;
      case 3:
        g.num_rows = r.read_i64(t);
        break;
      case 5:
        g.file_offset = r.read_i64(t);
        break;
      case 6:
        g.total_compressed_size = r.read_i64(t);
        break;
      default:
        r.skip(t);
        return;
    }
    req.saw(id);
  });
  req.check(1, "RowGroup", "columns");
  req.check(3, "RowGroup", "num_rows");
  return g;
}

DataPageHeader parse_data_page_header(CompactReader& r) {
  DataPageHeader h;
  Required req;
  parse_struct(r, [&](std::int16_t id, CType t) {
    switch (id) {
      case 1:
        h.num_values = r.read_i32(t);
        break;
      case 2:
        h.encoding = r.read_i32(t);
        break;
      case 3:
        h.definition_level_encoding = r.read_i32(t);
        break;
      case 4:
        h.repetition_level_encoding = r.read_i32(t);
        break;
      default:
        r.skip(t);
        return;
    }
    req.saw(id);
  });
  req.check(1, "DataPageHeader", "num_values");
  req.check(2, "DataPageHeader", "encoding");
  return h;
}

DictionaryPageHeader parse_dictionary_page_header(CompactReader& r) {
  DictionaryPageHeader h;
  Required req;
  parse_struct(r, [&](std::int16_t id, CType t) {
    switch (id) {
      case 1:
        h.num_values = r.read_i32(t);
        break;
      case 2:
        h.encoding = r.read_i32(t);
        break;
      default:
        r.skip(t);
        return;
    }
    req.saw(id);
  });
  req.check(1, "DictionaryPageHeader", "num_values");
  return h;
}

DataPageHeaderV2 parse_data_page_header_v2(CompactReader& r) {
  DataPageHeaderV2 h;
  Required req;
  parse_struct(r, [&](std::int16_t id, CType t) {
    switch (id) {
      case 1:
        h.num_values = r.read_i32(t);
        break;
      case 2:
        h.num_nulls = r.read_i32(t);
        break;
      case 3:
        h.num_rows = r.read_i32(t);
        break;
      case 4:
        h.encoding = r.read_i32(t);
        break;
      case 5:
        h.definition_levels_byte_length = r.read_i32(t);
        break;
      case 6:
        h.repetition_levels_byte_length = r.read_i32(t);
        break;
      case 7:
        h.is_compressed = r.read_bool(t);
        break;
      default:
        r.skip(t);
        return;
    }
    req.saw(id);
  });
  for (int id = 1; id <= 6; ++id) req.check(id, "DataPageHeaderV2", "num_values..levels lengths");
  return h;
}

}  // namespace

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
  CompactWriter w(out);
  w.field_i32(1, m.version);
  w.begin_list_field(2, CType::structure, m.schema.size());
  for (const SchemaElement& e : m.schema) write_schema_element(w, e);
  w.field_i64(3, m.num_rows);
  w.begin_list_field(4, CType::structure, m.row_groups.size());
  for (const RowGroup& g : m.row_groups) write_row_group(w, g);
  w.field_binary(6, m.created_by);
  // column_orders: TYPE_ORDER for every leaf, so readers trust min_value/max_value.
  const std::size_t leaves = m.schema.empty() ? 0 : m.schema.size() - 1;
  w.begin_list_field(7, CType::structure, leaves);
  for (std::size_t i = 0; i < leaves; ++i) {
    w.begin_struct_element();
    w.begin_struct_field(1);
    w.end_struct();
    w.end_struct();
  }
  w.end_struct();
}

void serialize(const PageHeader& h, std::string& out) {
  CompactWriter w(out);
  w.field_i32(1, h.type);
  w.field_i32(2, h.uncompressed_page_size);
  w.field_i32(3, h.compressed_page_size);
  if (h.crc) w.field_i32(4, static_cast<std::int32_t>(*h.crc));
  if (h.data_page) {
    w.begin_struct_field(5);
    w.field_i32(1, h.data_page->num_values);
    w.field_i32(2, h.data_page->encoding);
    w.field_i32(3, h.data_page->definition_level_encoding);
    w.field_i32(4, h.data_page->repetition_level_encoding);
    w.end_struct();
  }
  if (h.dictionary_page) {
    w.begin_struct_field(7);
    w.field_i32(1, h.dictionary_page->num_values);
    w.field_i32(2, h.dictionary_page->encoding);
    w.end_struct();
  }
  if (h.data_page_v2) {
    const DataPageHeaderV2& v2 = *h.data_page_v2;
    w.begin_struct_field(8);
    w.field_i32(1, v2.num_values);
    w.field_i32(2, v2.num_nulls);
    w.field_i32(3, v2.num_rows);
    w.field_i32(4, v2.encoding);
    w.field_i32(5, v2.definition_levels_byte_length);
    w.field_i32(6, v2.repetition_levels_byte_length);
    w.field_bool(7, v2.is_compressed);
    w.end_struct();
  }
  w.end_struct();
}

FileMetaData parse_file_metadata(const std::uint8_t* data, std::size_t size) {
  CompactReader r(data, size);
  FileMetaData m;
  Required req;
  std::int16_t id = 0;
  CType t = CType::stop;
  while (r.next_field(id, t)) {
    switch (id) {
      case 1:
        m.version = r.read_i32(t);
        break;
      case 2:
        m.schema = parse_list(r, t, parse_schema_element);
        break;
      case 3:
        m.num_rows = r.read_i64(t);
        break;
      case 4:
        m.row_groups = parse_list(r, t, parse_row_group);
        break;
      case 6:
        m.created_by = r.read_binary(t);
        break;
      default:
        r.skip(t);
        continue;
    }
    req.saw(id);
  }
  req.check(2, "FileMetaData", "schema");
  req.check(3, "FileMetaData", "num_rows");
  req.check(4, "FileMetaData", "row_groups");
  return m;
}

PageHeader parse_page_header(const std::uint8_t* data, std::size_t size, std::size_t& consumed) {
  CompactReader r(data, size);
  PageHeader h;
  Required req;
  std::int16_t id = 0;
  CType t = CType::stop;
  while (r.next_field(id, t)) {
    switch (id) {
      case 1:
        h.type = r.read_i32(t);
        break;
      case 2:
        h.uncompressed_page_size = r.read_i32(t);
        break;
      case 3:
        h.compressed_page_size = r.read_i32(t);
        break;
      case 4:
        h.crc = static_cast<std::uint32_t>(r.read_i32(t));
        break;
      case 5:
        r.expect(t, CType::structure);
        h.data_page = parse_data_page_header(r);
        break;
      case 7:
        r.expect(t, CType::structure);
        h.dictionary_page = parse_dictionary_page_header(r);
        break;
      case 8:
        r.expect(t, CType::structure);
        h.data_page_v2 = parse_data_page_header_v2(r);
        break;
      default:
        r.skip(t);
        continue;
    }
    req.saw(id);
  }
  req.check(1, "PageHeader", "type");
  req.check(2, "PageHeader", "uncompressed_page_size");
  req.check(3, "PageHeader", "compressed_page_size");
  consumed = r.position();
  return h;
}

}  // namespace edgeperf::columnar::format
