#pragma once
// Apache Parquet writer and reader, written from the format specification.
// Flat schemas of fixed-width numeric columns (what IMU logs and analytics need).
// Errors are edgeperf::Error naming the file and the part at fault (footer, row
// group N, column C, page).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace edgeperf::columnar {

enum class PhysicalType { int32, int64, float32, float64 };
enum class Compression { none, snappy, zstd };

Compression parse_compression(const std::string& name);  // "none" | "snappy" | "zstd"

const char* physical_type_name(PhysicalType type);  // "int32", "int64", "float32", "float64"

struct Field {
  std::string name;
  PhysicalType type = PhysicalType::float32;
  bool timestamp_ns = false;  // int64 column with logical type TIMESTAMP(NANOS, UTC)
};

using ColumnValues = std::variant<std::vector<std::int32_t>, std::vector<std::int64_t>,
                                  std::vector<float>, std::vector<double>>;

struct Table {
  std::vector<Field> schema;
  std::vector<ColumnValues> columns;  // one per field, same order, same length

  std::size_t num_rows() const;
  // Throws Error when a column's type or length does not match the schema.
  void validate() const;
  // Index of a column by name; throws Error naming it when absent.
  std::size_t column_index(const std::string& name) const;
};

struct WriteOptions {
  Compression compression = Compression::zstd;
  int zstd_level = 1;
  std::size_t row_group_rows = std::size_t{1} << 20;
  bool dictionary = true;  // dictionary-encode columns where it makes the page smaller
  bool statistics = true;  // min/max/null_count per column chunk
};

// Encodes a whole file in memory.
std::string encode_parquet(const Table& table, const WriteOptions& options = {});
// Writes atomically: temp name in the same directory, fsync, rename.
void write_parquet(const std::filesystem::path& path, const Table& table,
                   const WriteOptions& options = {});

class ParquetReader {
 public:
  // Reads and checks the footer; streams row groups on demand.
  explicit ParquetReader(std::filesystem::path path);
  const std::filesystem::path& path() const { return path_; }
  const std::vector<Field>& schema() const { return schema_; }
  std::size_t num_rows() const { return num_rows_; }
  std::size_t num_row_groups() const;
  // Reads one row group; only the named columns (all when empty), in that order.
  Table read_row_group(std::size_t index, const std::vector<std::string>& columns = {}) const;
  Table read_all(const std::vector<std::string>& columns = {}) const;

 private:
  struct Footer;
  std::filesystem::path path_;
  std::vector<Field> schema_;
  std::size_t num_rows_ = 0;
  std::shared_ptr<const Footer> footer_;
};

}  // namespace edgeperf::columnar
