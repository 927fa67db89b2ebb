// Temporary: the sensor-track subcommands until their files land.
#include "edgeperf/cli/commands.h"
#include "edgeperf/core/error.h"

namespace edgeperf::cli {
void add_analyze_command(CLI::App&) {}
void add_vecbench_command(CLI::App&) {}
}  // namespace edgeperf::cli
