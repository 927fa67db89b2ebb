#include "edgeperf/sensors/logger.h"

#include <fmt/format.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"

namespace edgeperf::sensors {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxChunkRows = 10'000'000;
constexpr double kMaxChunkSeconds = 86400;
constexpr double kDefaultChunkSeconds = 10;
constexpr std::int64_t kNsPerDay = 86'400'000'000'000;
constexpr std::int64_t kStallLimitNs = 1'000'000'000;         // beyond this, skip missed deadlines
constexpr std::int64_t kStopPollNs = 100'000'000;             // longest sleep between stop checks
constexpr auto kWriterIdle = std::chrono::milliseconds(100);  // ring holds seconds

std::int64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until_monotonic(std::int64_t deadline_ns) {
  timespec ts{};
  ts.tv_sec = deadline_ns / 1'000'000'000;
  ts.tv_nsec = deadline_ns % 1'000'000'000;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

std::string utc_date(std::int64_t ts_ns) {
  using namespace std::chrono;
  const year_month_day date{sys_days{days{floor_div(ts_ns, kNsPerDay)}}};
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
}

// Single producer (acquisition) / single consumer (writer) ring of samples.
class SampleRing {
 public:
  explicit SampleRing(std::size_t capacity) : slots_(capacity) {}
  bool push(const ImuSample& sample) {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_.load(std::memory_order_acquire) == slots_.size()) return false;
    slots_[head % slots_.size()] = sample;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  bool pop(ImuSample& sample) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_.load(std::memory_order_acquire)) return false;
    sample = slots_[tail % slots_.size()];
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

 private:
  std::vector<ImuSample> slots_;
  std::atomic<std::size_t> head_{0};
  std::atomic<std::size_t> tail_{0};
};

// Lateness histogram: 1 us buckets below 10 ms, 1 ms buckets up to 10 s, then one overflow.
class JitterHistogram {
 public:
  void add(std::int64_t lateness_ns) {
    const double us = static_cast<double>(std::max<std::int64_t>(lateness_ns, 0)) / 1000.0;
    max_us_ = std::max(max_us_, us);
    ++buckets_[bucket_of(us)];
    ++count_;
  }
  JitterSummary summary() const { return {percentile(0.50), percentile(0.99), max_us_}; }

 private:
  static constexpr std::size_t kFine = 10'000, kCoarse = 10'000;
  static std::size_t bucket_of(double us) {
    if (us < kFine) return static_cast<std::size_t>(us);
    return std::min(kFine + static_cast<std::size_t>((us - kFine) / 1000.0), kFine + kCoarse);
  }
  static double lower_bound_us(std::size_t bucket) {
    return bucket < kFine ? static_cast<double>(bucket)
                          : kFine + static_cast<double>(bucket - kFine) * 1000.0;
  }
  double percentile(double fraction) const {
    if (count_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(fraction * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t bucket = 0; bucket < buckets_.size(); ++bucket) {
      seen += buckets_[bucket];
      if (seen >= std::max<std::uint64_t>(rank, 1))
        return std::min(lower_bound_us(bucket), max_us_);
    }
    return max_us_;
  }
  std::vector<std::uint32_t> buckets_ = std::vector<std::uint32_t>(kFine + kCoarse + 1);
  std::uint64_t count_ = 0;
  double max_us_ = 0;
};

struct ChunkColumns {
  std::vector<std::int64_t> ts_ns;
  std::vector<std::int32_t> sensor_id;
  std::array<std::vector<float>, 7> values;  // accel xyz, gyro xyz, temp

  void reserve(std::size_t rows) {
    ts_ns.reserve(rows);
    sensor_id.reserve(rows);
    for (auto& column : values) column.reserve(rows);
  }
  std::size_t size() const { return ts_ns.size(); }
  void append(const ImuSample& s) {
    ts_ns.push_back(s.ts_ns);
    sensor_id.push_back(s.sensor_id);
    const std::array<float, 7> row = {s.accel_x, s.accel_y, s.accel_z, s.gyro_x,
                                      s.gyro_y,  s.gyro_z,  s.temp_c};
    for (std::size_t i = 0; i < row.size(); ++i) values[i].push_back(row[i]);
  }
  // Moves the columns into a table and back, so their capacity is reused.
  columnar::Table take_table() {
    columnar::Table table;
    table.schema = imu_schema();
    table.columns.emplace_back(std::move(ts_ns));
    table.columns.emplace_back(std::move(sensor_id));
    for (auto& column : values) table.columns.emplace_back(std::move(column));
    return table;
  }
  void restore_from(columnar::Table& table) {
    ts_ns = std::move(std::get<std::vector<std::int64_t>>(table.columns[0]));
    sensor_id = std::move(std::get<std::vector<std::int32_t>>(table.columns[1]));
    for (std::size_t i = 0; i < values.size(); ++i) {
      values[i] = std::move(std::get<std::vector<float>>(table.columns[i + 2]));
    }
    ts_ns.clear();
    sensor_id.clear();
    for (auto& column : values) column.clear();
  }
};

class ChunkWriter {
 public:
  ChunkWriter(const LoggerOptions& options, LoggerStats& stats)
      : options_(options), stats_(stats), rows_per_chunk_(chunk_rows_for(options)) {
    columns_.reserve(rows_per_chunk_);
  }

  // Adds one sample, writing the chunk first when the sample starts a new UTC day.
  void add(const ImuSample& sample) {
    const std::int64_t day = floor_div(sample.ts_ns, kNsPerDay);
    if (columns_.size() > 0 && day != chunk_day_) flush();
    if (columns_.size() == 0) chunk_day_ = day;
    columns_.append(sample);
    if (columns_.size() >= rows_per_chunk_) flush();
  }

  void flush() {
    if (columns_.size() == 0) return;
    const std::int64_t first_ts = columns_.ts_ns.front();
    const fs::path relative = fs::path("date=" + utc_date(first_ts)) /
                              fmt::format("part-{}-{:06d}.parquet", first_ts, sequence_++);
    const fs::path path = options_.out_dir / relative;
    std::error_code error;
    fs::create_directories(path.parent_path(), error);
    EP_CHECK(!error, "{}: cannot create directory: {}", path.parent_path().string(),
             error.message());
    columnar::WriteOptions write_options;
    write_options.compression = options_.compression;
    columnar::Table table = columns_.take_table();
    const std::size_t rows = table.num_rows();
    try {
      columnar::write_parquet(path, table, write_options);
    } catch (...) {
      columns_.restore_from(table);
      throw;
    }
    columns_.restore_from(table);
    stats_.chunks.push_back({relative.string(), rows});
    stats_.rows_written += rows;
  }

 private:
  const LoggerOptions& options_;
  LoggerStats& stats_;
  std::size_t rows_per_chunk_;
  ChunkColumns columns_;
  std::int64_t chunk_day_ = 0;
  std::uint64_t sequence_ = 0;
};

struct SharedState {
  SampleRing ring;
  std::atomic<bool> acquisition_done{false};
  std::atomic<bool> writer_failed{false};
};

// Absolute deadlines on CLOCK_MONOTONIC, one period apart.
class DeadlineSchedule {
 public:
  struct Tick {
    std::int64_t lateness_ns = 0;
    std::uint64_t skipped = 0;  // deadlines abandoned after a stall
  };

  explicit DeadlineSchedule(std::int64_t period_ns)
      : period_ns_(period_ns), deadline_(now_ns(CLOCK_MONOTONIC)) {}

  // Sleeps until the deadline, or for at most kStopPollNs when it is further away so
  // the caller can check for stop; true when the deadline has been reached.
  bool sleep_toward_deadline() const {
    const std::int64_t now = now_ns(CLOCK_MONOTONIC);
    if (deadline_ - now > kStopPollNs) {
      sleep_until_monotonic(now + kStopPollNs);
      return false;
    }
    sleep_until_monotonic(deadline_);
    return true;
  }

  std::int64_t deadline() const { return deadline_; }

  // Called on waking at the deadline: how late we are; moves to the next deadline.
  // After a stall longer than kStallLimitNs the missed deadlines are skipped rather
  // than sampled in a burst.
  Tick take() {
    Tick tick;
    tick.lateness_ns = now_ns(CLOCK_MONOTONIC) - deadline_;
    if (tick.lateness_ns > kStallLimitNs) {
      const std::int64_t missed = tick.lateness_ns / period_ns_;
      tick.skipped = static_cast<std::uint64_t>(missed);
      deadline_ += missed * period_ns_;
      tick.lateness_ns -= missed * period_ns_;
    }
    deadline_ += period_ns_;
    return tick;
  }

 private:
  std::int64_t period_ns_;
  std::int64_t deadline_;
};

// Stamps a sample and hands it to the writer; counts it as dropped when the ring is full.
void deliver(ImuSample sample, std::int64_t wall_ns, const Source& source,
             const LoggerOptions& options, SharedState& shared, LoggerStats& stats) {
  if (!source.has_timestamps()) sample.ts_ns = wall_ns;
  if (options.sensor_id) sample.sensor_id = *options.sensor_id;
  ++stats.samples;
  if (!shared.ring.push(sample)) ++stats.dropped_samples;
}

// Samples read per wake-up: enough to wake about wake_hz times a second, never more
// than the source buffers.
std::size_t burst_size(const Source& source, const LoggerOptions& options) {
  const double wanted = std::ceil(options.rate_hz / std::max(options.wake_hz, 1e-9));
  return std::clamp<std::size_t>(static_cast<std::size_t>(std::max(wanted, 1.0)), 1,
                                 std::max<std::size_t>(source.max_burst(), 1));
}

// Reads up to `count` samples due at deadline_mono - (count-1-i) * period and
// stamps each with the wall-clock instant it was due. False when the source ended.
bool read_burst(Source& source, std::size_t count, std::int64_t deadline_mono,
                std::int64_t period_ns, const LoggerOptions& options, SharedState& shared,
                LoggerStats& stats) {
  const std::int64_t wall_now = now_ns(CLOCK_REALTIME);
  const std::int64_t mono_now = now_ns(CLOCK_MONOTONIC);
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t due_mono =
        deadline_mono - static_cast<std::int64_t>(count - 1 - i) * period_ns;
    if (std::optional<ImuSample> sample = source.read()) {
      deliver(*sample, wall_now - (mono_now - due_mono), source, options, shared, stats);
    } else if (source.exhausted()) {
      return false;
    } else {
      ++stats.source_misses;
    }
  }
  return true;
}

// The last burst is cut short so exactly duration * rate samples are taken.
std::size_t samples_this_wake(std::size_t burst, std::uint64_t ticks, std::uint64_t limit) {
  if (limit == 0) return burst;
  const std::uint64_t left = limit - std::min(ticks, limit);
  return static_cast<std::size_t>(std::min<std::uint64_t>(burst, left));
}

void acquire(Source& source, const LoggerOptions& options, const std::atomic<bool>& stop,
             SharedState& shared, LoggerStats& stats) {
  const auto period_ns = static_cast<std::int64_t>(std::llround(1e9 / options.rate_hz));
  const std::size_t burst = burst_size(source, options);
  const std::int64_t wake_period_ns = period_ns * static_cast<std::int64_t>(burst);
  const auto tolerance_ns = static_cast<std::int64_t>(
      options.late_tolerance_us > 0 ? options.late_tolerance_us * 1000.0 : wake_period_ns / 4.0);
  const std::uint64_t sample_limit =
      options.duration_seconds > 0
          ? static_cast<std::uint64_t>(std::llround(options.duration_seconds * options.rate_hz))
          : 0;
  // The default 50 us timer slack would show up as jitter on every wake-up (this
  // thread only).
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  stats.burst = burst;
  JitterHistogram jitter;
  // The first deadline is one burst after start: the FIFO fills before it is read.
  DeadlineSchedule schedule(wake_period_ns);
  schedule.take();
  std::uint64_t ticks = 0;  // sample periods consumed, read or skipped
  while (sample_limit == 0 || ticks < sample_limit) {
    if (stop.load() || shared.writer_failed.load()) {
      stats.stopped_by_request = stop.load();
      break;
    }
    if (!schedule.sleep_toward_deadline()) continue;
    const std::int64_t deadline = schedule.deadline();
    const DeadlineSchedule::Tick tick = schedule.take();
    stats.skipped_ticks += tick.skipped * burst;
    ticks += tick.skipped * burst;
    ++stats.wakeups;
    jitter.add(tick.lateness_ns);
    const std::size_t count = samples_this_wake(burst, ticks, sample_limit);
    if (tick.lateness_ns > tolerance_ns) stats.late_samples += count;
    ticks += count;
    const std::int64_t skipped_ns = static_cast<std::int64_t>(tick.skipped) * wake_period_ns;
    if (!read_burst(source, count, deadline + skipped_ns, period_ns, options, shared, stats)) {
      break;
    }
  }
  stats.jitter = jitter.summary();
  shared.acquisition_done.store(true);
}

void write_chunks(const LoggerOptions& options, SharedState& shared, LoggerStats& stats) {
  ChunkWriter writer(options, stats);
  try {
    for (;;) {
      const bool done = shared.acquisition_done.load();  // read before draining
      ImuSample sample;
      bool drained_any = false;
      while (shared.ring.pop(sample)) {
        writer.add(sample);
        drained_any = true;
      }
      if (done) break;
      if (!drained_any) std::this_thread::sleep_for(kWriterIdle);
    }
    writer.flush();
  } catch (const Error& error) {
    stats.error = error.what();
    shared.writer_failed.store(true);
  } catch (const std::bad_alloc&) {
    stats.error = "out of memory while writing a chunk";
    shared.writer_failed.store(true);
  }
}

}  // namespace

std::vector<columnar::Field> imu_schema() {
  using columnar::PhysicalType;
  std::vector<columnar::Field> schema = {{"ts_ns", PhysicalType::int64, true},
                                         {"sensor_id", PhysicalType::int32, false}};
  for (const char* name :
       {"accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z", "temp_c"}) {
    schema.push_back({name, PhysicalType::float32, false});
  }
  return schema;
}

void validate(const LoggerOptions& options) {
  EP_CHECK(std::isfinite(options.rate_hz) && options.rate_hz > 0 && options.rate_hz <= kMaxRateHz,
           "--rate must be in (0, {}] Hz, got {}", kMaxRateHz, options.rate_hz);
  EP_CHECK(options.chunk_rows == 0 || options.chunk_seconds == 0,
           "give either --chunk-rows or --chunk-secs, not both");
  EP_CHECK(options.chunk_rows <= kMaxChunkRows, "--chunk-rows must be in [1, {}], got {}",
           kMaxChunkRows, options.chunk_rows);
  EP_CHECK(std::isfinite(options.chunk_seconds) && options.chunk_seconds >= 0 &&
               options.chunk_seconds <= kMaxChunkSeconds,
           "--chunk-secs must be in (0, {}], got {}", kMaxChunkSeconds, options.chunk_seconds);
  const double rows =
      options.chunk_rows > 0 ? static_cast<double>(options.chunk_rows) : chunk_rows_for(options);
  EP_CHECK(rows >= 1 && rows <= kMaxChunkRows,
           "chunk of {} rows at {} Hz is outside [1, {}] rows; use a smaller --chunk-secs", rows,
           options.rate_hz, kMaxChunkRows);
  EP_CHECK(std::isfinite(options.wake_hz) && options.wake_hz > 0,
           "--wake-hz must be a positive number, got {}", options.wake_hz);
  EP_CHECK(std::isfinite(options.duration_seconds) && options.duration_seconds >= 0,
           "--duration must be a non-negative number of seconds, got {}", options.duration_seconds);
  EP_CHECK(!options.out_dir.empty(), "--out is required");
}

std::size_t chunk_rows_for(const LoggerOptions& options) {
  if (options.chunk_rows > 0) return options.chunk_rows;
  const double seconds = options.chunk_seconds > 0 ? options.chunk_seconds : kDefaultChunkSeconds;
  const double rows = std::ceil(seconds * options.rate_hz);
  return static_cast<std::size_t>(std::clamp(rows, 1.0, static_cast<double>(kMaxChunkRows) + 1));
}

std::filesystem::path sidecar_path(const LoggerOptions& options, std::int64_t started_ns) {
  return options.out_dir / fmt::format("log-{}.json", started_ns);
}

std::string logger_stats_json(const LoggerStats& stats, const LoggerOptions& options,
                              const std::string& source_spec, const std::string& status) {
  nlohmann::json chunks = nlohmann::json::array();
  for (const ChunkRecord& chunk : stats.chunks) {
    chunks.push_back({{"path", chunk.path}, {"rows", chunk.rows}});
  }
  nlohmann::json json = {
      {"status", status},
      {"source", source_spec},
      {"rate_hz", options.rate_hz},
      {"chunk_rows", chunk_rows_for(options)},
      {"started_ns", stats.started_ns},
      {"elapsed_s", stats.elapsed_seconds},
      {"samples", stats.samples},
      {"rows_written", stats.rows_written},
      {"burst", stats.burst},
      {"wakeups", stats.wakeups},
      {"late_samples", stats.late_samples},
      {"dropped_samples", stats.dropped_samples},
      {"skipped_ticks", stats.skipped_ticks},
      {"source_misses", stats.source_misses},
      {"jitter_us",
       {{"p50", stats.jitter.p50_us}, {"p99", stats.jitter.p99_us}, {"max", stats.jitter.max_us}}},
      {"i2c",
       {{"retries", stats.source.i2c_retries},
        {"errors", stats.source.i2c_errors},
        {"failed_reads", stats.source.failed_reads},
        {"fifo_overflows", stats.source.fifo_overflows},
        {"fifo_discarded_samples", stats.source.fifo_discarded_samples}}},
      {"chunks", chunks},
  };
  if (!stats.error.empty()) json["error"] = stats.error;
  return json.dump(2) + "\n";
}

LoggerStats run_logger(Source& source, const LoggerOptions& options,
                       const std::atomic<bool>& stop) {
  validate(options);
  LoggerStats stats;
  stats.started_ns = now_ns(CLOCK_REALTIME);
  const std::int64_t started_mono = now_ns(CLOCK_MONOTONIC);
  source.start(options.rate_hz);
  const auto capacity = static_cast<std::size_t>(
      std::max(1024.0, std::ceil(options.rate_hz * std::max(options.queue_seconds, 0.0))));
  SharedState shared{SampleRing(capacity)};
  LoggerStats writer_stats;  // the writer's fields, merged after both threads end
  std::thread writer([&] { write_chunks(options, shared, writer_stats); });
  std::thread acquisition([&] {
    try {
      acquire(source, options, stop, shared, stats);
    } catch (const std::exception& error) {  // a source that fails mid-run (bad replay file)
      stats.error = error.what();
      shared.acquisition_done.store(true);
    }
  });
  acquisition.join();
  writer.join();
  stats.chunks = std::move(writer_stats.chunks);
  stats.rows_written = writer_stats.rows_written;
  if (stats.error.empty()) stats.error = std::move(writer_stats.error);
  stats.source = source.counters();
  stats.elapsed_seconds = static_cast<double>(now_ns(CLOCK_MONOTONIC) - started_mono) / 1e9;
  return stats;
}

}  // namespace edgeperf::sensors
