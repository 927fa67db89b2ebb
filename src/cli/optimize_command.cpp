// edgeperf optimize MODEL -o OUT [--passes a,b] [--target portable|edgeperf] [--verify]:
// graph passes, each change logged, then a summary.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/session_flags.h"
#include "edgeperf/cli/variant_speed.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/passes/passes.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::cli {
namespace {

constexpr double kVerifyTolerance = 1e-4;  // relative to max(1, max|original|)

struct OptimizeCliOptions {
  std::string model;
  std::string output;
  std::vector<std::string> passes;
  std::string target = "portable";
  std::size_t fold_limit_mib = 64;
  bool list = false;
  bool verify = false;
  std::uint64_t seed = 1;
  VariantSpeedFlags speed;
};

void print_pass_list() {
  for (const passes::PassInfo& pass : passes::all_passes()) {
    fmt::print("{:<16} {}\n", pass.name, pass.summary);
  }
}

// max|a - b| over all elements, and max|b|.
std::pair<double, double> max_difference(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_doubles(), y = b.to_doubles();
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (std::isfinite(y[i])) scale = std::max(scale, std::abs(y[i]));
    if (x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i]))) continue;
    const double d = std::abs(x[i] - y[i]);
    diff = std::isnan(d) ? INFINITY : std::max(diff, d);
  }
  return {diff, scale};
}

// Runs both graphs on the same seeded random inputs and requires matching outputs.
void verify(const graph::Graph& original, const graph::Graph& optimized, std::uint64_t seed) {
  runtime::Session before(original, runtime::SessionOptions{});
  runtime::Session after(optimized, runtime::SessionOptions{});
  const std::map<std::string, Tensor> inputs = runtime::random_inputs(before, seed);
  const std::map<std::string, Tensor> expected = before.run(inputs);
  const std::map<std::string, Tensor> actual = after.run(inputs);
  for (const auto& [name, reference] : expected) {
    const auto found = actual.find(name);
    EP_CHECK(found != actual.end(), "verify: the optimized model has no output '{}'", name);
    EP_CHECK(found->second.shape() == reference.shape(),
             "verify: output '{}' has shape {} after optimization, {} before", name,
             shape_to_string(found->second.shape()), shape_to_string(reference.shape()));
    const auto [diff, scale] = max_difference(found->second, reference);
    const double tolerance = kVerifyTolerance * std::max(1.0, scale);
    fmt::print("verify: output '{}' max|diff| {:.3e} (tolerance {:.3e}, seed {})\n", name, diff,
               tolerance, seed);
    EP_CHECK(diff <= tolerance,
             "verify: output '{}' differs by {:.3e} after optimization (tolerance {:.3e}); "
             "nothing written",
             name, diff, tolerance);
  }
}

void run_optimize(const OptimizeCliOptions& options) {
  if (options.list) {
    print_pass_list();
    return;
  }
  EP_CHECK(!options.model.empty(), "optimize: give a MODEL (or --list)");
  EP_CHECK(!options.output.empty(), "optimize: missing -o OUT.onnx for '{}'", options.model);
  passes::OptimizeOptions optimize_options;
  optimize_options.passes = options.passes;
  optimize_options.target = passes::parse_target(options.target);
  optimize_options.fold_limit_bytes = options.fold_limit_mib << 20;
  graph::Graph original = onnx_io::load_model(options.model);
  passes::OptimizeResult result = passes::optimize(original, optimize_options);
  fmt::print("{}", passes::format_report(result));
  if (options.verify) verify(original, result.graph, options.seed);
  const std::string bytes = onnx_io::serialize_model(result.graph);
  check_variant_speed(options.speed, original, bytes, runtime::SessionOptions{});
  write_file_atomic(options.output, bytes);
  fmt::print("wrote {} (target {})\n", options.output, options.target);
}

}  // namespace

void add_optimize_command(CLI::App& app) {
  auto options = std::make_shared<OptimizeCliOptions>();
  CLI::App* command = app.add_subcommand(
      "optimize", "Graph passes (constant folding, BN folding, activation fusion, DCE), logged");
  command->add_option("model", options->model, "ONNX model file");
  command->add_option("-o,--output", options->output, "Optimized ONNX file (written atomically)");
  command
      ->add_option("--passes", options->passes,
                   "Comma-separated passes to run, in order "
                   "(default: all; see --list)")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](std::string& name) {
            try {
              passes::find_pass(name);
            } catch (const Error& error) {
              return std::string(error.what());
            }
            return std::string();
          },
          "PASS", "pass name"));
  command
      ->add_option("--target", options->target,
                   "portable (ONNX Runtime runs the output) | edgeperf (also edgeperf-only "
                   "fusions: HardSwish)")
      ->check(CLI::IsMember({"portable", "edgeperf"}));
  command
      ->add_option("--fold-limit-mib", options->fold_limit_mib,
                   "Never fold constants whose outputs exceed this size")
      ->check(CLI::Range(0, 1 << 20));
  command->add_flag("--verify", options->verify,
                    "Run the original and optimized models on seeded random inputs in edgeperf "
                    "and require equal outputs (1e-4) before writing");
  add_seed_flag(*command, options->seed, "Seed of the --verify inputs");
  command->add_flag("--list", options->list, "List the passes");
  add_variant_speed_flags(*command, options->speed);
  command->callback([options] { run_optimize(*options); });
}

}  // namespace edgeperf::cli
