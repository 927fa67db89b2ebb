// Test helper for the e2e logger tests: reads every finished chunk under the
// given directories back through ParquetReader and prints a JSON summary.
// Exits 1 with a one-line error when any finished file cannot be read.
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "edgeperf/core/error.h"
#include "edgeperf/sensors/replay_source.h"

namespace fs = std::filesystem;
using edgeperf::sensors::ImuSample;

namespace {

nlohmann::json summarize(const fs::path& root) {
  nlohmann::json files = nlohmann::json::array();
  nlohmann::json temporaries = nlohmann::json::array();
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name.find(".tmp-") != std::string::npos) {
      temporaries.push_back(fs::relative(entry.path(), root).string());
    } else if (entry.path().extension() == ".parquet") {
      const auto rows = edgeperf::sensors::read_imu_parquet(entry.path());
      files.push_back({{"path", fs::relative(entry.path(), root).string()}, {"rows", rows.size()}});
    }
  }
  std::size_t rows = 0;
  bool ordered = true;
  std::int64_t first_ts = 0, last_ts = 0;
  std::set<std::int32_t> sensor_ids;
  if (!files.empty()) {
    edgeperf::sensors::ReplaySource replay(root);
    while (auto sample = replay.read()) {
      if (rows == 0) first_ts = sample->ts_ns;
      ordered = ordered && (rows == 0 || sample->ts_ns > last_ts);
      last_ts = sample->ts_ns;
      sensor_ids.insert(sample->sensor_id);
      ++rows;
    }
  }
  return {{"files", files},          {"temporaries", temporaries}, {"rows", rows},
          {"ordered", ordered},      {"first_ts", first_ts},       {"last_ts", last_ts},
          {"sensor_ids", sensor_ids}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: sensors_readback DIR\n");
    return 2;
  }
  try {
    fmt::print("{}\n", summarize(argv[1]).dump());
  } catch (const std::exception& error) {
    fmt::print(stderr, "error: {}\n", error.what());
    return 1;
  }
  return 0;
}
