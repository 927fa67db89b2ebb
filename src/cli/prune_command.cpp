// edgeperf prune MODEL -o OUT --method magnitude|channel|2:4 --sparsity S [options]:
// zeroes (or removes) weights and stores the result so that sparsity becomes bytes.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/session_flags.h"
#include "edgeperf/cli/variant_speed.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/prune/channel.h"
#include "edgeperf/prune/prune.h"
#include "edgeperf/prune/scoring.h"
#include "edgeperf/prune/sensitivity.h"
#include "edgeperf/prune/sparse_format.h"

namespace edgeperf::cli {
namespace {

using nlohmann::json;

struct PruneCliOptions {
  std::string model, output, method = "magnitude", sparsity, scope = "global";
  std::vector<std::string> exclude;
  std::string sensitivity, format = "compressed", report, norm = "l1";
  bool prune_all = false;
  runtime::SessionOptions session;  // only --shape: input shapes for open dims
  VariantSpeedFlags speed;
};

double parse_sparsity(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  EP_CHECK(used == text.size() && !text.empty(), "--sparsity '{}' is not a number", text);
  EP_CHECK(value >= 0.0 && value < 1.0, "--sparsity {} is outside [0, 1)", text);
  return value;
}

double requested_sparsity(const PruneCliOptions& options) {
  if (options.method == "2:4") {
    EP_CHECK(options.sparsity.empty() || parse_sparsity(options.sparsity) == 0.5,
             "--method 2:4 prunes exactly half of each group of 4; --sparsity {} is not 0.5",
             options.sparsity);
    return 0.5;
  }
  EP_CHECK(!options.sparsity.empty(), "--method {} needs --sparsity S in [0, 1)", options.method);
  return parse_sparsity(options.sparsity);
}

std::string megabytes(std::size_t bytes) {
  return fmt::format("{:.3f} MB", static_cast<double>(bytes) / 1e6);
}

struct Sizes {
  std::size_t input_file = 0, dense = 0, output = 0;
  json to_json() const {
    return {{"input_file_bytes", input_file},
            {"dense_bytes", dense},
            {"output_bytes", output},
            {"output_vs_dense", dense ? static_cast<double>(output) / dense : 0.0}};
  }
};

void print_sizes(const Sizes& sizes, const std::string& format) {
  fmt::print("size: input file {}, dense {} -> {} ({}), {:.3f}x the dense file\n",
             megabytes(sizes.input_file), megabytes(sizes.dense), megabytes(sizes.output), format,
             static_cast<double>(sizes.output) / static_cast<double>(sizes.dense));
}

void print_layers(const prune::PruneResult& result) {
  fmt::print("{:<32} {:<7} {:>10} {:>9}  {}\n", "layer", "op", "params", "sparsity", "note");
  for (const prune::LayerReport& report : result.layers) {
    fmt::print("{:<32} {:<7} {:>10} {:>8.1f}%  {}\n", report.layer.node, report.layer.op_type,
               report.layer.params, 100.0 * report.sparsity(), report.note);
  }
  fmt::print(
      "sparsity achieved: {:.2f}% of the pruned layers' weights, {:.2f}% of all prunable "
      "weights\n",
      100.0 * result.pruned_layers_sparsity, 100.0 * result.all_layers_sparsity);
}

json layers_json(const prune::PruneResult& result) {
  json layers = json::array();
  for (const prune::LayerReport& report : result.layers) {
    layers.push_back({{"node", report.layer.node},
                      {"op", report.layer.op_type},
                      {"weight", report.layer.weight},
                      {"params", report.layer.params},
                      {"zeros", report.zeros_after},
                      {"sparsity", report.sparsity()},
                      {"pruned", report.pruned},
                      {"note", report.note}});
  }
  return layers;
}

void print_sensitivity(const prune::SensitivityResult& scan) {
  fmt::print("sensitivity ({}; dense {:.4f}):\n{:<32}", scan.metric_name, scan.dense.metric,
             "layer");
  for (double level : scan.levels) fmt::print(" {:>8}", fmt::format("{:.0f}%", 100 * level));
  fmt::print(" {:>8}\n", "chosen");
  for (const prune::SensitivityRow& row : scan.rows) {
    fmt::print("{:<32}", row.node);
    for (const prune::Evaluation& result : row.at_level) fmt::print(" {:>8.4f}", result.metric);
    fmt::print(" {:>7.1f}%\n", 100 * row.chosen);
  }
  fmt::print("estimated loss of the chosen ratios: {:.5f}\n", scan.estimated_loss);
}

json sensitivity_json(const prune::SensitivityResult& scan, const std::string& data) {
  json rows = json::array();
  for (const prune::SensitivityRow& row : scan.rows) {
    json metric = json::array(), loss = json::array();
    for (const prune::Evaluation& result : row.at_level) {
      metric.push_back(result.metric);
      loss.push_back(result.loss);
    }
    rows.push_back({{"node", row.node},
                    {"params", row.params},
                    {"metric", metric},
                    {"loss", loss},
                    {"chosen_sparsity", row.chosen}});
  }
  return {{"data", data},
          {"metric", scan.metric_name},
          {"dense_metric", scan.dense.metric},
          {"levels", scan.levels},
          {"target", scan.target},
          {"rows", rows},
          {"estimated_loss", scan.estimated_loss}};
}

prune::PruneOptions prune_options(const PruneCliOptions& cli, double sparsity) {
  prune::PruneOptions options;
  options.method = prune::parse_method(cli.method);
  options.sparsity = sparsity;
  options.scope = prune::parse_scope(cli.scope);
  options.exclude = {cli.exclude.begin(), cli.exclude.end()};
  options.prune_first_and_last = cli.prune_all;
  return options;
}

std::set<std::string> pruned_weights(const prune::PruneResult& result) {
  std::set<std::string> weights;
  for (const prune::LayerReport& report : result.layers) {
    if (report.pruned) weights.insert(report.layer.weight);
  }
  return weights;
}

std::vector<prune::PrunableLayer> pruned_layers(const prune::PruneResult& result) {
  std::vector<prune::PrunableLayer> layers;
  for (const prune::LayerReport& report : result.layers) {
    if (report.pruned) layers.push_back(report.layer);
  }
  return layers;
}

json run_unstructured(const PruneCliOptions& cli, const graph::Graph& graph, double sparsity,
                      Sizes& sizes) {
  prune::PruneOptions options = prune_options(cli, sparsity);
  const prune::StorageFormat format = prune::parse_storage_format(cli.format);
  json report;
  if (!cli.sensitivity.empty()) {
    EP_CHECK(options.method == prune::Method::magnitude,
             "--sensitivity works with --method magnitude, not {}", cli.method);
    prune::ScoringData data = with_error_context("--sensitivity " + cli.sensitivity, [&] {
      return prune::load_scoring_data(cli.sensitivity, graph, cli.session.input_shapes);
    });
    const std::string description = data.description;
    const prune::ModelScorer scorer(graph, std::move(data));
    fmt::print("sensitivity scan on {}\n", description);
    const prune::SensitivityResult scan =
        prune::sensitivity_scan(graph, options, std::cref(scorer), scorer.metric_name());
    print_sensitivity(scan);
    options.layer_sparsity = scan.chosen();
    report["sensitivity"] = sensitivity_json(scan, description);
  }
  const prune::PruneResult result = prune::prune_model(graph, options);
  for (const std::string& line : result.log) fmt::print("{}\n", line);
  print_layers(result);
  if (options.method == prune::Method::two_four) {
    prune::validate_two_four(result.model, pruned_layers(result));
    fmt::print("2:4 mask valid on {} layers\n", pruned_layers(result).size());
    report["two_four"] = {{"valid", true}, {"layers", pruned_layers(result).size()}};
  }
  const std::string bytes =
      prune::serialize_pruned_model(result.model, pruned_weights(result), format);
  check_variant_speed(cli.speed, graph, bytes, cli.session);
  write_file_atomic(cli.output, bytes);
  sizes.output = bytes.size();
  report["layers"] = layers_json(result);
  report["sparsity_achieved"] = {{"pruned_layers", result.pruned_layers_sparsity},
                                 {"all_prunable_layers", result.all_layers_sparsity}};
  report["log"] = result.log;
  return report;
}

json run_channel(const PruneCliOptions& cli, const graph::Graph& graph, double ratio,
                 Sizes& sizes) {
  EP_CHECK(cli.sensitivity.empty(), "--sensitivity works with --method magnitude, not channel");
  prune::ChannelPruneOptions options;
  options.ratio = ratio;
  EP_CHECK(cli.norm == "l1" || cli.norm == "l2", "--norm '{}' is not l1 or l2", cli.norm);
  options.norm = cli.norm == "l1" ? prune::ChannelNorm::l1 : prune::ChannelNorm::l2;
  options.exclude = {cli.exclude.begin(), cli.exclude.end()};
  options.input_shapes = cli.session.input_shapes;
  const prune::ChannelPruneResult result = prune::prune_channels(graph, options);
  for (const std::string& line : result.log) fmt::print("{}\n", line);
  const std::string bytes = onnx_io::serialize_model(result.model);
  check_variant_speed(cli.speed, graph, bytes, cli.session);
  write_file_atomic(cli.output, bytes);
  sizes.output = bytes.size();
  fmt::print("parameters: {} -> {} ({:.3f}x)\n", graph.parameter_count(),
             result.model.parameter_count(),
             static_cast<double>(result.model.parameter_count()) /
                 static_cast<double>(std::max<std::int64_t>(graph.parameter_count(), 1)));
  return {{"log", result.log},
          {"parameters_before", graph.parameter_count()},
          {"parameters_after", result.model.parameter_count()}};
}

void run_prune(const PruneCliOptions& cli) {
  EP_CHECK(cli.method == "magnitude" || cli.method == "channel" || cli.method == "2:4",
           "unknown --method '{}' (expected magnitude, channel or 2:4)", cli.method);
  const double sparsity = requested_sparsity(cli);
  prune::parse_storage_format(cli.format);
  graph::Graph graph = onnx_io::load_model(cli.model);
  prune::decode_sparse_weights(graph);
  Sizes sizes;
  sizes.input_file = std::filesystem::file_size(cli.model);
  sizes.dense = onnx_io::serialize_model(graph).size();
  json report = with_error_context(cli.model, [&] {
    return cli.method == "channel" ? run_channel(cli, graph, sparsity, sizes)
                                   : run_unstructured(cli, graph, sparsity, sizes);
  });
  const std::string format = cli.method == "channel" ? "dense" : cli.format;
  print_sizes(sizes, format);
  fmt::print("wrote {}\n", cli.output);
  if (cli.report.empty()) return;
  report["schema"] = "edgeperf.prune/1";
  report["model"] = cli.model;
  report["output"] = cli.output;
  report["method"] = cli.method;
  report["sparsity_requested"] = sparsity;
  report["scope"] = cli.scope;
  report["format"] = format;
  report["sizes"] = sizes.to_json();
  write_file_atomic(cli.report, report.dump(2) + "\n");
}

}  // namespace

void add_prune_command(CLI::App& app) {
  auto options = std::make_shared<PruneCliOptions>();
  CLI::App* command = app.add_subcommand(
      "prune", "Prune a model (magnitude, channel or 2:4) and store it so the file shrinks");
  command->add_option("model", options->model, "ONNX model file")->required();
  command->add_option("-o,--output", options->output, "Output ONNX file")->required();
  command->add_option("--method", options->method, "magnitude | channel | 2:4");
  command->add_option("--sparsity", options->sparsity,
                      "Fraction of weights (magnitude) or channels (channel) removed, in [0, 1)");
  command->add_option("--scope", options->scope,
                      "global: one magnitude threshold for all layers | layer: S in each");
  command->add_option("--exclude", options->exclude, "Node names to keep dense")->expected(1, -1);
  command->add_flag("--prune-all", options->prune_all,
                    "Also prune the first conv and the last FC (excluded by default)");
  command->add_option("--sensitivity", options->sensitivity,
                      "Scan per-layer sensitivity on DIR / PREFIX (.npy, labels for accuracy) "
                      "or 'random' (fidelity), and pick per-layer ratios");
  command->add_option("--format", options->format,
                      "compressed (edgeperf, smallest) | onnx-sparse | dense");
  command->add_option("--norm", options->norm, "Channel method: filter norm l1 | l2");
  command->add_option("--report", options->report, "Write a JSON report");
  add_variant_speed_flags(*command, options->speed);
  add_session_flags(*command, options->session,
                    {.threads = false,
                     .backend = false,
                     .sparse = false,
                     .onednn_kernels_only = false,
                     .shapes = true});
  command->callback([options] { run_prune(*options); });
}

}  // namespace edgeperf::cli
