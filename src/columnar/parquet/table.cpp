// Table helpers and option parsing of the Parquet API.
#include <set>

#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"

namespace edgeperf::columnar {
namespace {

std::size_t variant_index_for(PhysicalType type) {
  switch (type) {
    case PhysicalType::int32:
      return 0;
    case PhysicalType::int64:
      return 1;
    case PhysicalType::float32:
      return 2;
    case PhysicalType::float64:
      return 3;
  }
  fail("unknown physical type {}", static_cast<int>(type));
}

std::size_t column_length(const ColumnValues& column) {
  return std::visit([](const auto& values) { return values.size(); }, column);
}

constexpr auto kPhysicalTypes = enum_names<PhysicalType>("physical type",
                                                         {{PhysicalType::int32, "int32"},
                                                          {PhysicalType::int64, "int64"},
                                                          {PhysicalType::float32, "float32"},
                                                          {PhysicalType::float64, "float64"}},
                                                         "unknown");
constexpr auto kCompressions = enum_names<Compression>(
    "compression",
    {{Compression::none, "none"}, {Compression::snappy, "snappy"}, {Compression::zstd, "zstd"}});

}  // namespace

const char* physical_type_name(PhysicalType type) {
  // Every name in the table is a literal, so its data() is NUL-terminated.
  return kPhysicalTypes.name(type).data();
}

Compression parse_compression(const std::string& name) {
  if (name == "uncompressed") return Compression::none;  // an alias the error does not list
  return kCompressions.parse(name);
}

std::size_t Table::num_rows() const { return columns.empty() ? 0 : column_length(columns[0]); }

void Table::validate() const {
  EP_CHECK(schema.size() == columns.size(), "table has {} fields but {} columns", schema.size(),
           columns.size());
  std::set<std::string> names;
  const std::size_t rows = num_rows();
  for (std::size_t i = 0; i < schema.size(); ++i) {
    const Field& field = schema[i];
    EP_CHECK(!field.name.empty(), "table field {} has an empty name", i);
    EP_CHECK(names.insert(field.name).second, "table has two columns named '{}'", field.name);
    EP_CHECK(!field.timestamp_ns || field.type == PhysicalType::int64,
             "column '{}': timestamp_ns needs type int64, not {}", field.name,
             physical_type_name(field.type));
    EP_CHECK(columns[i].index() == variant_index_for(field.type),
             "column '{}': values do not have the schema's type {}", field.name,
             physical_type_name(field.type));
    EP_CHECK(column_length(columns[i]) == rows, "column '{}' has {} rows, column '{}' has {}",
             field.name, column_length(columns[i]), schema[0].name, rows);
  }
}

std::size_t Table::column_index(const std::string& name) const {
  for (std::size_t i = 0; i < schema.size(); ++i) {
    if (schema[i].name == name) return i;
  }
  fail("no column named '{}'", name);
}

}  // namespace edgeperf::columnar
