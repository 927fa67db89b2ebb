// edgeperf ablate MODEL --steps quantize,prune,fuse --data DIR: applies the steps in the given
// order and in the reverse order, benchmarks every stage with the harness, and reports the
// accuracy, latency, size and memory change each step makes in each order.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "edgeperf/bench/model_bench.h"
#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/session_flags.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/passes/passes.h"
#include "edgeperf/prune/prune.h"
#include "edgeperf/prune/sparse_format.h"
#include "edgeperf/quant/dataset_source.h"
#include "edgeperf/quant/quantize.h"

namespace edgeperf::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kPruneSparsity = 0.5;

struct AblateOptions {
  std::string model, data, calibration, json_path, markdown_path, work_dir;
  std::vector<std::string> steps;
  std::size_t runs = 100;
  runtime::SessionOptions session;
};

void check_steps(const std::vector<std::string>& steps) {
  EP_CHECK(!steps.empty(), "--steps needs at least one of quantize, prune, fuse");
  std::set<std::string> seen;
  for (const std::string& step : steps) {
    EP_CHECK(step == "quantize" || step == "prune" || step == "fuse",
             "--steps: unknown step '{}' (expected quantize, prune or fuse)", step);
    EP_CHECK(seen.insert(step).second, "--steps: '{}' is listed twice", step);
  }
}

graph::Graph apply_quantize(const graph::Graph& model, const AblateOptions& options) {
  quant::QuantizeOptions quantize;
  quantize.mode = quant::QuantMode::static_int8;
  quantize.format = quant::QuantFormat::qdq;
  quantize.per_channel = true;
  quant::DatasetSampleSource source(options.calibration, model, 0);
  return quant::quantize_model(model, quantize, &source).model;
}

graph::Graph apply_prune(const graph::Graph& model) {
  prune::PruneOptions prune;
  prune.sparsity = kPruneSparsity;
  return prune::prune_model(model, prune).model;
}

graph::Graph apply_step(const std::string& step, const graph::Graph& model,
                        const AblateOptions& options) {
  return with_error_context("step " + step, [&] {
    if (step == "quantize") return apply_quantize(model, options);
    if (step == "prune") return apply_prune(model);
    return passes::optimize(model).graph;
  });
}

// Pruned weights (f32 or int8) are stored compressed so that pruning shows in the file size.
void save_stage(const graph::Graph& model, const fs::path& path) {
  std::set<std::string> weights;
  for (const prune::PrunableLayer& layer : prune::find_prunable_layers(model)) {
    weights.insert(layer.weight);
  }
  write_file_atomic(
      path, prune::serialize_pruned_model(model, weights, prune::StorageFormat::compressed));
}

json measure_stage(const fs::path& path, const std::string& after, const AblateOptions& options) {
  bench::ModelBenchOptions bench_options;
  bench_options.run.runs = options.runs;
  bench_options.run.warmup_runs = std::max<std::size_t>(5, options.runs / 10);
  bench_options.session = options.session;
  bench_options.data = fs::path(options.data);
  const bench::ModelResult result = bench::bench_model(path, bench_options);
  EP_CHECK(result.accuracy.has_value(), "stage '{}': the benchmark measured no accuracy", after);
  const bench::Summary& latency = result.batches.at(0).latency;
  return {{"after", after},
          {"file", path.string()},
          {"file_bytes", result.file_bytes},
          {"weight_bytes", result.weight_bytes},
          {"top1", result.accuracy->top1},
          {"latency_p50_ms", latency.p50},
          {"latency_mean_ms", latency.mean},
          {"latency_cv", latency.cv},
          {"peak_rss_bytes", result.peak_rss_bytes},
          {"arena_bytes", result.arena_bytes},
          {"noisy", result.noisy}};
}

json delta(const json& before, const json& after) {
  const auto diff = [&](const char* key) {
    return after[key].get<double>() - before[key].get<double>();
  };
  return {{"top1_points", 100 * diff("top1")},
          {"latency_p50_ms", diff("latency_p50_ms")},
          {"latency_p50_ratio",
           after["latency_p50_ms"].get<double>() / before["latency_p50_ms"].get<double>()},
          {"file_bytes", diff("file_bytes")},
          {"file_ratio", after["file_bytes"].get<double>() / before["file_bytes"].get<double>()},
          {"peak_rss_bytes", diff("peak_rss_bytes")},
          {"arena_bytes", diff("arena_bytes")}};
}

json run_order(const graph::Graph& dense, const std::vector<std::string>& order,
               const json& baseline, const std::string& tag, const AblateOptions& options) {
  json stages = json::array({baseline});
  graph::Graph model = dense;
  for (std::size_t i = 0; i < order.size(); ++i) {
    model = apply_step(order[i], model, options);
    const fs::path path =
        fs::path(options.work_dir) / fmt::format("{}_{}_{}.onnx", tag, i + 1, order[i]);
    save_stage(model, path);
    fmt::print("  {} step {}: {} -> {}\n", tag, i + 1, order[i], path.string());
    json stage = measure_stage(path, order[i], options);
    stage["delta"] = delta(stages.back(), stage);
    stages.push_back(std::move(stage));
  }
  return {{"order", order}, {"stages", stages}, {"total", delta(baseline, stages.back())}};
}

std::string markdown(const json& report) {
  std::string out = fmt::format(
      "# Ablation: {}\n\nData: {}. Calibration: {}. Prune step: {:.0f}% "
      "magnitude (global). Every number is measured (p50 latency over "
      "{} runs, {} threads; 0 = physical cores).\n",
      report["model"].get<std::string>(), report["data"].get<std::string>(),
      report["calibration"].get<std::string>(), 100 * kPruneSparsity,
      report["runs"].get<std::size_t>(), report["threads"].get<int>());
  for (const json& order : report["orders"]) {
    out += fmt::format("\n## Order: {}\n\n",
                       fmt::join(order["order"].get<std::vector<std::string>>(), " -> "));
    out +=
        "| after | top-1 | Δ top-1 (pts) | p50 ms | Δ p50 | file bytes | Δ file | peak RSS MB | Δ "
        "RSS MB |\n";
    out += "|---|---|---|---|---|---|---|---|---|\n";
    for (const json& stage : order["stages"]) {
      const bool has_delta = stage.contains("delta");
      const json d = has_delta ? stage["delta"] : json::object();
      out += fmt::format(
          "| {} | {:.4f} | {} | {:.4f} | {} | {} | {} | {:.1f} | {} |\n",
          stage["after"].get<std::string>(), stage["top1"].get<double>(),
          has_delta ? fmt::format("{:+.2f}", d["top1_points"].get<double>()) : "",
          stage["latency_p50_ms"].get<double>(),
          has_delta ? fmt::format("{:.3f}x", d["latency_p50_ratio"].get<double>()) : "",
          stage["file_bytes"].get<std::size_t>(),
          has_delta ? fmt::format("{:.3f}x", d["file_ratio"].get<double>()) : "",
          stage["peak_rss_bytes"].get<double>() / 1e6,
          has_delta ? fmt::format("{:+.1f}", d["peak_rss_bytes"].get<double>() / 1e6) : "");
    }
    const json& total = order["total"];
    out += fmt::format("\nTotal: top-1 {:+.2f} points, p50 {:.3f}x, file {:.3f}x.\n",
                       total["top1_points"].get<double>(), total["latency_p50_ratio"].get<double>(),
                       total["file_ratio"].get<double>());
  }
  return out;
}

void run_ablate(AblateOptions options) {
  check_steps(options.steps);
  EP_CHECK(!options.data.empty(), "ablate needs --data DIR (a labeled dataset)");
  const bool calibration_given = !options.calibration.empty();
  if (!calibration_given) options.calibration = options.data;
  if (options.work_dir.empty()) {
    options.work_dir =
        (fs::temp_directory_path() / fmt::format("edgeperf-ablate-{}", ::getpid())).string();
  }
  fs::create_directories(options.work_dir);
  const graph::Graph dense = onnx_io::load_model(options.model);
  const fs::path baseline_path = fs::path(options.work_dir) / "baseline.onnx";
  onnx_io::save_model(dense, baseline_path);
  fmt::print("ablate {}: baseline\n", options.model);
  const json baseline = measure_stage(baseline_path, "baseline", options);
  std::vector<std::string> reverse(options.steps.rbegin(), options.steps.rend());
  json report = {
      {"schema", "edgeperf.ablate/1"},
      {"model", options.model},
      {"data", options.data},
      {"calibration", calibration_given
                          ? options.calibration
                          : options.calibration + " (the evaluation data: no --calib given)"},
      {"runs", options.runs},
      {"threads", options.session.threads},
      {"prune_sparsity", kPruneSparsity}};
  report["orders"] = json::array({run_order(dense, options.steps, baseline, "forward", options),
                                  run_order(dense, reverse, baseline, "reverse", options)});
  const json& forward = report["orders"][0]["total"];
  const json& backward = report["orders"][1]["total"];
  report["order_difference"] = {
      {"top1_points", forward["top1_points"].get<double>() - backward["top1_points"].get<double>()},
      {"latency_p50_ratio",
       forward["latency_p50_ratio"].get<double>() / backward["latency_p50_ratio"].get<double>()},
      {"file_ratio", forward["file_ratio"].get<double>() / backward["file_ratio"].get<double>()}};
  const std::string text = markdown(report);
  fmt::print("\n{}", text);
  if (!options.json_path.empty()) write_file_atomic(options.json_path, report.dump(2) + "\n");
  if (!options.markdown_path.empty()) write_file_atomic(options.markdown_path, text);
}

}  // namespace

void add_ablate_command(CLI::App& app) {
  auto options = std::make_shared<AblateOptions>();
  CLI::App* command = app.add_subcommand(
      "ablate", "Apply optimization steps in both orders and measure what each step changes");
  command->add_option("model", options->model, "ONNX model file")->required();
  command->add_option("--steps", options->steps, "Steps in order: quantize,prune,fuse")
      ->delimiter(',')
      ->required();
  command
      ->add_option("--data", options->data,
                   "Labeled dataset: DIR with inputs.npy + labels.npy, or PREFIX")
      ->required();
  command->add_option("--calib", options->calibration,
                      "Calibration samples for quantize (default: the --data inputs)");
  command->add_option("--runs", options->runs, "Timed queries per stage")
      ->check(CLI::Range(1, 1000000));
  add_session_flags(
      *command, options->session,
      {.min_threads = 0, .backend = false, .sparse = false, .onednn_kernels_only = false});
  command->add_option("--work-dir", options->work_dir, "Where the stage models are written");
  command->add_option("--json", options->json_path, "Write the JSON report (edgeperf.ablate/1)");
  command->add_option("--md", options->markdown_path, "Write the Markdown report");
  command->callback([options] { run_ablate(*options); });
}

}  // namespace edgeperf::cli
