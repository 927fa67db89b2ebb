#pragma once
// Replays IMU samples from a Parquet file or a directory of chunks (searched
// recursively for *.parquet; temporary files of interrupted writes are skipped).
// Files are visited in order of their first timestamp and each file's rows are
// sorted by ts_ns, so chunks written by `edgeperf log` come back in time order.
// Only one file is held in memory at a time.
#include <cstddef>
#include <filesystem>
#include <vector>

#include "edgeperf/sensors/source.h"

namespace edgeperf::sensors {

class ReplaySource final : public Source {
 public:
  explicit ReplaySource(const std::filesystem::path& path);

  void start(double rate_hz) override {}
  std::optional<ImuSample> read() override;
  bool exhausted() const override;
  bool has_timestamps() const override { return true; }
  std::string describe() const override;

  std::size_t total_rows() const { return total_rows_; }
  const std::vector<std::filesystem::path>& files() const { return files_; }

 private:
  void load_next_file();

  std::filesystem::path root_;
  std::vector<std::filesystem::path> files_;  // in replay order
  std::size_t total_rows_ = 0;
  std::size_t next_file_ = 0;
  std::vector<ImuSample> buffer_;
  std::size_t position_ = 0;
};

// Reads every row of one IMU Parquet file, sorted by ts_ns; throws Error naming
// the file and a missing or mistyped column.
std::vector<ImuSample> read_imu_parquet(const std::filesystem::path& path);

}  // namespace edgeperf::sensors
