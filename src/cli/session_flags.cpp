#include "edgeperf/cli/session_flags.h"

namespace edgeperf::cli {

void add_session_flags(CLI::App& command, runtime::SessionOptions& options,
                       const SessionFlagSet& which) {
  if (which.threads) {
    command
        .add_option("--threads", options.threads,
                    which.min_threads == 0 ? "Threads (0: physical cores)"
                                           : "Threads (default: physical cores)")
        ->check(CLI::Range(which.min_threads, 1024));
  }
  if (which.backend) {
    command
        .add_option_function<std::string>(
            "--backend",
            [&options](const std::string& name) { options.backend = runtime::parse_backend(name); },
            "auto | onednn | reference")
        ->check(CLI::IsMember({"auto", "onednn", "reference"}));
  }
  if (which.sparse) {
    command
        .add_option_function<std::string>(
            "--sparse",
            [&options](const std::string& mode) {
              options.sparse = runtime::parse_sparse_mode(mode);
            },
            "auto (sparse FC/1x1 conv kernels where measured faster) | off | force")
        ->check(CLI::IsMember({"auto", "off", "force"}));
  }
  if (which.onednn_kernels_only) {
    command.add_flag_callback(
        "--onednn-kernels-only", [&options] { options.own_int8_kernels = false; },
        "Run int8 layers on oneDNN only, not on edgeperf's own kernels (A/B)");
  }
}

void add_seed_flag(CLI::App& command, std::uint64_t& seed, const std::string& help) {
  command.add_option("--seed", seed, help);
}

}  // namespace edgeperf::cli
