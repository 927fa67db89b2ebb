// edgeperf tinyperf --task kws|vww|ad|ic MODEL [--data DIR]: TinyMLPerf-style compliance.
#include <fmt/format.h>

#include "edgeperf/bench/tinyperf.h"
#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/session_flags.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/onnx/onnx_io.h"

namespace edgeperf::cli {
namespace {

struct TinyperfOptions {
  std::string task, model, data, json, markdown;
  runtime::SessionOptions session;
  std::size_t runs = 200;
};

void run_tinyperf(const TinyperfOptions& options) {
  const bench::TinyTask& task = bench::find_tiny_task(options.task);
  const graph::Graph graph = onnx_io::load_model(options.model);
  EP_CHECK(!graph.inputs.empty(), "model '{}' has no inputs", options.model);
  bench::check_task_input(task, graph.inputs.front().resolved_shape(), options.model);
  bench::ModelBenchOptions bench_options;
  bench_options.run.runs = options.runs;
  bench_options.session = options.session;
  if (!options.data.empty()) bench_options.data = options.data;
  const bench::ModelResult result = bench::bench_model(options.model, bench_options);
  const nlohmann::json verdict = bench::judge_tiny_task(task, result);
  const std::string markdown = bench::render_tiny_markdown(verdict);
  fmt::print("{}", markdown);
  if (!options.json.empty()) write_file_atomic(options.json, verdict.dump(2) + "\n");
  if (!options.markdown.empty()) write_file_atomic(options.markdown, markdown);
}

}  // namespace

void add_tinyperf_command(CLI::App& app) {
  auto options = std::make_shared<TinyperfOptions>();
  CLI::App* command = app.add_subcommand("tinyperf", "TinyMLPerf-style task compliance (accuracy and p90 latency targets)");
  command->add_option("--task", options->task, "kws | vww | ad | ic")->required();
  command->add_option("model", options->model, "ONNX model")->required();
  command->add_option("--data", options->data, "Labeled dataset (accuracy is 'not measured' without it)");
  add_session_flags(*command, options->session,
                    {.backend = false, .sparse = false, .onednn_kernels_only = false});
  command->add_option("--runs", options->runs, "Timed single-stream runs")->check(CLI::Range(1, 10000000));
  command->add_option("--json", options->json, "Write the compliance report as JSON");
  command->add_option("--md", options->markdown, "Write the compliance report as Markdown");
  command->callback([options] { run_tinyperf(*options); });
}

}  // namespace edgeperf::cli
