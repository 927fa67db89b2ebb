// The edgeperf command. Subcommands register themselves from the table below.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>

#include "edgeperf/cli/commands.h"
#include "edgeperf/core/error.h"

namespace {

using AddCommand = void (*)(CLI::App&);

constexpr AddCommand kCommands[] = {
    edgeperf::cli::add_inspect_command,  edgeperf::cli::add_run_command,
    edgeperf::cli::add_zoo_command,      edgeperf::cli::add_sysinfo_command,
    edgeperf::cli::add_bench_command,    edgeperf::cli::add_tinyperf_command,
    edgeperf::cli::add_quantize_command, edgeperf::cli::add_prune_command,
    edgeperf::cli::add_ablate_command,   edgeperf::cli::add_optimize_command,
    edgeperf::cli::add_log_command,      edgeperf::cli::add_analyze_command,
    edgeperf::cli::add_vecbench_command, edgeperf::cli::add_dashboard_command,
    edgeperf::cli::add_report_command,   edgeperf::cli::add_vision_command,
    edgeperf::cli::add_train_commands,
};

}  // namespace

int main(int argc, char** argv) {
  // LLVM's libomp (cmake/openmp_runtime.cmake) keeps its threads spinning for 200 ms after
  // a parallel region by default, so a camera or dashboard loop would keep both cores busy
  // between frames. A few milliseconds, about libgomp's default spin, keeps them hot
  // across the regions of one inference. libomp reads it at its first use; a KMP_BLOCKTIME
  // the user set wins, and libgomp ignores it.
  ::setenv("KMP_BLOCKTIME", "5", /*overwrite=*/0);
  CLI::App app{
      "edgeperf: run, optimize and honestly measure ML models and sensor pipelines on edge CPUs"};
  app.set_version_flag("--version", "edgeperf " EP_VERSION);
  app.require_subcommand(1);
  for (AddCommand add : kCommands) add(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& success) {
    return app.exit(success);  // --help
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    // Usage errors are one line too (CLI11 would add a second "Run with --help" line).
    fmt::print(stderr, "edgeperf: error: {}\n", error.what());
    return 2;
  } catch (const edgeperf::Error& error) {
    fmt::print(stderr, "edgeperf: error: {}\n", error.what());
    return 1;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "edgeperf: error: out of memory\n");
    return 1;
  } catch (const std::exception& error) {
    fmt::print(stderr, "edgeperf: error: {}\n", error.what());
    return 1;
  }
  return 0;
}
