// edgeperf run MODEL: runs a model on given or seeded random inputs, writes the
// outputs as .npy, and optionally times repeated runs.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "edgeperf/bench/profile.h"
#include "edgeperf/bench/runner.h"
#include "edgeperf/bench/stats.h"
#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/session_flags.h"
#include "edgeperf/core/clock.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/core/npy.h"
#include "edgeperf/core/process_stats.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::cli {
namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;  // NAME=FILE.npy
  std::string output_dir;
  runtime::SessionOptions session;
  std::uint64_t seed = 0;
  int repeat = 0;
  int warmup = 10;
  std::string timings_json;
  bool profile = false;
  std::string trace;
};

// `repeat` timed runs after `warmup` untimed ones (none at all when repeat is 0).
std::vector<double> time_repeated_runs(runtime::Session& session,
                                       const std::map<std::string, Tensor>& feeds,
                                       const RunOptions& options) {
  if (options.repeat == 0) return {};
  bench::RunConfig config;
  config.runs = static_cast<std::size_t>(options.repeat);
  config.warmup_runs = static_cast<std::size_t>(options.warmup);
  config.max_seconds = std::numeric_limits<double>::infinity();  // exactly `repeat` runs
  return bench::measure([&] { session.run(feeds); }, config).latencies_ms;
}

// Counts NaN and Inf values; they are run and reported, not rejected.
void warn_non_finite(const std::string& what, const std::string& name, const Tensor& tensor) {
  if (tensor.dtype() != DType::f32) return;
  std::size_t nans = 0, infs = 0;
  for (float value : tensor.values<float>()) {
    nans += std::isnan(value);
    infs += std::isinf(value);
  }
  if (nans + infs > 0) {
    fmt::print(stderr, "edgeperf: warning: {} '{}' holds {} NaN and {} Inf values\n", what, name,
               nans, infs);
  }
}

std::string output_file_name(const std::string& name) {
  std::string safe = name;
  std::replace_if(
      safe.begin(), safe.end(), [](char c) { return c == '/' || c == '\\'; }, '_');
  if (safe.empty() || safe == "." || safe == "..") safe = "output";
  return safe + ".npy";
}

void run(const RunOptions& options) {
  std::map<std::string, Tensor> feeds = load_input_files(options.inputs);
  const std::int64_t load_start_ns = monotonic_ns();
  graph::Graph graph = onnx_io::load_model(options.model);
  shape_audio_features(options.inputs, graph, feeds);
  runtime::SessionOptions session_options = options.session;
  for (const auto& [name, tensor] : feeds) {
    const auto [given, inserted] = session_options.input_shapes.emplace(name, tensor.shape());
    EP_CHECK(inserted || given->second == tensor.shape(),
             "--shape {}={} contradicts --input '{}', which has shape {}", name,
             shape_to_string(given->second), name, shape_to_string(tensor.shape()));
  }
  const std::int64_t plan_start_ns = monotonic_ns();
  runtime::Session session(std::move(graph), session_options);
  const std::int64_t plan_end_ns = monotonic_ns();
  const double load_ms = static_cast<double>(plan_end_ns - load_start_ns) / 1e6;

  feeds = runtime::random_inputs(session, options.seed, 0, feeds);
  for (const auto& [name, tensor] : feeds) warn_non_finite("input", name, tensor);

  const std::int64_t first_run_start_ns = monotonic_ns();
  std::map<std::string, Tensor> outputs = session.run(feeds);
  const std::int64_t first_run_end_ns = monotonic_ns();
  const double first_run_ms = static_cast<double>(first_run_end_ns - first_run_start_ns) / 1e6;
  const std::vector<double> latencies = time_repeated_runs(session, feeds, options);
  if (options.profile || !options.trace.empty()) {
    const bench::ProfiledRuns profiled =
        bench::profile_runs(session, feeds, static_cast<std::size_t>(options.repeat));
    if (options.profile) {
      fmt::print("profile over {} runs, slowest first:\n{}", profiled.profile.runs,
                 bench::render_profile_table(bench::to_json(profiled.profile), 0));
    }
    if (!options.trace.empty()) {
      const std::vector<bench::TraceSpan> spans{
          {"load model", load_start_ns, plan_start_ns},
          {"create session and plan", plan_start_ns, plan_end_ns},
          {"first run", first_run_start_ns, first_run_end_ns}};
      write_file_atomic(options.trace,
                        bench::chrome_trace(session, profiled.recorder, spans).dump() + "\n");
    }
  }

  if (!options.output_dir.empty()) std::filesystem::create_directories(options.output_dir);
  for (const auto& [name, tensor] : outputs) {
    warn_non_finite("output", name, tensor);
    fmt::print("output {} {} {}\n", name, dtype_name(tensor.dtype()),
               shape_to_string(tensor.shape()));
    if (!options.output_dir.empty()) {
      write_npy(std::filesystem::path(options.output_dir) / output_file_name(name), tensor);
    }
  }
  const runtime::MemoryPlanInfo memory = session.memory_plan();
  fmt::print(
      "backend {}, threads {}, load {:.1f} ms, first run {:.2f} ms, arena {:.2f} MB, peak RSS "
      "{:.1f} MB\n",
      runtime::backend_name(options.session.backend), session.threads(), load_ms, first_run_ms,
      static_cast<double>(memory.arena_bytes + memory.kernel_workspace_bytes) / 1e6,
      static_cast<double>(peak_rss_bytes()) / 1e6);
  if (!latencies.empty()) {
    const bench::Summary summary = bench::summarize(latencies);
    fmt::print("latency over {} runs: p50 {:.3f} ms, p90 {:.3f} ms, min {:.3f} ms\n", summary.n,
               summary.p50, summary.p90, summary.min);
  }
  const runtime::ContentionStats contention =
      session.unbound_inputs() ? runtime::ContentionStats{} : session.contention();
  if (contention.standby_built) {
    fmt::print(
        "contention: {} runs on the 1-thread standby, {} switches (building it took {:.0f} ms)\n",
        contention.single_runs, contention.switches, contention.standby_build_ms);
  }
  if (!options.timings_json.empty()) {
    const nlohmann::json timings = {
        {"standby_runs", contention.single_runs},
        {"latencies_ms", latencies},
        {"load_ms", load_ms},
        {"first_run_ms", first_run_ms},
        {"peak_rss_bytes", peak_rss_bytes()},
        {"arena_bytes", memory.arena_bytes + memory.kernel_workspace_bytes},
        {"threads", session.threads()},
        {"backend", runtime::backend_name(options.session.backend)}};
    write_file_atomic(options.timings_json, timings.dump(2) + "\n");
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("run", "Run a model and write its outputs as .npy");
  command->add_option("model", options->model, "ONNX model file")->required();
  command->add_option("--input", options->inputs,
                      "NAME=FILE.npy or NAME=FILE.wav (16 kHz audio as MFCC features, 49x10 per "
                      "second; repeatable); missing inputs get seeded random data");
  command->add_option("--output-dir", options->output_dir,
                      "Write each output as DIR/<output name>.npy");
  add_session_flags(*command, options->session);
  add_seed_flag(*command, options->seed);
  command->add_option("--repeat", options->repeat, "Time this many runs after warm-up")
      ->check(CLI::Range(0, 10000000));
  command->add_option("--warmup", options->warmup, "Warm-up runs before timing")
      ->check(CLI::Range(0, 1000000));
  command->add_flag("--profile", options->profile,
                    "Per-node profile over max(--repeat, 10) runs: time, share, MACs, GMAC/s");
  command->add_option("--trace", options->trace,
                      "Write a Chrome trace (Perfetto, chrome://tracing): load, plan, first run "
                      "and the profiled runs' steps");
  command->add_option("--timings-json", options->timings_json,
                      "Write load/first-run/latency/RSS as JSON");
  command->callback([options] { run(*options); });
}

}  // namespace edgeperf::cli
