// edgeperf zoo NAME -o FILE.onnx [--seed S] | edgeperf zoo --list: the built-in model zoo.
#include <fmt/format.h>

#include <memory>

#include "edgeperf/cli/commands.h"
#include "edgeperf/core/error.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/zoo/zoo.h"

namespace edgeperf::cli {
namespace {

struct ZooOptions {
  std::string name;
  std::string output;
  std::uint64_t seed = 0;
  bool list = false;
};

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

void print_zoo_list() {
  const std::vector<zoo::ZooEntry> entries = zoo::zoo_list();
  fmt::print("{:<16} {:<22} {:<18} {}\n", "name", "task", "input", "description");
  for (const zoo::ZooEntry& entry : entries) {
    fmt::print("{:<16} {:<22} {:<18} {}\n", entry.name, entry.task, shape_text(entry.input_shape),
               entry.description);
  }
}

void export_zoo_model(const ZooOptions& options) {
  EP_CHECK(!options.name.empty(), "zoo: give a model NAME or --list");
  EP_CHECK(!options.output.empty(), "zoo: missing -o FILE.onnx for model '{}'", options.name);
  const graph::Graph graph = zoo::build_zoo_model(options.name, options.seed);
  onnx_io::save_model(graph, options.output);
  fmt::print("wrote {} ({} parameters, seed {}) to {}\n", options.name, graph.parameter_count(),
             options.seed, options.output);
}

void run_zoo(const ZooOptions& options) {
  if (options.list) {
    print_zoo_list();
    return;
  }
  export_zoo_model(options);
}

}  // namespace

void add_zoo_command(CLI::App& app) {
  auto options = std::make_shared<ZooOptions>();
  CLI::App* command =
      app.add_subcommand("zoo", "Build a zoo model with deterministic weights and save it as ONNX");
  command->add_option("name", options->name, "Zoo model name (see --list)");
  command->add_option("-o,--output", options->output, "Output ONNX file");
  command->add_option("--seed", options->seed, "Weight seed (same seed, same weights)")
      ->check(CLI::Validator(
          [](std::string& value) {
            return value.find_first_not_of("0123456789") == std::string::npos
                       ? std::string()
                       : "must be a non-negative integer, got '" + value + "'";
          },
          "UINT64"));
  command->add_flag("--list", options->list, "List the zoo's models");
  command->callback([options] { run_zoo(*options); });
}

}  // namespace edgeperf::cli
