#include "edgeperf/sensors/replay_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/error.h"

namespace edgeperf::sensors {
namespace {

namespace fs = std::filesystem;

template <typename T>
const std::vector<T>& column_as(const columnar::Table& table, const std::string& name,
                                const fs::path& path, const char* type_name) {
  const auto* values = std::get_if<std::vector<T>>(&table.columns[table.column_index(name)]);
  EP_CHECK(values != nullptr, "{}: column {} is not {}", path.string(), name, type_name);
  return *values;
}

bool is_chunk_file(const fs::path& path) {
  const std::string name = path.filename().string();
  // write_parquet's temporaries end in ".tmp-..."; only finished files end in .parquet.
  return path.extension() == ".parquet" && name.find(".tmp-") == std::string::npos;
}

std::int64_t first_timestamp(const fs::path& path) {
  const columnar::ParquetReader reader(path);
  const columnar::Table table = reader.read_all({"ts_ns"});
  const auto& ts = column_as<std::int64_t>(table, "ts_ns", path, "int64");
  return ts.empty() ? std::numeric_limits<std::int64_t>::max()
                    : *std::min_element(ts.begin(), ts.end());
}

}  // namespace

std::vector<ImuSample> read_imu_parquet(const fs::path& path) {
  return with_error_context(path.string(), [&] {
    const columnar::ParquetReader reader(path);
    const columnar::Table table =
        reader.read_all({"ts_ns", "sensor_id", "accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y",
                         "gyro_z", "temp_c"});
    const auto& ts = column_as<std::int64_t>(table, "ts_ns", path, "int64");
    const auto& id = column_as<std::int32_t>(table, "sensor_id", path, "int32");
    const auto& ax = column_as<float>(table, "accel_x", path, "float32");
    const auto& ay = column_as<float>(table, "accel_y", path, "float32");
    const auto& az = column_as<float>(table, "accel_z", path, "float32");
    const auto& gx = column_as<float>(table, "gyro_x", path, "float32");
    const auto& gy = column_as<float>(table, "gyro_y", path, "float32");
    const auto& gz = column_as<float>(table, "gyro_z", path, "float32");
    const auto& temp = column_as<float>(table, "temp_c", path, "float32");
    std::vector<ImuSample> samples(ts.size());
    for (std::size_t row = 0; row < ts.size(); ++row) {
      samples[row] = {ts[row], id[row], ax[row], ay[row],  az[row],
                      gx[row], gy[row], gz[row], temp[row]};
    }
    std::stable_sort(samples.begin(), samples.end(),
                     [](const ImuSample& a, const ImuSample& b) { return a.ts_ns < b.ts_ns; });
    return samples;
  });
}

ReplaySource::ReplaySource(const fs::path& path) : root_(path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    std::vector<std::pair<std::int64_t, fs::path>> ordered;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      if (entry.is_regular_file() && is_chunk_file(entry.path())) {
        ordered.emplace_back(0, entry.path());
      }
    }
    EP_CHECK(!ordered.empty(), "replay: {}: no .parquet files found", path.string());
    for (auto& [first_ts, file] : ordered) {
      first_ts = with_error_context("replay", [&] { return first_timestamp(file); });
    }
    std::sort(ordered.begin(), ordered.end());
    for (auto& [first_ts, file] : ordered) files_.push_back(std::move(file));
  } else {
    EP_CHECK(fs::is_regular_file(path, error), "replay: {}: no such file or directory",
             path.string());
    files_.push_back(path);
  }
  for (const fs::path& file : files_) {
    total_rows_ +=
        with_error_context("replay", [&] { return columnar::ParquetReader(file).num_rows(); });
  }
}

void ReplaySource::load_next_file() {
  while (position_ >= buffer_.size() && next_file_ < files_.size()) {
    buffer_ = with_error_context("replay", [&] { return read_imu_parquet(files_[next_file_]); });
    position_ = 0;
    ++next_file_;
  }
}

std::optional<ImuSample> ReplaySource::read() {
  load_next_file();
  if (position_ >= buffer_.size()) return std::nullopt;
  return buffer_[position_++];
}

bool ReplaySource::exhausted() const {
  return position_ >= buffer_.size() && next_file_ >= files_.size();
}

std::string ReplaySource::describe() const {
  return fmt::format("replay {} ({} files, {} rows)", root_.string(), files_.size(), total_rows_);
}

}  // namespace edgeperf::sensors
