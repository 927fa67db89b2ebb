#include "edgeperf/columnar/parquet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "parquet/delta.h"
#include "parquet/format.h"
#include "parquet/rle.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "imu_sample.h"

namespace edgeperf::columnar {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  const fs::path dir =
      fs::temp_directory_path() / ("ep_parquet_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

// A table with every type, awkward float values and a low-cardinality column.
Table mixed_table(std::size_t rows) {
  Table t;
  t.schema = {{"ts", PhysicalType::int64, true},   {"id", PhysicalType::int32, false},
              {"f", PhysicalType::float32, false}, {"d", PhysicalType::float64, false},
              {"big", PhysicalType::int64, false}, {"level", PhysicalType::float32, false}};
  std::vector<std::int64_t> ts(rows), big(rows);
  std::vector<std::int32_t> id(rows);
  std::vector<float> f(rows), level(rows);
  std::vector<double> d(rows);
  std::mt19937_64 rng(42);
  for (std::size_t i = 0; i < rows; ++i) {
    ts[i] = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(i) * 1000;
    id[i] = static_cast<std::int32_t>(i % 3) - 1;
    f[i] = std::bit_cast<float>(static_cast<std::uint32_t>(rng()) & 0xbf7fffffu);  // finite
    d[i] = static_cast<double>(rng()) * 1e-10 - 5e8;
    big[i] = static_cast<std::int64_t>(rng());
    level[i] = static_cast<float>(i % 5) * 0.25f;
  }
  if (rows >= 8) {
    f[1] = -0.0f;
    f[2] = std::numeric_limits<float>::infinity();
    f[3] = std::numeric_limits<float>::quiet_NaN();
    d[4] = std::numeric_limits<double>::denorm_min();
    big[5] = std::numeric_limits<std::int64_t>::min();
    big[6] = std::numeric_limits<std::int64_t>::max();
    id[7] = std::numeric_limits<std::int32_t>::min();
  }
  t.columns = {std::move(ts), std::move(id),  std::move(f),
               std::move(d),  std::move(big), std::move(level)};
  return t;
}

// Bit-exact comparison (NaN == NaN, -0.0 != 0.0).
void expect_same(const Table& a, const Table& b) {
  ASSERT_EQ(a.schema.size(), b.schema.size());
  for (std::size_t i = 0; i < a.schema.size(); ++i) {
    EXPECT_EQ(a.schema[i].name, b.schema[i].name);
    EXPECT_EQ(a.schema[i].type, b.schema[i].type);
    EXPECT_EQ(a.schema[i].timestamp_ns, b.schema[i].timestamp_ns) << a.schema[i].name;
    ASSERT_EQ(a.columns[i].index(), b.columns[i].index());
    std::visit(
        [&](const auto& x) {
          using V = std::decay_t<decltype(x)>;
          const V& y = std::get<V>(b.columns[i]);
          ASSERT_EQ(x.size(), y.size()) << a.schema[i].name;
          EXPECT_TRUE(x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(x[0])) == 0)
              << "column " << a.schema[i].name;
        },
        a.columns[i]);
  }
}

format::FileMetaData footer_of(const std::string& bytes) {
  std::uint32_t length = 0;
  std::memcpy(&length, bytes.data() + bytes.size() - 8, 4);
  const auto* start =
      reinterpret_cast<const std::uint8_t*>(bytes.data()) + bytes.size() - 8 - length;
  return format::parse_file_metadata(start, length);
}

struct Case {
  Compression compression;
  bool dictionary;
};

class RoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTrip, EveryTypeSurvivesBitExact) {
  const Table table = mixed_table(5000);
  WriteOptions options;
  options.compression = GetParam().compression;
  options.dictionary = GetParam().dictionary;
  options.row_group_rows = 1500;
  const fs::path path = temp_dir() / "roundtrip.parquet";
  write_parquet(path, table, options);
  const ParquetReader reader(path);
  EXPECT_EQ(reader.num_rows(), 5000u);
  EXPECT_EQ(reader.num_row_groups(), 4u);
  expect_same(reader.read_all(), table);
}

TEST_P(RoundTrip, FileOnDiskEqualsInMemoryEncoding) {
  const Table table = mixed_table(3000);
  WriteOptions options;
  options.compression = GetParam().compression;
  options.dictionary = GetParam().dictionary;
  options.row_group_rows = 1000;
  const fs::path path = temp_dir() / "same.parquet";
  write_parquet(path, table, options);
  EXPECT_EQ(read_file(path), encode_parquet(table, options));
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, RoundTrip,
    ::testing::Values(Case{Compression::none, false}, Case{Compression::none, true},
                      Case{Compression::snappy, false}, Case{Compression::snappy, true},
                      Case{Compression::zstd, false}, Case{Compression::zstd, true}));

TEST(Parquet, RowGroupsAndProjectionStream) {
  const Table table = testing::imu_sample(10007);
  WriteOptions options;
  options.row_group_rows = 1000;
  const fs::path path = temp_dir() / "groups.parquet";
  write_parquet(path, table, options);
  const ParquetReader reader(path);
  ASSERT_EQ(reader.num_row_groups(), 11u);
  const auto& gyro = std::get<std::vector<float>>(table.columns[table.column_index("gyro_y")]);
  const auto& ts = std::get<std::vector<std::int64_t>>(table.columns[0]);
  std::size_t row = 0;
  for (std::size_t g = 0; g < reader.num_row_groups(); ++g) {
    const Table part = reader.read_row_group(g, {"gyro_y", "ts_ns"});
    ASSERT_EQ(part.schema.size(), 2u);
    EXPECT_EQ(part.schema[0].name, "gyro_y");
    EXPECT_TRUE(part.schema[1].timestamp_ns);
    const auto& got_gyro = std::get<std::vector<float>>(part.columns[0]);
    const auto& got_ts = std::get<std::vector<std::int64_t>>(part.columns[1]);
    ASSERT_EQ(got_gyro.size(), g == 10 ? 7u : 1000u);
    for (std::size_t i = 0; i < got_gyro.size(); ++i, ++row) {
      ASSERT_EQ(got_gyro[i], gyro[row]);
      ASSERT_EQ(got_ts[i], ts[row]);
    }
  }
  EXPECT_EQ(row, 10007u);
  EXPECT_THROW(reader.read_row_group(11), Error);
  EXPECT_THROW(reader.read_row_group(0, {"nope"}), Error);
}

TEST(Parquet, FooterHasStatisticsLogicalTypeAndDictionary) {
  const Table table = testing::imu_sample(4096);
  const std::string bytes = encode_parquet(table);
  const format::FileMetaData meta = footer_of(bytes);
  EXPECT_EQ(meta.created_by, "edgeperf");
  ASSERT_EQ(meta.schema.size(), 10u);
  EXPECT_TRUE(meta.schema[1].timestamp_nanos);
  EXPECT_TRUE(meta.schema[1].adjusted_to_utc);
  EXPECT_FALSE(meta.schema[1].converted_type.has_value());
  EXPECT_EQ(meta.schema[2].repetition, format::repetition::required);
  ASSERT_EQ(meta.row_groups.size(), 1u);
  const auto& columns = meta.row_groups[0].columns;
  // ts_ns: min/max are the first and last timestamps (monotonic sample).
  const auto& ts_meta = *columns[0].meta_data;
  ASSERT_TRUE(ts_meta.statistics && ts_meta.statistics->min_value && ts_meta.statistics->max_value);
  std::int64_t lo = 0, hi = 0;
  std::memcpy(&lo, ts_meta.statistics->min_value->data(), 8);
  std::memcpy(&hi, ts_meta.statistics->max_value->data(), 8);
  const auto& ts = std::get<std::vector<std::int64_t>>(table.columns[0]);
  EXPECT_EQ(lo, ts.front());
  EXPECT_EQ(hi, ts.back());
  EXPECT_EQ(ts_meta.statistics->null_count, 0);
  EXPECT_EQ(ts_meta.codec, format::codec::zstd);
  // sensor_id has 4 values: dictionary; accel_x is noisy: plain.
  const auto& id_meta = *columns[1].meta_data;
  EXPECT_TRUE(id_meta.dictionary_page_offset.has_value());
  EXPECT_NE(std::find(id_meta.encodings.begin(), id_meta.encodings.end(),
                      format::encoding::rle_dictionary),
            id_meta.encodings.end());
  EXPECT_FALSE(columns[2].meta_data->dictionary_page_offset.has_value());
  std::int64_t total = 0;
  for (const auto& c : columns) total += c.meta_data->total_compressed_size;
  EXPECT_EQ(*meta.row_groups[0].total_compressed_size, total);
}

TEST(Parquet, EmptyTableRoundTrips) {
  Table empty = mixed_table(0);
  const fs::path path = temp_dir() / "empty.parquet";
  write_parquet(path, empty);
  const ParquetReader reader(path);
  EXPECT_EQ(reader.num_rows(), 0u);
  expect_same(reader.read_all(), empty);
}

TEST(Parquet, BadTablesAndPathsAreErrors) {
  Table bad = mixed_table(10);
  std::get<std::vector<std::int32_t>>(bad.columns[1]).pop_back();
  EXPECT_THROW(encode_parquet(bad), Error);
  Table wrong_type = mixed_table(10);
  wrong_type.schema[2].type = PhysicalType::float64;
  EXPECT_THROW(encode_parquet(wrong_type), Error);
  WriteOptions zero_rows;
  zero_rows.row_group_rows = 0;
  EXPECT_THROW(encode_parquet(mixed_table(10), zero_rows), Error);
  EXPECT_THROW(write_parquet("/nonexistent-dir/x.parquet", mixed_table(10)), Error);
  EXPECT_THROW(ParquetReader("/nonexistent-dir/x.parquet"), Error);
  EXPECT_THROW(parse_compression("lz4"), Error);
  const fs::path text = temp_dir() / "text.parquet";
  write_file_atomic(text, std::string("this is not parquet at all"));
  try {
    ParquetReader reader(text);
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("text.parquet"), std::string::npos);
  }
}

// ---- hand-built files with OPTIONAL columns (as DuckDB writes them) ----

std::string u32_le(std::uint32_t v) {
  std::string s(4, '\0');
  std::memcpy(s.data(), &v, 4);
  return s;
}

// One OPTIONAL INT32 column "x", one page (v1 or v2), uncompressed.
std::string optional_int32_file(const std::vector<std::uint32_t>& levels,
                                const std::vector<std::int32_t>& values, bool v2) {
  std::string level_bytes;
  rle::encode(levels.data(), levels.size(), 1, level_bytes);
  std::string value_bytes(values.size() * 4, '\0');
  std::memcpy(value_bytes.data(), values.data(), value_bytes.size());
  std::string body;
  format::PageHeader header;
  std::size_t nulls = 0;
  for (auto l : levels) nulls += l == 0;
  if (v2) {
    body = level_bytes + value_bytes;
    header.type = format::page_type::data_page_v2;
    format::DataPageHeaderV2 h;
    h.num_values = static_cast<std::int32_t>(levels.size());
    h.num_nulls = static_cast<std::int32_t>(nulls);
    h.num_rows = h.num_values;
    h.encoding = format::encoding::plain;
    h.definition_levels_byte_length = static_cast<std::int32_t>(level_bytes.size());
    header.data_page_v2 = h;
  } else {
    body = u32_le(static_cast<std::uint32_t>(level_bytes.size())) + level_bytes + value_bytes;
    header.type = format::page_type::data_page;
    format::DataPageHeader h;
    h.num_values = static_cast<std::int32_t>(levels.size());
    h.encoding = format::encoding::plain;
    header.data_page = h;
  }
  header.uncompressed_page_size = header.compressed_page_size =
      static_cast<std::int32_t>(body.size());
  std::string page;
  format::serialize(header, page);
  page += body;

  format::FileMetaData meta;
  meta.schema.resize(2);
  meta.schema[0].name = "duckdb_schema";
  meta.schema[0].num_children = 1;
  meta.schema[1].name = "x";
  meta.schema[1].type = format::type::int32;
  meta.schema[1].repetition = format::repetition::optional;
  meta.num_rows = static_cast<std::int64_t>(levels.size());
  format::RowGroup group;
  group.num_rows = meta.num_rows;
  format::ColumnChunk chunk;
  chunk.file_offset = 4;
  format::ColumnMetaData m;
  m.type = format::type::int32;
  m.encodings = {format::encoding::plain, format::encoding::rle};
  m.path_in_schema = {"x"};
  m.codec = format::codec::uncompressed;
  m.num_values = meta.num_rows;
  m.total_compressed_size = m.total_uncompressed_size = static_cast<std::int64_t>(page.size());
  m.data_page_offset = 4;
  chunk.meta_data = m;
  group.columns.push_back(chunk);
  meta.row_groups.push_back(group);
  std::string file = "PAR1" + page;
  std::string footer;
  format::serialize(meta, footer);
  return file + footer + u32_le(static_cast<std::uint32_t>(footer.size())) + "PAR1";
}

class OptionalColumn : public ::testing::TestWithParam<bool> {};

TEST_P(OptionalColumn, ReadsWithoutNulls) {
  const fs::path path = temp_dir() / "optional.parquet";
  std::vector<std::int32_t> values(100);
  for (int i = 0; i < 100; ++i) values[static_cast<std::size_t>(i)] = i * 7 - 300;
  write_file_atomic(path,
                    optional_int32_file(std::vector<std::uint32_t>(100, 1), values, GetParam()));
  const ParquetReader reader(path);
  EXPECT_EQ(reader.schema()[0].name, "x");
  const Table t = reader.read_all();
  EXPECT_EQ(std::get<std::vector<std::int32_t>>(t.columns[0]), values);
}

TEST_P(OptionalColumn, NullsAreAnErrorNamingFileAndColumn) {
  const fs::path path = temp_dir() / "nulls.parquet";
  std::vector<std::uint32_t> levels(50, 1);
  levels[17] = 0;
  write_file_atomic(path,
                    optional_int32_file(levels, std::vector<std::int32_t>(49, 5), GetParam()));
  const ParquetReader reader(path);
  try {
    reader.read_all();
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("nulls.parquet: row group 0, column 'x'"), std::string::npos) << message;
    EXPECT_NE(message.find("null"), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(PageVersions, OptionalColumn, ::testing::Values(false, true));

// ---- corruption: flips and truncations must give Error, never crash or hang ----

void expect_error_or_success(const fs::path& path) {
  try {
    const ParquetReader reader(path);
    for (std::size_t g = 0; g < reader.num_row_groups(); ++g) (void)reader.read_row_group(g);
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find(path.filename().string()), std::string::npos) << message;
  } catch (const std::exception& other) {
    ADD_FAILURE() << "non-Error exception: " << other.what();
  }
}

TEST(Parquet, CorruptedFilesThrowErrorNeverCrash) {
  const fs::path dir = temp_dir();
  std::mt19937_64 rng(7);
  int iteration = 0;
  for (Compression compression : {Compression::none, Compression::snappy, Compression::zstd}) {
    WriteOptions options;
    options.compression = compression;
    options.row_group_rows = 700;
    const std::string original = encode_parquet(testing::imu_sample(2000), options);
    const std::uint32_t footer_length = [&] {
      std::uint32_t v = 0;
      std::memcpy(&v, original.data() + original.size() - 8, 4);
      return v;
    }();
    const std::size_t footer_start = original.size() - 8 - footer_length;
    for (int trial = 0; trial < 300; ++trial, ++iteration) {
      std::string bytes = original;
      const int mode = trial % 3;
      if (mode == 0) {
        bytes.resize(rng() % bytes.size());
      } else {
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) {
          // Half of the flips land in the footer, where they do the most damage.
          const std::size_t at = mode == 1 ? footer_start + rng() % (bytes.size() - footer_start)
                                           : rng() % bytes.size();
          bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
        }
      }
      const fs::path path = dir / ("corrupt_" + std::to_string(iteration) + ".parquet");
      std::ofstream(path, std::ios::binary)
          .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      expect_error_or_success(path);
      fs::remove(path);
    }
  }
}

TEST(ParquetEncodings, DeltaBinaryPackedSpecExamples) {
  // Encodings.md examples: 1..5 (bit width 0) and 7,5,3,1,2,3,4,5 (width 2).
  const std::vector<std::uint8_t> ones = {8, 1, 5, 2, 2, 0};
  std::vector<std::int64_t> out(5);
  delta::decode(ones, 5, out.data());
  EXPECT_EQ(out, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  const std::vector<std::uint8_t> mixed = {8, 1, 8, 14, 3, 2, 0xC0, 0x3F};
  std::vector<std::int32_t> out32(8);
  delta::decode(mixed, 8, out32.data());
  EXPECT_EQ(out32, (std::vector<std::int32_t>{7, 5, 3, 1, 2, 3, 4, 5}));
  EXPECT_THROW(delta::decode(std::span(mixed).first(6), 8, out32.data()), Error);
}

TEST(ParquetEncodings, RleAndDeltaSurviveRandomBytes) {
  std::mt19937_64 rng(3);
  std::vector<std::uint32_t> indices(4096);
  std::vector<std::int64_t> values(4096);
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::uint8_t> bytes(rng() % 64);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    const std::size_t count = rng() % indices.size();
    try {
      rle::decode(bytes.data(), bytes.size(), static_cast<int>(rng() % 33), indices.data(), count);
    } catch (const Error&) {
    }
    try {
      delta::decode(bytes, count, values.data());
    } catch (const Error&) {
    }
  }
  // Round trip of the encoder across widths and run shapes.
  for (int width : {1, 2, 3, 7, 8, 13, 16, 31, 32}) {
    std::vector<std::uint32_t> in(1000);
    const std::uint64_t mask = (std::uint64_t{1} << width) - 1;
    for (std::size_t i = 0; i < in.size(); ++i) {
      in[i] = static_cast<std::uint32_t>((i / 50) % 2 ? rng() & mask : (i / 100) & mask);
    }
    std::string encoded;
    rle::encode(in.data(), in.size(), width, encoded);
    std::vector<std::uint32_t> back(in.size());
    rle::decode(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size(), width,
                back.data(), back.size());
    EXPECT_EQ(back, in) << "width " << width;
  }
}

TEST(Parquet, TruncatedPageHeaderNamesRowGroupColumnAndOffset) {
  WriteOptions options;
  options.compression = Compression::none;
  options.dictionary = false;
  std::string bytes = encode_parquet(testing::imu_sample(100), options);
  // Zero the second column's first page header.
  const format::FileMetaData meta = footer_of(bytes);
  const auto offset =
      static_cast<std::size_t>(meta.row_groups[0].columns[2].meta_data->data_page_offset);
  std::memset(bytes.data() + offset, 0, 3);
  const fs::path path = temp_dir() / "data.parquet";
  write_file_atomic(path, bytes);
  const ParquetReader reader(path);
  try {
    reader.read_row_group(0, {"accel_x"});
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("data.parquet: row group 0, column 'accel_x': page header"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(std::to_string(offset)), std::string::npos) << message;
  }
}

TEST(Parquet, FlippedBitInAPageBodyIsCaughtByItsCrc) {
  for (Compression compression : {Compression::none, Compression::snappy, Compression::zstd}) {
    WriteOptions options;
    options.compression = compression;
    options.dictionary = false;
    std::string bytes = encode_parquet(testing::imu_sample(500), options);
    const format::FileMetaData meta = footer_of(bytes);
    const auto offset =
        static_cast<std::size_t>(meta.row_groups[0].columns[3].meta_data->data_page_offset);
    std::size_t header_size = 0;
    const format::PageHeader header =
        format::parse_page_header(reinterpret_cast<const std::uint8_t*>(bytes.data()) + offset,
                                  bytes.size() - offset, header_size);
    ASSERT_TRUE(header.crc.has_value());
    // The last byte of the page body: in an uncompressed page it is a value's byte,
    // which no structural check could notice.
    const std::size_t at = offset + header_size + header.compressed_page_size - 1;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
    const fs::path path = temp_dir() / "flipped.parquet";
    write_file_atomic(path, bytes);
    const ParquetReader reader(path);
    try {
      reader.read_row_group(0, {"accel_y"});
      FAIL() << "expected an Error for " << static_cast<int>(compression);
    } catch (const Error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("flipped.parquet: row group 0, column 'accel_y'"), std::string::npos)
          << message;
      EXPECT_NE(message.find("CRC-32"), std::string::npos) << message;
    }
  }
}

// ---------------------------------------------------------------- metadata field tables

format::FileMetaData metadata_with_every_field() {
  format::FileMetaData m;
  m.schema.resize(2);
  m.schema[0].name = "schema";
  m.schema[0].num_children = 1;
  m.schema[1].name = "t";
  m.schema[1].type = format::type::int64;
  m.schema[1].repetition = format::repetition::optional;
  m.schema[1].converted_type = 10;
  m.schema[1].timestamp_nanos = true;
  m.schema[1].adjusted_to_utc = false;
  m.num_rows = 3;
  m.created_by = "test";
  format::ColumnChunk chunk;
  chunk.file_offset = 4;
  format::ColumnMetaData column;
  column.type = format::type::int64;
  column.encodings = {format::encoding::plain, format::encoding::rle_dictionary};
  column.path_in_schema = {"t"};
  column.codec = format::codec::zstd;
  column.num_values = 3;
  column.total_uncompressed_size = 40;
  column.total_compressed_size = 30;
  column.data_page_offset = 20;
  column.dictionary_page_offset = 4;
  column.statistics = format::Statistics{std::string("a"), std::string("z"), 1};
  chunk.meta_data = column;
  m.row_groups.push_back(format::RowGroup{{chunk}, 40, 3, 4, 30});
  return m;
}

TEST(ParquetMetadata, EveryFieldSurvivesARoundTripByteForByte) {
  std::string bytes;
  format::serialize(metadata_with_every_field(), bytes);
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const format::FileMetaData back = format::parse_file_metadata(data, bytes.size());
  ASSERT_EQ(back.schema.size(), 2U);
  EXPECT_EQ(back.schema[1].type, format::type::int64);
  EXPECT_EQ(back.schema[1].converted_type, 10);
  EXPECT_TRUE(back.schema[1].timestamp_nanos);
  EXPECT_FALSE(back.schema[1].adjusted_to_utc);
  ASSERT_EQ(back.row_groups.size(), 1U);
  const format::RowGroup& group = back.row_groups[0];
  EXPECT_EQ(group.file_offset, 4);
  EXPECT_EQ(group.total_compressed_size, 30);
  ASSERT_TRUE(group.columns[0].meta_data.has_value());
  const format::ColumnMetaData& column = *group.columns[0].meta_data;
  EXPECT_EQ(column.encodings, (std::vector<std::int32_t>{0, 8}));
  EXPECT_EQ(column.path_in_schema, std::vector<std::string>{"t"});
  EXPECT_EQ(column.total_uncompressed_size, 40);
  EXPECT_EQ(column.dictionary_page_offset, 4);
  ASSERT_TRUE(column.statistics.has_value());
  EXPECT_EQ(column.statistics->min_value, "a");
  EXPECT_EQ(column.statistics->max_value, "z");
  EXPECT_EQ(column.statistics->null_count, 1);
  std::string again;
  format::serialize(back, again);
  EXPECT_EQ(again, bytes);
}

// The field ids and types of parquet.thrift, encoded by hand with the compact protocol.
TEST(ParquetMetadata, DataPageHeaderBytesFollowParquetThrift) {
  format::PageHeader header;
  header.type = format::page_type::data_page;
  header.uncompressed_page_size = 100;
  header.compressed_page_size = 60;
  header.data_page = format::DataPageHeader{5, format::encoding::plain};
  std::string bytes;
  format::serialize(header, bytes);
  std::string hex;
  for (unsigned char byte : bytes) hex += fmt::format("{:02x}", byte);
  // 1: i32 0, 2: i32 100, 3: i32 60, 5: struct {1: i32 5, 2: i32 0, 3: i32 3, 4: i32 3}
  EXPECT_EQ(hex, "150015c80115782c150a1500150615060000");
}

TEST(ParquetMetadata, PageHeaderFieldsRoundTrip) {
  format::PageHeader header;
  header.type = format::page_type::data_page_v2;
  header.uncompressed_page_size = 100;
  header.compressed_page_size = 60;
  header.crc = 0xdeadbeefU;  // above INT32_MAX: stored as an i32 with the same bits
  header.data_page_v2 = format::DataPageHeaderV2{5, 1, 5, format::encoding::plain, 2, 0, false};
  std::string bytes;
  format::serialize(header, bytes);
  bytes += "page body";
  std::size_t consumed = 0;
  const format::PageHeader back = format::parse_page_header(
      reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), consumed);
  EXPECT_EQ(consumed, bytes.size() - std::strlen("page body"));
  EXPECT_EQ(back.crc, 0xdeadbeefU);
  ASSERT_TRUE(back.data_page_v2.has_value());
  EXPECT_EQ(back.data_page_v2->num_nulls, 1);
  EXPECT_EQ(back.data_page_v2->definition_levels_byte_length, 2);
  EXPECT_FALSE(back.data_page_v2->is_compressed);
  EXPECT_FALSE(back.data_page.has_value());
}

TEST(ParquetMetadata, MissingRequiredFieldsAreNamed) {
  const std::uint8_t empty_struct[] = {0x00};  // just the stop byte
  try {
    format::parse_file_metadata(empty_struct, sizeof(empty_struct));
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "FileMetaData lacks required field schema");
  }
  std::size_t consumed = 0;
  try {
    format::parse_page_header(empty_struct, sizeof(empty_struct), consumed);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "PageHeader lacks required field type");
  }
}

}  // namespace
}  // namespace edgeperf::columnar
