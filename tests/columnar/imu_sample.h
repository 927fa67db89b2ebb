#pragma once
// Deterministic IMU-like table (what `edgeperf log` writes): ts_ns, sensor_id
// and 7 float32 channels quantized like a 16-bit MEMS sensor.
#include <cmath>
#include <cstdint>

#include "edgeperf/columnar/parquet.h"

namespace edgeperf::columnar::testing {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline Table imu_sample(std::size_t rows, std::uint64_t seed = 1) {
  static const char* kChannels[] = {"accel_x", "accel_y", "accel_z", "gyro_x",
                                    "gyro_y",  "gyro_z",  "temp_c"};
  Table table;
  table.schema.push_back({"ts_ns", PhysicalType::int64, true});
  table.schema.push_back({"sensor_id", PhysicalType::int32, false});
  for (const char* name : kChannels) table.schema.push_back({name, PhysicalType::float32, false});
  std::vector<std::int64_t> ts(rows);
  std::vector<std::int32_t> sensor(rows);
  std::vector<std::vector<float>> channels(7, std::vector<float>(rows));
  std::uint64_t state = seed;
  const std::int64_t start_ns = 1'763'700'000'000'000'000;
  for (std::size_t i = 0; i < rows; ++i) {
    const std::uint64_t noise = splitmix64(state);
    ts[i] =
        start_ns + static_cast<std::int64_t>(i) * 250'000 + static_cast<std::int64_t>(noise % 997);
    sensor[i] = static_cast<std::int32_t>(i % 4);
    const double phase = static_cast<double>(i) * 0.001;
    for (int c = 0; c < 7; ++c) {
      const int jitter = static_cast<int>((noise >> (8 * c)) & 0x3f) - 32;
      const double signal = c == 6 ? 2400.0 : 8000.0 * std::sin(phase * (c + 1));
      const auto raw = static_cast<std::int16_t>(std::lround(signal) + jitter);
      const float scale = c < 3 ? 1.0f / 16384.0f : (c < 6 ? 1.0f / 131.0f : 1.0f / 100.0f);
      channels[static_cast<std::size_t>(c)][i] = static_cast<float>(raw) * scale;
    }
  }
  table.columns.emplace_back(std::move(ts));
  table.columns.emplace_back(std::move(sensor));
  for (auto& channel : channels) table.columns.emplace_back(std::move(channel));
  return table;
}

}  // namespace edgeperf::columnar::testing
