// edgeperf quantize MODEL -o OUT --mode dynamic|static|fp16|int4-weight: writes a
// quantized standard-ONNX model, a per-layer table (stdout) and optionally a JSON report.
// With --accuracy-budget and --data, mixed precision keeps the most sensitive layers in
// float until the held-out accuracy is within the budget of the float model's.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/variant_speed.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/eval/evaluator.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/passes/passes.h"
#include "edgeperf/quant/accuracy_budget.h"
#include "edgeperf/quant/dataset_source.h"
#include "edgeperf/quant/quantize.h"
#include "edgeperf/runtime/input_shapes.h"

namespace edgeperf::cli {
namespace {
namespace fs = std::filesystem;

struct QuantizeCliOptions {
  std::string model;
  std::string output;
  std::string mode;
  std::string calib;
  std::size_t calib_samples = 0;
  std::string method = "minmax";
  bool per_channel = false;
  bool reduce_range = false;
  int weight_bits = 8;
  std::string weights = "int8-sym";
  std::string activations = "uint8-asym";
  std::string format = "qdq";
  std::vector<std::string> exclude;
  double accuracy_budget = -1.0;
  std::string data;
  std::string report;
  int int4_group = 64;
  bool no_bias_correction = false;
  bool no_equalize = false;
  bool no_optimize = false;
  std::vector<std::string> shapes;  // --shape NAME=DIMS: how calibration/evaluation data is shaped
  VariantSpeedFlags speed;
};

// The input shapes --shape gives, by input name.
std::map<std::string, Shape> given_shapes(const QuantizeCliOptions& cli) {
  std::map<std::string, Shape> given;
  for (const std::string& spec : cli.shapes) {
    auto [name, shape] = runtime::parse_shape_spec(spec);
    EP_CHECK(given.emplace(name, shape).second, "--shape gives input '{}' twice", name);
  }
  return given;
}

// The model as the data sees it: symbolic input dims fixed by --shape (the quantized
// model keeps them symbolic).
graph::Graph shaped_for_data(const graph::Graph& model, const QuantizeCliOptions& cli) {
  return runtime::with_bound_inputs(model, given_shapes(cli));
}

quant::QuantizeOptions library_options(const QuantizeCliOptions& cli) {
  quant::QuantizeOptions options;
  options.mode = quant::parse_mode(cli.mode);
  options.format = quant::parse_format(cli.format);
  options.per_channel = cli.per_channel;
  options.weights = quant::parse_quant_type(cli.weights);
  options.reduce_range = cli.reduce_range;
  options.weight_bits = cli.weight_bits;
  const bool int8_mode =
      options.mode == quant::QuantMode::static_int8 || options.mode == quant::QuantMode::dynamic;
  EP_CHECK(!cli.reduce_range || (int8_mode && options.weights == quant::QuantType::int8_sym),
           "--reduce-range needs --mode static or dynamic and --weights int8-sym (got --mode {}, "
           "--weights {})",
           cli.mode, cli.weights);
  EP_CHECK(cli.weight_bits == 8 ||
               (int8_mode && options.weights == quant::QuantType::int8_sym && !cli.reduce_range),
           "--weight-bits {} needs --mode static or dynamic, --weights int8-sym and no "
           "--reduce-range (got --mode {})",
           cli.weight_bits, cli.mode);
  options.activations = quant::parse_quant_type(cli.activations);
  options.method = quant::parse_method(cli.method);
  options.calibration.max_samples = cli.calib_samples;
  // A progress bar only on a terminal: a redirected stderr keeps one line per error.
  options.calibration.progress = isatty(fileno(stderr)) != 0 ? stderr : nullptr;
  options.exclude.insert(cli.exclude.begin(), cli.exclude.end());
  options.bias_correction = !cli.no_bias_correction;
  options.equalize = !cli.no_equalize;
  options.int4_group_size = cli.int4_group;
  return options;
}

// Quantizes with a fresh pass over the calibration files (each run streams them again).
quant::QuantizeResult run_quantize(const graph::Graph& model, const QuantizeCliOptions& cli,
                                   const quant::QuantizeOptions& options) {
  if (cli.calib.empty()) return quant::quantize_model(model, options, nullptr);
  quant::DatasetSampleSource source(cli.calib, shaped_for_data(model, cli), cli.calib_samples);
  return quant::quantize_model(model, options, &source);
}

// Labeled held-out data for mixed precision, shaped for the model's input.
eval::Evaluator evaluator_for(const std::string& data, const graph::Graph& model) {
  return with_error_context("--data", [&] {
    EP_CHECK(model.inputs.size() == 1,
             "calibration and evaluation data need a model with one input; this one has {}",
             model.inputs.size());
    eval::LoadOptions load;
    load.input = model.inputs.front();
    return eval::Evaluator(eval::load_dataset(data, load));
  });
}

quant::AccuracyBudgetResult apply_mixed_precision(const graph::Graph& model,
                                                  const QuantizeCliOptions& cli,
                                                  quant::QuantizeOptions& options,
                                                  quant::QuantizeResult& result) {
  const eval::Evaluator held_out = evaluator_for(cli.data, shaped_for_data(model, cli));
  const auto quantize = [&](const quant::QuantizeOptions& trial) {
    return run_quantize(model, cli, trial);
  };
  return quant::fit_accuracy_budget(model, options, result, quantize, held_out,
                                    cli.accuracy_budget);
}

nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

std::string format_sqnr(double value) {
  if (std::isnan(value)) return "-";
  return std::isinf(value) ? "inf" : fmt::format("{:.1f}", value);
}

void print_table(const quant::QuantizeResult& result, std::uintmax_t before, std::uintmax_t after) {
  std::size_t width = 5;
  for (const quant::LayerReport& layer : result.layers) width = std::max(width, layer.node.size());
  fmt::print("{:<{}}  {:<8} {:<9} {:>8}  {}\n", "layer", width, "op", "precision", "SQNR dB",
             "note");
  for (const quant::LayerReport& layer : result.layers) {
    fmt::print("{:<{}}  {:<8} {:<9} {:>8}  {}\n", layer.node, width, layer.op_type, layer.precision,
               format_sqnr(layer.sqnr_db), layer.note);
  }
  fmt::print("size: {} -> {} bytes ({:.3f}x)\n", before, after,
             static_cast<double>(after) / static_cast<double>(before));
}

void print_mixed_precision(const quant::AccuracyBudgetResult& outcome, double budget) {
  fmt::print("mixed precision (budget {:.2f} points): float {:.2f}%, quantized {:.2f}%\n", budget,
             outcome.float_accuracy, outcome.quantized_accuracy);
  for (const quant::MixedPrecisionDecision& decision : outcome.decisions) {
    fmt::print("  {:<24} {:<10}  {}\n", decision.node,
               decision.kept_float ? "kept float" : "quantized", decision.reason);
  }
}

nlohmann::json report_json(const QuantizeCliOptions& cli, const quant::QuantizeResult& result,
                           std::uintmax_t before, std::uintmax_t after,
                           const std::optional<quant::AccuracyBudgetResult>& mixed) {
  nlohmann::json layers = nlohmann::json::array();
  for (const quant::LayerReport& layer : result.layers) {
    layers.push_back({{"node", layer.node},
                      {"op", layer.op_type},
                      {"precision", layer.precision},
                      {"sqnr_db", number_or_null(layer.sqnr_db)},
                      {"note", layer.note}});
  }
  nlohmann::json report = {{"model", cli.model},
                           {"output", cli.output},
                           {"mode", cli.mode},
                           {"format", cli.format},
                           {"method", cli.method},
                           {"per_channel", cli.per_channel},
                           {"weights", cli.weights},
                           {"activations", cli.activations},
                           {"size_bytes", {{"before", before}, {"after", after}}},
                           {"size_ratio", static_cast<double>(after) / static_cast<double>(before)},
                           {"layers", layers},
                           {"log", result.log}};
  if (mixed) {
    nlohmann::json decisions = nlohmann::json::array();
    for (const quant::MixedPrecisionDecision& decision : mixed->decisions) {
      decisions.push_back({{"node", decision.node},
                           {"sensitivity_points", number_or_null(decision.sensitivity)},
                           {"kept_float", decision.kept_float},
                           {"reason", decision.reason}});
    }
    report["mixed_precision"] = {{"budget_points", cli.accuracy_budget},
                                 {"float_accuracy", number_or_null(mixed->float_accuracy)},
                                 {"quantized_accuracy", number_or_null(mixed->quantized_accuracy)},
                                 {"decisions", decisions}};
  }
  return report;
}

void check_options(const QuantizeCliOptions& cli, const quant::QuantizeOptions& options) {
  EP_CHECK(options.mode != quant::QuantMode::static_int8 || !cli.calib.empty(),
           "--mode static needs calibration data: --calib DIR");
  EP_CHECK((cli.accuracy_budget >= 0) == !cli.data.empty(),
           "--accuracy-budget and --data go together");
  EP_CHECK(fs::is_regular_file(cli.model), "model '{}' does not exist", cli.model);
}

// Int8 modes write QDQ at quant::kQdqOpset or newer.
graph::Graph at_int8_opset(graph::Graph model, const quant::QuantizeOptions& options,
                           std::vector<std::string>& log) {
  const bool int8 =
      options.mode == quant::QuantMode::static_int8 || options.mode == quant::QuantMode::dynamic;
  if (!int8) return model;
  return onnx_io::at_least_opset(std::move(model), quant::kQdqOpset, quant::kQdqOpsetReason, log);
}

// The session the speed check runs both models in: symbolic dims bound by --shape.
runtime::SessionOptions speed_check_session(const QuantizeCliOptions& cli) {
  runtime::SessionOptions session;
  session.input_shapes = given_shapes(cli);
  return session;
}

std::string speed_advice(const quant::QuantizeOptions& options) {
  if (options.mode != quant::QuantMode::dynamic) return "";
  return "dynamic mode quantizes each activation at run time; for convolutions use --mode "
         "static --calib DATA, or keep them in float with --exclude";
}

void quantize(const QuantizeCliOptions& cli) {
  quant::QuantizeOptions options = library_options(cli);
  check_options(cli, options);
  std::vector<std::string> pass_log;
  // Graph copies share their weights; passes and quantizers write to copies of their own.
  const graph::Graph input = onnx_io::load_model(cli.model);
  graph::Graph model = at_int8_opset(input, options, pass_log);
  shaped_for_data(model, cli);  // a bad --shape fails before any work
  if (!cli.no_optimize) model = passes::optimized_for_quantization(std::move(model), pass_log);
  quant::QuantizeResult result = run_quantize(model, cli, options);
  std::optional<quant::AccuracyBudgetResult> mixed;
  if (cli.accuracy_budget >= 0) mixed = apply_mixed_precision(model, cli, options, result);
  result.log.insert(result.log.begin(), pass_log.begin(), pass_log.end());
  const std::string bytes = onnx_io::serialize_model(result.model);
  check_variant_speed(cli.speed, input, bytes, speed_check_session(cli), speed_advice(options));
  write_file_atomic(cli.output, bytes);
  for (const std::string& line : result.log) fmt::print("{}\n", line);
  const std::uintmax_t before = fs::file_size(cli.model);
  const std::uintmax_t after = fs::file_size(cli.output);
  print_table(result, before, after);
  if (mixed) print_mixed_precision(*mixed, cli.accuracy_budget);
  if (!cli.report.empty()) {
    write_file_atomic(cli.report, report_json(cli, result, before, after, mixed).dump(2) + "\n");
  }
}

}  // namespace

void add_quantize_command(CLI::App& app) {
  auto cli = std::make_shared<QuantizeCliOptions>();
  CLI::App* command = app.add_subcommand("quantize", "Quantize a float ONNX model");
  command->add_option("model", cli->model, "Float ONNX model")->required();
  add_variant_speed_flags(*command, cli->speed);
  command->add_option("-o,--output", cli->output, "Quantized model to write")->required();
  command->add_option("--mode", cli->mode, "dynamic | static | fp16 | int4-weight")->required();
  command->add_option("--calib", cli->calib,
                      "Calibration data: FILE.npy, PREFIX (PREFIX_inputs.npy) or a directory");
  command->add_option("--calib-samples", cli->calib_samples, "Use at most N samples (0: all)");
  command->add_option("--method", cli->method, "minmax | percentile:P | entropy | mse");
  command->add_flag("--per-channel", cli->per_channel, "Per-channel weight scales");
  command->add_option("--weights", cli->weights, "Weight type (int8-sym)");
  command->add_flag("--reduce-range", cli->reduce_range,
                    "7-bit weights [-63, 63]: exact in u8 x s8 kernels of CPUs without VNNI "
                    "(ONNX Runtime and oneDNN on AVX2)");
  command
      ->add_option("--weight-bits", cli->weight_bits,
                   "2..8: weights on a grid of that many bits ([-7, 7] for 4), held in int8 "
                   "QDQ (what a w4a8 model costs in accuracy; storage stays 8-bit)")
      ->check(CLI::Range(2, 8));
  command->add_option("--activations", cli->activations, "uint8-asym | int8-sym");
  command->add_option("--format", cli->format, "qdq | qoperator");
  command->add_option("--exclude", cli->exclude, "Keep these nodes in float")->expected(1, -1);
  command->add_option("--accuracy-budget", cli->accuracy_budget,
                      "Mixed precision: max accuracy drop in points (needs --data)");
  command->add_option("--data", cli->data, "Labeled data (DIR or PREFIX) for mixed precision");
  command->add_option("--report", cli->report, "Write the report as JSON");
  command->add_option("--shape", cli->shapes,
                      "NAME=DIMS (repeatable): the input shape calibration and evaluation data "
                      "take, for inputs with symbolic dims (e.g. images=1x3x320x320)");
  command->add_option("--int4-group", cli->int4_group, "INT4 group size along K (default 64)");
  command->add_flag("--no-bias-correction", cli->no_bias_correction, "Skip bias correction");
  command->add_flag("--no-equalize", cli->no_equalize, "Skip cross-layer equalization");
  command->add_flag("--no-optimize", cli->no_optimize,
                    "Skip the graph passes run first (BatchNorm folding, constant folding, ...)");
  command->callback([cli] { quantize(*cli); });
}

}  // namespace edgeperf::cli
