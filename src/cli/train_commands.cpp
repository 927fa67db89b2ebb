// `edgeperf qat` and `edgeperf finetune` run edgeperf-train, the program beside this one
// that holds the libtorch training engine: edgeperf itself never loads libtorch, which
// costs 0.4 s and 160 MB of RSS at every start (docs/training.md).
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/cli/commands.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"

namespace edgeperf::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTrainProgram = "edgeperf-train";

fs::path train_program() {
  const std::optional<fs::path> folder = program_folder();
  EP_CHECK(folder.has_value(), "cannot find the edgeperf binary's folder (/proc/self/exe)");
  return *folder / kTrainProgram;
}

[[noreturn]] void run_train_program(const std::string& command,
                                    const std::vector<std::string>& arguments) {
  const fs::path program = train_program();
  EP_CHECK(fs::exists(program),
           "{}: the training engine is not part of this build ({} not found beside edgeperf; "
           "it is built on x86-64 with libtorch-dev, -DEP_TRAIN=ON)",
           command, program.string());
  std::vector<std::string> words = {program.string(), command};
  words.insert(words.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  argv.reserve(words.size() + 1);
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  execv(argv[0], argv.data());
  fail("{}: cannot run {}: {}", command, program.string(), std::strerror(errno));
}

void add_forwarded(CLI::App& app, const std::string& name, const std::string& description) {
  CLI::App* command = app.add_subcommand(name, description);
  // Every argument, --help included, goes to edgeperf-train, which parses them.
  command->set_help_flag();
  command->prefix_command();
  command->allow_extras();
  command->callback([command, name] { run_train_program(name, command->remaining()); });
}

}  // namespace

void add_train_commands(CLI::App& app) {
  add_forwarded(app, "qat",
                "Quantization-aware training: static QDQ, then fine-tuning with fake "
                "quantization (runs edgeperf-train; see `edgeperf qat --help`)");
  add_forwarded(app, "finetune",
                "Fine-tune a pruned model, zeros kept (runs edgeperf-train; see `edgeperf "
                "finetune --help`)");
}

}  // namespace edgeperf::cli
