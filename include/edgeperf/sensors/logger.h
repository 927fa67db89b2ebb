#pragma once
// Crash-safe streaming IMU logger.
//
// An acquisition thread samples the source on an absolute-deadline schedule
// (clock_nanosleep TIMER_ABSTIME on CLOCK_MONOTONIC) and stamps samples with
// CLOCK_REALTIME. A source with a FIFO (max_burst() > 1) is read in bursts, so the
// thread wakes about wake_hz times a second rather than once per sample; each
// sample of a burst is stamped with the instant it was due. It pushes them into a bounded
// single-producer/single-consumer ring. A writer thread drains the ring into chunks and writes each
// chunk as a Parquet file with write_parquet (temporary name, fsync, rename), into hive partitions
// DIR/date=YYYY-MM-DD/part-<first ts_ns>-<seq>.parquet. A slow disk therefore never stalls
// sampling; when the ring is full, samples are dropped and counted. A chunk never spans two UTC
// dates.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/columnar/parquet.h"
#include "edgeperf/sensors/source.h"

namespace edgeperf::sensors {

inline constexpr double kMaxRateHz = 10000.0;

struct LoggerOptions {
  double rate_hz = 20.0;
  std::filesystem::path out_dir;
  std::size_t chunk_rows = 0;  // 0: use chunk_seconds
  double chunk_seconds = 0;    // 0 with chunk_rows 0: 10 seconds of samples
  columnar::Compression compression = columnar::Compression::zstd;
  double duration_seconds = 0;            // 0: until stop is requested or the source ends
  std::optional<std::int32_t> sensor_id;  // overrides the source's id
  // A sample is late when it woke more than this after its deadline; 0 picks a
  // quarter of the period.
  double late_tolerance_us = 0;
  // Wake-ups per second for sources that buffer samples (a FIFO); at most the rate.
  double wake_hz = 100;
  // Ring capacity in seconds of samples (at least 1024 samples).
  double queue_seconds = 10;
};

// Throws Error with a one-line message when an option is out of range.
void validate(const LoggerOptions& options);
// Rows per chunk that the options describe.
std::size_t chunk_rows_for(const LoggerOptions& options);

struct JitterSummary {
  double p50_us = 0, p99_us = 0, max_us = 0;
};

struct ChunkRecord {
  std::string path;  // relative to out_dir
  std::size_t rows = 0;
};

struct LoggerStats {
  std::int64_t started_ns = 0;  // CLOCK_REALTIME at start
  double elapsed_seconds = 0;
  std::uint64_t samples = 0;       // samples taken from the source
  std::uint64_t rows_written = 0;  // samples in chunks on disk
  std::size_t burst = 1;           // samples read per wake-up
  std::uint64_t wakeups = 0;
  std::uint64_t late_samples = 0;     // read in a wake-up later than deadline + tolerance
  std::uint64_t dropped_samples = 0;  // ring full
  std::uint64_t skipped_ticks = 0;    // deadlines abandoned after a stall over 1 s
  std::uint64_t source_misses = 0;    // ticks where the source gave no sample
  JitterSummary jitter;
  SourceCounters source;
  std::vector<ChunkRecord> chunks;
  bool stopped_by_request = false;
  std::string error;  // non-empty when writing failed; names the file
};

// Runs until the duration elapses, `stop` becomes true, the source is exhausted,
// or a chunk cannot be written (stats.error says which file and why; chunks
// already written stay intact). The open chunk is always flushed when possible.
LoggerStats run_logger(Source& source, const LoggerOptions& options, const std::atomic<bool>& stop);

// Sidecar JSON with options and counters, written atomically.
std::string logger_stats_json(const LoggerStats& stats, const LoggerOptions& options,
                              const std::string& source_spec, const std::string& status);
std::filesystem::path sidecar_path(const LoggerOptions& options, std::int64_t started_ns);

// The fixed IMU log schema: ts_ns (int64 timestamp_ns), sensor_id (int32),
// accel_x/y/z, gyro_x/y/z, temp_c (float32).
std::vector<columnar::Field> imu_schema();

}  // namespace edgeperf::sensors
