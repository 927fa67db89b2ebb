// Student view: the newest rows of a directory of IMU Parquet chunks.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/error.h"
#include "edgeperf/web/dashboard.h"

namespace edgeperf::web {
namespace {

namespace fs = std::filesystem;

// Final chunk names, oldest first: part-<first ts_ns>-<seq>.parquet sorts by time
// inside a date= partition, and partitions sort by date.
std::vector<fs::path> list_chunks(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    if (name.find(".tmp-") != std::string::npos) continue;  // writes in progress
    if (path.extension() != ".parquet" || !it->is_regular_file(error)) continue;
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct Rows {
  std::vector<std::int64_t> ts_ns;
  std::vector<double> values;
};

Rows read_rows(const fs::path& file, const std::string& axis) {
  columnar::ParquetReader reader(file);
  columnar::Table table = reader.read_all({"ts_ns", axis});
  const auto* ts = std::get_if<std::vector<std::int64_t>>(&table.columns[0]);
  EP_CHECK(ts != nullptr, "{}: column ts_ns is not int64", file.string());
  Rows rows;
  rows.ts_ns = *ts;
  std::visit([&rows](const auto& column) { rows.values.assign(column.begin(), column.end()); },
             table.columns[1]);
  return rows;
}

}  // namespace

ChunkWatcher::Series ChunkWatcher::read_recent(const std::string& axis, double seconds) {
  EP_CHECK(is_imu_axis(axis), "unknown axis '{}'", axis);
  const std::vector<fs::path> files = list_chunks(dir_);
  Series series;
  std::vector<Rows> newest_first;
  std::int64_t newest_ts = 0;
  const auto window_ns = static_cast<std::int64_t>(seconds * 1e9);
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    Rows rows;
    try {
      rows = read_rows(*it, axis);
    } catch (const std::exception& error) {
      ++series.files_skipped;
      std::lock_guard lock(mutex_);
      if (std::find(warned_.begin(), warned_.end(), it->string()) == warned_.end()) {
        warned_.push_back(it->string());
        // Reader errors already name the file.
        fmt::print(stderr, "edgeperf: warning: skipping malformed chunk: {}\n", error.what());
        std::fflush(stderr);
      }
      continue;
    }
    ++series.files_read;
    if (rows.ts_ns.empty()) continue;
    newest_ts = std::max(newest_ts, *std::max_element(rows.ts_ns.begin(), rows.ts_ns.end()));
    const std::int64_t oldest_in_file = *std::min_element(rows.ts_ns.begin(), rows.ts_ns.end());
    newest_first.push_back(std::move(rows));
    if (oldest_in_file <= newest_ts - window_ns) break;
  }
  // Time order even when files overlap (two loggers, a replayed directory).
  std::vector<std::pair<std::int64_t, double>> rows;
  for (const Rows& file : newest_first) {
    for (std::size_t i = 0; i < file.ts_ns.size(); ++i) {
      if (file.ts_ns[i] >= newest_ts - window_ns) rows.emplace_back(file.ts_ns[i], file.values[i]);
    }
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [ts, value] : rows) {
    series.ts_ns.push_back(ts);
    series.values.push_back(value);
  }
  return series;
}

}  // namespace edgeperf::web
