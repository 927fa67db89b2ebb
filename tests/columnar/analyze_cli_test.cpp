// `edgeperf analyze` end to end: Parquet files (one file, and a hive-partitioned tree) written
// with write_parquet, aggregated by the binary, compared with a naive in-test aggregation; and
// bad input (unknown column, bad aggregation, corrupted file) failing with one error line.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>

#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/file_io.h"

namespace edgeperf::columnar {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code;
  std::string err;
};

class AnalyzeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(EP_BINARY_DIR) / "tests/columnar/analyze_cli" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  CliRun analyze(const std::string& args) {
    const fs::path err = dir_ / "stderr.txt";
    const std::string command = std::string(EP_BINARY_DIR) + "/edgeperf analyze " + args + " > " +
                                (dir_ / "stdout.txt").string() + " 2> " + err.string();
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(err)};
  }

  fs::path dir_;
};

// Rows of one file: key (int32), a (float64), b (float32), t (int64 timestamp).
Table make_table(std::size_t rows, std::uint64_t seed, int key_range) {
  std::mt19937_64 rng(seed);
  std::vector<std::int32_t> key(rows);
  std::vector<double> a(rows);
  std::vector<float> b(rows);
  std::vector<std::int64_t> t(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    key[i] = static_cast<std::int32_t>(rng() % key_range) - 3;
    a[i] = static_cast<double>(rng() % 10000) / 100.0;
    b[i] = static_cast<float>(rng() % 1000) / 10.0f;
    t[i] = static_cast<std::int64_t>(i) * 1000;
  }
  Table table;
  table.schema = {{"key", PhysicalType::int32},
                  {"a", PhysicalType::float64},
                  {"b", PhysicalType::float32},
                  {"t", PhysicalType::int64, true}};
  table.columns = {key, a, b, t};
  return table;
}

struct Ref {
  long long count = 0;
  double sum_a = 0, min_b = INFINITY, max_t = -INFINITY;
};

void accumulate(const Table& table, std::map<long long, Ref>& ref, std::optional<long long> key) {
  const auto& keys = std::get<std::vector<std::int32_t>>(table.columns[0]);
  const auto& a = std::get<std::vector<double>>(table.columns[1]);
  const auto& b = std::get<std::vector<float>>(table.columns[2]);
  const auto& t = std::get<std::vector<std::int64_t>>(table.columns[3]);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    Ref& r = ref[key.value_or(keys[i])];
    ++r.count;
    r.sum_a += a[i];
    r.min_b = std::min<double>(r.min_b, b[i]);
    r.max_t = std::max<double>(r.max_t, static_cast<double>(t[i]));
  }
}

void expect_report(const fs::path& json_path, const std::string& key_name,
                   const std::map<long long, Ref>& ref) {
  const auto report = nlohmann::json::parse(read_file(json_path));
  const auto& groups = report.at("groups");
  ASSERT_EQ(groups.size(), ref.size());
  std::size_t g = 0;
  for (const auto& [key, r] : ref) {
    const auto& row = groups[g++];
    EXPECT_EQ(row.at(key_name).get<long long>(), key);
    EXPECT_EQ(row.at("count(*)").get<long long>(), r.count);
    EXPECT_NEAR(row.at("mean(a)").get<double>(), r.sum_a / r.count, 1e-9 * std::fabs(r.sum_a));
    EXPECT_NEAR(row.at("sum(a)").get<double>(), r.sum_a, 1e-9 * std::fabs(r.sum_a));
    EXPECT_EQ(row.at("min(b)").get<double>(), r.min_b);
    EXPECT_EQ(row.at("max(t)").get<double>(), r.max_t);
  }
}

const std::string kAggs = "--agg 'mean(a)' --agg 'sum(a),count(*)' --agg 'min(b)' --agg 'max(t)'";

TEST_F(AnalyzeCli, SingleFileMatchesNaiveAggregation) {
  const Table table = make_table(30000, 1, 40);
  WriteOptions options;
  options.row_group_rows = 7000;  // several row groups streamed one by one
  write_parquet(dir_ / "data.parquet", table, options);
  std::map<long long, Ref> ref;
  accumulate(table, ref, std::nullopt);
  const CliRun run = analyze((dir_ / "data.parquet").string() + " --groupby key " + kAggs +
                             " --threads 2 --json " + (dir_ / "out.json").string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_report(dir_ / "out.json", "key", ref);
}

TEST_F(AnalyzeCli, HivePartitionsByColumnAndByPartitionKey) {
  std::map<long long, Ref> by_key, by_device;
  for (int device : {7, -2}) {
    for (int chunk = 0; chunk < 2; ++chunk) {
      const Table table = make_table(5000, 10 * device + chunk, 9);
      const fs::path folder = dir_ / "tree" / ("device=" + std::to_string(device));
      fs::create_directories(folder);
      write_parquet(folder / ("part-" + std::to_string(chunk) + ".parquet"), table);
      accumulate(table, by_key, std::nullopt);
      accumulate(table, by_device, device);
    }
  }
  write_file_atomic(dir_ / "tree" / "_SUCCESS", std::string());  // ignored: not a data file
  CliRun run = analyze((dir_ / "tree").string() + " --groupby key " + kAggs + " --json " +
                       (dir_ / "by_key.json").string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_report(dir_ / "by_key.json", "key", by_key);
  run = analyze((dir_ / "tree").string() + " --groupby device " + kAggs + " --json " +
                (dir_ / "by_device.json").string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_report(dir_ / "by_device.json", "device", by_device);
}

void expect_one_error_line(const CliRun& run, const std::string& needle) {
  EXPECT_NE(run.exit_code, 0);
  EXPECT_EQ(run.err.rfind("edgeperf: error:", 0), 0u) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  EXPECT_NE(run.err.find(needle), std::string::npos) << run.err;
}

TEST_F(AnalyzeCli, BadInputFailsWithOneLine) {
  const fs::path file = dir_ / "data.parquet";
  write_parquet(file, make_table(1000, 2, 5));
  expect_one_error_line(analyze(file.string() + " --groupby nope --agg 'mean(a)'"), "'nope'");
  expect_one_error_line(analyze(file.string() + " --groupby key --agg 'mean(zz)'"), "'zz'");
  expect_one_error_line(analyze(file.string() + " --groupby key --agg 'avg(a)'"), "avg(a)");
  expect_one_error_line(analyze(file.string() + " --groupby key --agg 'mean a'"), "mean a");
  expect_one_error_line(analyze(file.string() + " --groupby key --agg 'sum(*)'"), "sum(*)");
  expect_one_error_line(analyze(file.string() + " --groupby a --agg 'mean(b)'"), "integer");
  expect_one_error_line(analyze((dir_ / "missing").string() + " --groupby key --agg 'mean(a)'"),
                        "missing");
  const std::string bytes = read_file(file);
  write_file_atomic(dir_ / "cut.parquet", bytes.substr(0, bytes.size() / 2));
  expect_one_error_line(analyze((dir_ / "cut.parquet").string() + " --groupby key --agg 'mean(a)'"),
                        "cut.parquet");
  fs::create_directories(dir_ / "empty");
  expect_one_error_line(analyze((dir_ / "empty").string() + " --groupby key --agg 'mean(a)'"),
                        "no .parquet files");
}

}  // namespace
}  // namespace edgeperf::columnar
