#pragma once
// The subcommands of edgeperf-train (run as `edgeperf qat` and `edgeperf finetune`).
#include <CLI/CLI.hpp>

namespace edgeperf::cli::training {

void add_qat_command(CLI::App& app);
void add_finetune_command(CLI::App& app);

}  // namespace edgeperf::cli::training
