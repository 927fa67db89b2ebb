#pragma once
// Each subcommand lives in its own file src/cli/<name>_command.cpp and exposes
// one function that adds it to the app. main.cpp lists them in a table.
#include <CLI/CLI.hpp>
#include <functional>

namespace edgeperf::cli {

// A subcommand adds itself and sets a callback that does the work. The callback
// throws edgeperf::Error on user-caused failure; main prints it on one line and exits 1.
void add_inspect_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_zoo_command(CLI::App& app);
void add_sysinfo_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_tinyperf_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_prune_command(CLI::App& app);
void add_ablate_command(CLI::App& app);
void add_optimize_command(CLI::App& app);
// Sensor track.
void add_log_command(CLI::App& app);
void add_analyze_command(CLI::App& app);
void add_vecbench_command(CLI::App& app);
void add_dashboard_command(CLI::App& app);
void add_report_command(CLI::App& app);
// Vision track.
void add_vision_command(CLI::App& app);
// Training: `qat` and `finetune`, run by the edgeperf-train program.
void add_train_commands(CLI::App& app);

}  // namespace edgeperf::cli
