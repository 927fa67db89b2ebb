// edgeperf analyze: group-by aggregation over a Parquet file or a directory tree of chunks
// (hive partitions, name=value folders). Reads only the needed columns, one row group at a
// time, feeding the streaming GroupBy kernel.
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/bench/runner.h"
#include "edgeperf/cli/commands.h"
#include "edgeperf/columnar/kernels.h"
#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"

namespace edgeperf::cli {
namespace {

namespace fs = std::filesystem;
using columnar::ColumnValues;
using columnar::PhysicalType;

struct AnalyzeArgs {
  std::string path;
  std::string groupby;
  std::vector<std::string> aggs;
  int threads = 0;
  std::string json_path;
};

enum class AggFunc { sum, mean, count, min, max };

struct Agg {
  std::string text;  // as the user wrote it, normalized: mean(ax)
  AggFunc func;
  std::string column;  // "*" for count(*)
};

Agg parse_agg(const std::string& text) {
  static constexpr auto kFuncs =
      enum_names<AggFunc>("aggregation function", {{AggFunc::sum, "sum"},
                                                   {AggFunc::mean, "mean"},
                                                   {AggFunc::count, "count"},
                                                   {AggFunc::min, "min"},
                                                   {AggFunc::max, "max"}});
  const std::regex pattern(R"(^\s*([A-Za-z]+)\s*\(\s*([^()\s]+)\s*\)\s*$)");
  std::smatch match;
  EP_CHECK(std::regex_match(text, match, pattern),
           "analyze: bad aggregation '{}': expected FUNC(COLUMN), FUNC one of sum, mean, count, "
           "min, max",
           text);
  const std::optional<AggFunc> func = kFuncs.find(match[1].str());
  EP_CHECK(func.has_value(), "analyze: bad aggregation '{}': unknown function '{}' (expected {})",
           text, match[1].str(), kFuncs.expected());
  const std::string column = match[2].str();
  EP_CHECK(column != "*" || *func == AggFunc::count,
           "analyze: bad aggregation '{}': only count takes *", text);
  return {fmt::format("{}({})", match[1].str(), column), *func, column};
}

unsigned stat_for(AggFunc func) {
  switch (func) {
    case AggFunc::sum:
    case AggFunc::mean:
      return columnar::kStatSum;
    case AggFunc::min:
      return columnar::kStatMin;
    case AggFunc::max:
      return columnar::kStatMax;
    case AggFunc::count:
      return 0;
  }
  return 0;
}

// A data file and its hive partition values (from name=value folders under the root).
struct DataFile {
  fs::path path;
  std::map<std::string, std::string> partitions;
};

std::vector<DataFile> list_files(const fs::path& root) {
  std::error_code ec;
  EP_CHECK(fs::exists(root, ec), "analyze: {}: no such file or directory", root.string());
  if (!fs::is_directory(root, ec)) return {{root, {}}};
  std::vector<DataFile> files;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(".") || name.starts_with("_")) {  // temp files, _SUCCESS, hidden dirs
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || it->path().extension() != ".parquet") continue;
    DataFile file{it->path(), {}};
    for (const auto& part : fs::relative(it->path().parent_path(), root, ec)) {
      const std::string segment = part.string();
      const auto eq = segment.find('=');
      if (eq != std::string::npos && eq > 0)
        file.partitions[segment.substr(0, eq)] = segment.substr(eq + 1);
    }
    files.push_back(std::move(file));
  }
  EP_CHECK(!ec, "analyze: cannot list {}: {}", root.string(), ec.message());
  EP_CHECK(!files.empty(), "analyze: no .parquet files under {}", root.string());
  std::sort(files.begin(), files.end(),
            [](const DataFile& a, const DataFile& b) { return a.path < b.path; });
  return files;
}

std::string column_list(const std::vector<columnar::Field>& schema) {
  std::string names;
  for (const auto& field : schema) names += (names.empty() ? "" : ", ") + field.name;
  return names;
}

struct Plan {
  std::vector<Agg> aggs;
  std::vector<std::string> value_columns;  // distinct, in first-use order
  std::vector<unsigned> stats;             // per value column
};

Plan make_plan(const AnalyzeArgs& args) {
  Plan plan;
  EP_CHECK(!args.aggs.empty(), "analyze: give at least one --agg FUNC(COLUMN)");
  for (const auto& text : args.aggs) {
    Agg agg = parse_agg(text);
    if (agg.func != AggFunc::count) {
      auto it = std::find(plan.value_columns.begin(), plan.value_columns.end(), agg.column);
      if (it == plan.value_columns.end()) {
        plan.value_columns.push_back(agg.column);
        plan.stats.push_back(0);
        it = plan.value_columns.end() - 1;
      }
      plan.stats[static_cast<std::size_t>(it - plan.value_columns.begin())] |= stat_for(agg.func);
    }
    plan.aggs.push_back(std::move(agg));
  }
  return plan;
}

// Checks one file's schema against the plan; returns the columns to read (key first unless it
// comes from the partition path).
std::vector<std::string> columns_to_read(const columnar::ParquetReader& reader,
                                         const DataFile& file, const AnalyzeArgs& args,
                                         const Plan& plan,
                                         const std::vector<std::string>& count_columns) {
  const auto& schema = reader.schema();
  auto field = [&](const std::string& name) -> const columnar::Field* {
    for (const auto& f : schema) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  std::vector<std::string> read;
  if (const auto* key = field(args.groupby)) {
    EP_CHECK(key->type == PhysicalType::int32 || key->type == PhysicalType::int64,
             "analyze: {}: groupby column '{}' is {}; need an integer column", file.path.string(),
             args.groupby, physical_type_name(key->type));
    read.push_back(args.groupby);
  } else {
    EP_CHECK(file.partitions.count(args.groupby), "analyze: {}: unknown column '{}' (columns: {})",
             file.path.string(), args.groupby, column_list(schema));
  }
  for (const auto& name : plan.value_columns) {
    EP_CHECK(
        field(name) != nullptr, "analyze: {}: unknown column '{}'{} (columns: {})",
        file.path.string(), name,
        file.partitions.count(name) ? " (a partition key can only be the --groupby column)" : "",
        column_list(schema));
  }
  for (const auto& name : count_columns) {
    EP_CHECK(field(name) != nullptr || file.partitions.count(name),
             "analyze: {}: unknown column '{}' (columns: {})", file.path.string(), name,
             column_list(schema));
  }
  return read;
}

std::int64_t partition_key(const DataFile& file, const std::string& name) {
  const std::string& text = file.partitions.at(name);
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  EP_CHECK(used == text.size() && !text.empty(), "analyze: {}: partition {}={} is not an integer",
           file.path.string(), name, text);
  return value;
}

// Spans over a row group's value columns; integer columns are widened to double.
std::vector<columnar::ValuesView> value_views(const columnar::Table& table, std::size_t first,
                                              std::vector<std::vector<double>>& widened) {
  std::vector<columnar::ValuesView> views;
  widened.clear();
  widened.reserve(table.columns.size());
  for (std::size_t c = first; c < table.columns.size(); ++c) {
    std::visit(
        [&](const auto& values) {
          using T = typename std::decay_t<decltype(values)>::value_type;
          if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
            views.emplace_back(std::span<const T>(values));
          } else {
            widened.emplace_back(values.begin(), values.end());
            views.emplace_back(std::span<const double>(widened.back()));
          }
        },
        table.columns[c]);
  }
  return views;
}

struct Totals {
  std::size_t files = 0, rows = 0, row_groups = 0;
};

columnar::GroupByResult aggregate(const AnalyzeArgs& args, const Plan& plan, Totals& totals) {
  std::vector<std::string> count_columns;
  for (const auto& agg : plan.aggs) {
    if (agg.func == AggFunc::count && agg.column != "*") count_columns.push_back(agg.column);
  }
  columnar::GroupBy groupby(plan.stats, args.threads);
  std::vector<std::vector<double>> widened;
  for (const auto& file : list_files(args.path)) {
    const columnar::ParquetReader reader(file.path);
    std::vector<std::string> read = columns_to_read(reader, file, args, plan, count_columns);
    const bool key_from_path = read.empty();
    read.insert(read.end(), plan.value_columns.begin(), plan.value_columns.end());
    const std::int64_t constant_key = key_from_path ? partition_key(file, args.groupby) : 0;
    for (std::size_t g = 0; g < reader.num_row_groups(); ++g) {
      const columnar::Table table = reader.read_row_group(g, read);
      const std::size_t rows = table.num_rows();
      const auto views = value_views(table, key_from_path ? 0 : 1, widened);
      if (key_from_path) {
        groupby.add_constant_key(constant_key, rows, views);
      } else if (const auto* k32 = std::get_if<std::vector<std::int32_t>>(&table.columns[0])) {
        groupby.add(std::span<const std::int32_t>(*k32), views);
      } else {
        groupby.add(
            std::span<const std::int64_t>(std::get<std::vector<std::int64_t>>(table.columns[0])),
            views);
      }
      totals.rows += rows;
      ++totals.row_groups;
    }
    ++totals.files;
  }
  return groupby.finish();
}

double agg_value(const columnar::GroupByResult& result, const Plan& plan, const Agg& agg,
                 std::size_t group) {
  if (agg.func == AggFunc::count) return static_cast<double>(result.counts[group]);
  const auto column = static_cast<std::size_t>(
      std::find(plan.value_columns.begin(), plan.value_columns.end(), agg.column) -
      plan.value_columns.begin());
  const auto& stats = result.columns[column];
  switch (agg.func) {
    case AggFunc::sum:
      return stats.sum[group];
    case AggFunc::mean:
      return result.mean(column, group);
    case AggFunc::min:
      return stats.min[group];
    case AggFunc::max:
      return stats.max[group];
    case AggFunc::count:
      break;
  }
  return 0;
}

std::string format_value(const Agg& agg, double value) {
  return agg.func == AggFunc::count ? fmt::format("{}", static_cast<long long>(value))
                                    : fmt::format("{:.6g}", value);
}

void run_analyze(const AnalyzeArgs& args) {
  const Plan plan = make_plan(args);
  Totals totals;
  const bench::Stopwatch stopwatch;
  const columnar::GroupByResult result = aggregate(args, plan, totals);
  const double seconds = stopwatch.elapsed_seconds();

  std::vector<std::size_t> widths = {std::max<std::size_t>(args.groupby.size(), 8)};
  for (const auto& agg : plan.aggs) widths.push_back(std::max<std::size_t>(agg.text.size(), 12));
  std::string header = fmt::format("{:>{}}", args.groupby, widths[0]);
  for (std::size_t a = 0; a < plan.aggs.size(); ++a)
    header += fmt::format("  {:>{}}", plan.aggs[a].text, widths[a + 1]);
  fmt::print("{}\n", header);
  nlohmann::json groups = nlohmann::json::array();
  for (std::size_t g = 0; g < result.num_groups(); ++g) {
    std::string line = fmt::format("{:>{}}", result.keys[g], widths[0]);
    nlohmann::json row = {{args.groupby, result.keys[g]}};
    for (std::size_t a = 0; a < plan.aggs.size(); ++a) {
      const double value = agg_value(result, plan, plan.aggs[a], g);
      line += fmt::format("  {:>{}}", format_value(plan.aggs[a], value), widths[a + 1]);
      if (plan.aggs[a].func == AggFunc::count) {
        row[plan.aggs[a].text] = result.counts[g];
      } else {
        row[plan.aggs[a].text] = value;  // NaN is written as null
      }
    }
    fmt::print("{}\n", line);
    groups.push_back(std::move(row));
  }
  fmt::print("{} groups, {} rows, {} row groups in {} files, {:.1f} ms\n", result.num_groups(),
             totals.rows, totals.row_groups, totals.files, seconds * 1e3);
  if (!args.json_path.empty()) {
    nlohmann::json aggs = nlohmann::json::array();
    for (const auto& agg : plan.aggs) aggs.push_back(agg.text);
    const nlohmann::json report = {{"path", args.path},   {"groupby", args.groupby},
                                   {"aggs", aggs},        {"files", totals.files},
                                   {"rows", totals.rows}, {"row_groups", totals.row_groups},
                                   {"seconds", seconds},  {"groups", groups}};
    write_file_atomic(args.json_path, report.dump(2) + "\n");
  }
}

}  // namespace

void add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  CLI::App* cmd =
      app.add_subcommand("analyze", "Group-by aggregation over Parquet files (hive partitions)");
  cmd->add_option("path", args->path, "Parquet file or directory of chunks")->required();
  cmd->add_option("--groupby", args->groupby, "integer column (or partition key) to group by")
      ->required();
  cmd->add_option("--agg", args->aggs,
                  "FUNC(COLUMN): sum, mean, count, min, max; repeat or comma-separate")
      ->required()
      ->delimiter(',');
  cmd->add_option("--threads", args->threads, "threads (default: all cores)");
  cmd->add_option("--json", args->json_path, "write the result as JSON to this file");
  cmd->callback([args] { run_analyze(*args); });
}

}  // namespace edgeperf::cli
