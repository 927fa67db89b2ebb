// edgeperf dashboard: live IMU dashboard (pro, student and reports views) over HTTP.
//
// SIGINT/SIGTERM are blocked in every thread and collected by a sigwaitinfo thread
// that sets a stop flag owned by the command; the server then stops its workers
// and acquisition thread and the command returns 0. SIGPIPE is ignored so a client
// that disconnects mid-write shows up as a failed write, not a killed process.
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <memory>
#include <thread>

#include "edgeperf/cli/commands.h"
#include "stop_on_signals.h"
#include "edgeperf/web/dashboard.h"

namespace edgeperf::cli {
namespace {

void run_dashboard_command(const web::DashboardOptions& options) {
  std::atomic<bool> stop{false};
  StopOnSignals stop_on_signals(stop, SIGPIPE);
  web::run_dashboard(options, stop);
}

}  // namespace

void add_dashboard_command(CLI::App& app) {
  auto options = std::make_shared<web::DashboardOptions>();
  CLI::App* command = app.add_subcommand(
      "dashboard", "Serve a live IMU dashboard (pro, student and benchmark-report views)");
  command
      ->add_option("--source", options->source,
                   "sim[:seed[:script]] | mpu6050:... | replay:PATH | parquet:DIR (student view "
                   "of a directory that `edgeperf log` fills)")
      ->capture_default_str();
  command->add_option("--port", options->port, "TCP port (0 picks a free one)")
      ->capture_default_str();
  command
      ->add_option("--bind", options->bind,
                   "address to listen on; a non-loopback address prints a warning")
      ->capture_default_str();
  command->add_option("--rate", options->rate_hz, "acquisition rate in Hz, up to 1000")
      ->capture_default_str();
  command->add_option("--reports", options->reports_dir,
                      "directory of edgeperf.bench/1 JSON reports for /reports");
  command
      ->add_option("--still-below", options->thresholds.still_below,
                   "STILL when the 1 s RMS of |a| - g is below this (m/s^2)")
      ->capture_default_str();
  command
      ->add_option("--shaking-above", options->thresholds.shaking_above,
                   "SHAKING when the 1 s RMS of |a| - g is above this (m/s^2)")
      ->capture_default_str();
  command
      ->add_option("--still-gyro-below", options->thresholds.still_gyro_below,
                   "STILL also needs the 1 s peak |gyro| below this (deg/s)")
      ->capture_default_str();
  command->add_option("--assets", options->assets_dir,
                      "directory holding web/ and node_modules/ (default: found from the binary)");
  command
      ->add_option("--max-clients", options->max_clients,
                   "concurrent /api/stream clients; more get 503")
      ->capture_default_str();
  command->callback([options] { run_dashboard_command(*options); });
}

}  // namespace edgeperf::cli
