// edgeperf-train: the training engine's program (libtorch). `edgeperf qat` and `edgeperf
// finetune` run it, so the edgeperf command itself never loads libtorch (0.4 s and
// 160 MB at every start; docs/training.md).
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>

#include "edgeperf/core/error.h"
#include "train_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"edgeperf-train: quantization-aware training and fine-tuning (libtorch)"};
  app.set_version_flag("--version", "edgeperf-train " EP_VERSION);
  app.require_subcommand(1);
  edgeperf::cli::training::add_qat_command(app);
  edgeperf::cli::training::add_finetune_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& success) {
    return app.exit(success);
  } catch (const CLI::ParseError& error) {
    fmt::print(stderr, "edgeperf: error: {}\n", error.what());
    return 2;
  } catch (const edgeperf::Error& error) {
    fmt::print(stderr, "edgeperf: error: {}\n", error.what());
    return 1;
  } catch (const c10::Error& error) {
    const std::string what = error.what_without_backtrace();
    fmt::print(stderr, "edgeperf: error: training engine: {}\n", what.substr(0, what.find('\n')));
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
