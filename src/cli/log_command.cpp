// edgeperf log: stream IMU samples from a source into chunked Parquet files.
//
// Signals: SIGINT and SIGTERM are blocked in every thread of the command and
// collected by a sigwaitinfo thread that sets a stop flag owned by the command,
// so there is no global state and no async-signal-safety concern. SIGXFSZ is
// ignored while logging, so exceeding `ulimit -f` surfaces as EFBIG from write(2)
// and is reported like a full disk instead of killing the process.
#include <fmt/format.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "edgeperf/cli/commands.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/sensors/logger.h"
#include "edgeperf/sensors/source.h"
#include "stop_on_signals.h"

namespace edgeperf::cli {
namespace {

namespace fs = std::filesystem;
using sensors::LoggerOptions;
using sensors::LoggerStats;

struct LogArgs {
  std::string source = "sim";
  double rate_hz = 20;
  std::string out;
  std::optional<long long> chunk_rows;
  std::optional<double> chunk_seconds;
  std::string compression = "zstd";
  double duration_seconds = 0;
  std::optional<std::int32_t> sensor_id;
  double wake_hz = 100;
};

LoggerOptions to_logger_options(const LogArgs& args) {
  LoggerOptions options;
  options.rate_hz = args.rate_hz;
  options.out_dir = args.out;
  if (args.chunk_rows) {
    EP_CHECK(*args.chunk_rows >= 1, "--chunk-rows must be at least 1, got {}", *args.chunk_rows);
    options.chunk_rows = static_cast<std::size_t>(*args.chunk_rows);
  }
  if (args.chunk_seconds) {
    EP_CHECK(*args.chunk_seconds > 0, "--chunk-secs must be positive, got {}", *args.chunk_seconds);
    options.chunk_seconds = *args.chunk_seconds;
  }
  options.compression = columnar::parse_compression(args.compression);
  options.duration_seconds = args.duration_seconds;
  options.sensor_id = args.sensor_id;
  options.wake_hz = args.wake_hz;
  sensors::validate(options);
  return options;
}

void prepare_out_dir(const fs::path& out) {
  std::error_code error;
  fs::create_directories(out, error);
  EP_CHECK(!error, "--out {}: cannot create directory: {}", out.string(), error.message());
  EP_CHECK(fs::is_directory(out, error), "--out {}: not a directory", out.string());
}

void print_summary(const LoggerStats& stats, const std::string& sidecar) {
  fmt::print("samples {}  written {}  late {}  dropped {}  skipped {}  source misses {}\n",
             stats.samples, stats.rows_written, stats.late_samples, stats.dropped_samples,
             stats.skipped_ticks, stats.source_misses);
  fmt::print(
      "{} wake-ups, {} samples each; wake-up jitter p50 {:.1f} us  p99 {:.1f} us  max {:.1f} us\n",
      stats.wakeups, stats.burst, stats.jitter.p50_us, stats.jitter.p99_us, stats.jitter.max_us);
  fmt::print(
      "i2c retries {}  errors {}  failed reads {}  fifo overflows {} ({} samples discarded)\n",
      stats.source.i2c_retries, stats.source.i2c_errors, stats.source.failed_reads,
      stats.source.fifo_overflows, stats.source.fifo_discarded_samples);
  fmt::print("{} chunks in {:.2f} s; counters in {}\n", stats.chunks.size(), stats.elapsed_seconds,
             sidecar);
}

void run_log(const LogArgs& args) {
  const LoggerOptions options = to_logger_options(args);
  std::unique_ptr<sensors::Source> source = sensors::open_source(args.source);
  prepare_out_dir(options.out_dir);

  std::atomic<bool> stop{false};
  LoggerStats stats;
  {
    StopOnSignals stop_on_signals(stop, SIGXFSZ);
    LoggerStats starting;
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    starting.started_ns = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
    // Proves --out is writable before sampling starts.
    write_file_atomic(sensors::sidecar_path(options, starting.started_ns),
                      sensors::logger_stats_json(starting, options, args.source, "running"));
    stats = sensors::run_logger(*source, options, stop);
    stats.started_ns = starting.started_ns;  // the sidecar keeps the name chosen at start
  }
  const fs::path sidecar = sensors::sidecar_path(options, stats.started_ns);
  const std::string status = stats.error.empty() ? "complete" : "failed";
  try {
    write_file_atomic(sidecar, sensors::logger_stats_json(stats, options, args.source, status));
  } catch (const Error& error) {
    fmt::print(stderr, "edgeperf: warning: {}\n", error.what());
  }
  print_summary(stats, sidecar.string());
  if (!stats.error.empty()) fail("{}", stats.error);
}

}  // namespace

void add_log_command(CLI::App& app) {
  auto args = std::make_shared<LogArgs>();
  CLI::App* command =
      app.add_subcommand("log", "Log IMU samples into chunked, crash-safe Parquet files");
  command
      ->add_option("--source", args->source,
                   "sim[:seed[:still=S,moving=S,shaking=S,...]] | "
                   "mpu6050:/dev/i2c-N[@0x68][:accel=G,gyro=DPS,fifo|nofifo] | replay:PATH")
      ->capture_default_str();
  command->add_option("--rate", args->rate_hz, "samples per second, up to 10000")
      ->capture_default_str();
  command->add_option("--out", args->out, "output directory (hive partitions date=YYYY-MM-DD)")
      ->required();
  command->add_option("--chunk-rows", args->chunk_rows, "rows per Parquet file");
  command->add_option("--chunk-secs", args->chunk_seconds,
                      "seconds of samples per Parquet file (default 10)");
  command->add_option("--compression", args->compression, "zstd | snappy | none")
      ->capture_default_str();
  command
      ->add_option("--duration", args->duration_seconds,
                   "seconds to log; 0 logs until SIGINT/SIGTERM or the source ends")
      ->capture_default_str();
  command->add_option("--sensor-id", args->sensor_id, "sensor_id written with every sample");
  command->add_option("--wake-hz", args->wake_hz,
                      "wake-ups per second for sources with a FIFO (sim, mpu6050), read in bursts");
  command->callback([args] { run_log(*args); });
}

}  // namespace edgeperf::cli
