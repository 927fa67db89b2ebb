// edgeperf bench MODEL [MODEL ...]: measured latency, throughput, memory, startup,
// energy and accuracy, compared across models, reported as JSON, Markdown and CSV.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "edgeperf/bench/profile.h"
#include "edgeperf/bench/report.h"
#include "edgeperf/bench/runner.h"
#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/session_flags.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/eval/dataset.h"

namespace edgeperf::cli {
namespace {

namespace fs = std::filesystem;

struct BenchCommandOptions {
  std::vector<std::string> models;
  bench::RunConfig run;
  std::size_t rounds = 1;
  bool interleave = false;
  std::vector<int> threads;
  std::vector<int> pin_cores;
  std::vector<std::int64_t> batches = {1};
  runtime::SessionOptions session;  // threads come from `threads`, one run per count
  std::vector<std::string> inputs;  // NAME=FILE.npy
  bool profile = false;
  std::string trace;
  std::string data, reference;
  std::string json, markdown, csv, html;
  std::uint64_t seed = 0;
  std::string scenario;
  double qps = -1;
  double latency_bound_ms = 0;
  std::vector<std::string> events;
  std::vector<std::string> args;
};

// Fails before any measurement when an output cannot be written.
void check_writable(const std::string& path, const std::string& option) {
  if (path.empty()) return;
  const fs::path parent =
      fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  EP_CHECK(fs::is_directory(parent), "{} '{}': directory '{}' does not exist", option, path,
           parent.string());
  EP_CHECK(::access(parent.c_str(), W_OK) == 0, "{} '{}': directory '{}' is not writable", option,
           path, parent.string());
  EP_CHECK(!fs::is_directory(path), "{} '{}' is a directory", option, path);
}

// A progress bar on a TTY for runs longer than 2 s; silent otherwise.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label)
      : label_(std::move(label)), tty_(::isatty(STDOUT_FILENO) == 1) {}
  ~ProgressBar() {
    if (drawn_) fmt::print("\r{:80}\r", "");
    std::fflush(stdout);
  }
  void operator()(std::size_t done, std::size_t total) {
    if (!tty_) return;
    const double elapsed = stopwatch_.elapsed_seconds();
    if (elapsed < 2.0) return;
    const double fraction =
        total ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 0;
    const int filled = static_cast<int>(fraction * 30);
    fmt::print("\r{:24.24} [{}{}] {}/{} {:.0f}s", label_, std::string(filled, '#'),
               std::string(30 - filled, '.'), done, total, elapsed);
    std::fflush(stdout);
    drawn_ = true;
  }

 private:
  std::string label_;
  bool tty_;
  bool drawn_ = false;
  bench::Stopwatch stopwatch_;
};

void print_table(const nlohmann::json& report) {
  fmt::print("{:<24} {:>7} {:>5} {:>9} {:>9} {:>9} {:>6} {:>10} {:>9} {:>8} {:>10}\n", "model",
             "threads", "batch", "p50 ms", "p90 ms", "p99 ms", "CV", "inf/s", "load ms", "RSS MB",
             "top-1");
  for (const auto& m : report["models"]) {
    for (const auto& b : m["batches"]) {
      const auto& l = b["latency_ms"];
      fmt::print(
          "{:<24} {:>7} {:>5} {:>9.3f} {:>9.3f} {:>9.3f} {:>5.1f}% {:>10.1f} {:>9.1f} {:>8.1f} "
          "{:>10}{}\n",
          m["label"].get<std::string>(), m["threads"].get<int>(), b["batch"].get<int>(),
          l["p50"].get<double>(), l["p90"].get<double>(), l["p99"].get<double>(),
          l["cv"].get<double>() * 100, b["throughput_inferences_per_s"].get<double>(),
          m["load_ms"].get<double>(), m["peak_rss_bytes"].get<double>() / 1e6,
          m["accuracy"].is_null()
              ? "-"
              : fmt::format("{:.2f}%", m["accuracy"]["top1"].get<double>() * 100),
          m["noisy"].get<bool>() ? "  (noisy)" : "");
    }
  }
  for (const auto& m : report["models"]) {
    if (m["threads"].get<int>() > 1 && m.contains("thread_choice") &&
        !m["thread_choice"].get<std::string>().empty()) {
      fmt::print("{}: threads: {}\n", m["label"].get<std::string>(),
                 m["thread_choice"].get<std::string>());
    }
    if (m.contains("layout_choice") && m["layout_choice"].get<std::string>() != "as built") {
      fmt::print("{}: layout: {}\n", m["label"].get<std::string>(),
                 m["layout_choice"].get<std::string>());
    }
  }
  fmt::print("energy: {}; harness overhead {:.1f} ns/iteration\n",
             report["system"]["energy_method"].get<std::string>(),
             report["harness_overhead_ns_per_iteration"].get<double>());
}

// One Chrome trace for every model benchmarked: each model is a process of its own.
nlohmann::json merged_trace(const std::vector<bench::ModelResult>& models) {
  nlohmann::json events = nlohmann::json::array();
  int pid = 0;
  for (const bench::ModelResult& model : models) {
    ++pid;
    if (!model.trace) continue;
    for (nlohmann::json event : (*model.trace)["traceEvents"]) {
      event["pid"] = pid;
      if (event["name"] == "process_name") {
        event["args"]["name"] = fmt::format("{} ({} threads)", model.label, model.threads);
      }
      events.push_back(std::move(event));
    }
  }
  return nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ms"}};
}

// The runs of round `round` of `rounds`: `runs` split as evenly as can be, at least one.
std::size_t runs_in_round(std::size_t runs, std::size_t rounds, std::size_t round) {
  return std::max<std::size_t>(1, runs / rounds + (round < runs % rounds ? 1 : 0));
}

// The options of one configuration in round `round`. A round times its share of the runs;
// only the first profiles (all --runs of them), traces, evaluates accuracy and runs the
// scenario.
bench::ModelBenchOptions model_options_for(const BenchCommandOptions& options, int threads,
                                           std::size_t round,
                                           const std::map<std::string, Tensor>& given_inputs,
                                           const std::optional<bench::ScenarioConfig>& scenario) {
  bench::ModelBenchOptions model_options;
  model_options.run = options.run;
  const auto rounds = static_cast<double>(options.rounds);
  model_options.run.runs = runs_in_round(options.run.runs, options.rounds, round);
  model_options.run.min_seconds = options.run.min_seconds / rounds;
  model_options.run.max_seconds = options.run.max_seconds / rounds;
  model_options.run.warmup_seconds = options.run.warmup_seconds;
  model_options.session = options.session;
  model_options.session.threads = threads;
  model_options.pin_cores = options.pin_cores;
  model_options.batches = options.batches;
  model_options.seed = options.seed;
  model_options.inputs = given_inputs;
  if (round > 0) return model_options;
  model_options.profile = options.profile;
  model_options.profile_runs = options.run.runs;
  model_options.trace = !options.trace.empty();
  model_options.scenario = scenario;
  if (!options.data.empty()) model_options.data = options.data;
  if (!options.reference.empty()) model_options.reference_model = options.reference;
  return model_options;
}

void run_bench(const BenchCommandOptions& options) {
  check_writable(options.json, "--json");
  check_writable(options.markdown, "--md");
  check_writable(options.csv, "--csv");
  check_writable(options.html, "--html");
  check_writable(options.trace, "--trace");
  if (!options.data.empty() && !eval::is_image_folder(options.data)) {
    // Fails early on a bad dataset.
    with_error_context("--data", [&] { return eval::load_dataset(options.data); });
  }
  std::optional<bench::ScenarioConfig> scenario;
  EP_CHECK(options.qps == -1 || options.qps > 0, "--qps must be greater than 0, got {}",
           options.qps);
  if (!options.scenario.empty()) {
    scenario = bench::ScenarioConfig{bench::parse_scenario(options.scenario),
                                     options.run.runs,
                                     options.run.max_seconds,
                                     std::max(options.qps, 0.0),
                                     options.latency_bound_ms,
                                     options.seed + 1};
    EP_CHECK(scenario->scenario != bench::Scenario::server || options.qps > 0,
             "--scenario server needs --qps greater than 0");
  }
  for (const std::string& model : options.models) {
    EP_CHECK(fs::is_regular_file(model), "model '{}' does not exist", model);
  }
  const std::map<std::string, Tensor> given_inputs = load_input_files(options.inputs);
  bench::ReportInputs inputs;
  if (!options.events.empty()) {
    inputs.events.clear();
    for (const std::string& event : options.events)
      inputs.events.push_back(bench::parse_event(event));
  }
  inputs.system = bench::collect_system_info();
  inputs.system.measured_ghz = bench::measure_cpu_ghz();
  inputs.harness_overhead_ns = bench::harness_overhead_ns();
  for (const std::string& arg : options.args)
    inputs.command_line += (inputs.command_line.empty() ? "" : " ") + arg;
  const std::vector<int> thread_counts =
      options.threads.empty() ? std::vector<int>{0} : options.threads;
  struct Config {
    std::string model;
    int threads;
  };
  std::vector<Config> configs;
  for (const std::string& model : options.models) {
    for (int threads : thread_counts) configs.push_back({model, threads});
  }
  // Round r measures every configuration once, each in a process of its own, in the
  // given order in even rounds and reversed in odd ones: on these machines the processes
  // late in a round measured a few percent slower than the early ones, and alternating
  // gives every configuration the same mean position over each pair of rounds. With
  // --interleave, a round's processes are alive at once and take turns in that order.
  std::vector<std::vector<bench::ModelResult>> rounds(configs.size());
  for (std::size_t r = 0; r < options.rounds; ++r) {
    const std::string round_text =
        options.rounds > 1 ? fmt::format("round {}/{}", r + 1, options.rounds) : "";
    std::vector<std::size_t> order;
    std::vector<bench::TurnJob> jobs;
    for (std::size_t position = 0; position < configs.size(); ++position) {
      const std::size_t c = r % 2 == 0 ? position : configs.size() - 1 - position;
      bench::ModelBenchOptions model_options =
          model_options_for(options, configs[c].threads, r, given_inputs, scenario);
      model_options.label =
          fs::path(configs[c].model).stem().string() +
          (thread_counts.size() > 1 ? fmt::format("@{}t", configs[c].threads) : "");
      order.push_back(c);
      if (options.interleave) {
        jobs.push_back({configs[c].model, std::move(model_options)});
        continue;
      }
      ProgressBar progress(model_options.label + (round_text.empty() ? "" : " " + round_text));
      rounds[c].push_back(
          bench::bench_model_isolated(configs[c].model, model_options, std::ref(progress)));
    }
    if (options.interleave) {
      ProgressBar progress("interleaved" + (round_text.empty() ? "" : " " + round_text));
      std::vector<bench::ModelResult> results =
          bench::bench_models_in_turns(jobs, std::ref(progress));
      for (std::size_t position = 0; position < order.size(); ++position)
        rounds[order[position]].push_back(std::move(results[position]));
    }
    for (std::size_t position = 0; position < order.size(); ++position)
      rounds[order[position]].back().round_positions = {position};
  }
  for (auto& measured : rounds) inputs.models.push_back(bench::merge_rounds(std::move(measured)));
  const nlohmann::json report = bench::build_report(inputs);
  print_table(report);
  for (const auto& model : report["models"]) {
    if (!model.contains("profile")) continue;
    fmt::print("\nprofile of {} ({} threads), slowest first:\n{}",
               model["label"].get<std::string>(), model["threads"].get<int>(),
               bench::render_profile_table(model["profile"], 20));
  }
  if (!options.trace.empty())
    write_file_atomic(options.trace, merged_trace(inputs.models).dump() + "\n");
  if (!options.json.empty()) write_file_atomic(options.json, report.dump(2) + "\n");
  if (!options.markdown.empty())
    write_file_atomic(options.markdown, bench::render_markdown(report));
  if (!options.csv.empty()) write_file_atomic(options.csv, bench::render_csv(report));
  if (!options.html.empty()) write_file_atomic(options.html, bench::render_html(report));
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "bench",
      "Benchmark models: latency distribution, throughput, memory, startup, energy, accuracy");
  command
      ->add_option("models", options->models,
                   "ONNX model files (the first is the comparison baseline)")
      ->required();
  command
      ->add_option(
          "--runs", options->run.runs,
          "Timed queries (at least; with --rounds, split among the rounds, at least one each)")
      ->check(CLI::Range(1, 100000000));
  command
      ->add_option("--rounds", options->rounds,
                   "Measure each model this many times, in turn, each in a process of its own, "
                   "and pool the latencies (--runs, --min-secs and --max-secs are totals)")
      ->check(CLI::Range(1, 1000));
  command->add_flag(
      "--interleave", options->interleave,
      "The processes of a round are alive at once and take turns: one runs at a time, for "
      "about 50 ms of timed queries after at least 10 ms of untimed ones, so a slow stretch "
      "of the machine hits every model still running alike (needs the memory of all of "
      "them at once; energy is not measured)");
  command->add_option("--min-secs", options->run.min_seconds, "Keep timing at least this long")
      ->check(CLI::Range(0.0, 86400.0));
  command->add_option("--max-secs", options->run.max_seconds, "Stop timing after this long")
      ->check(CLI::Range(0.001, 86400.0));
  command->add_option("--warmup", options->run.warmup_runs, "Warm-up queries")
      ->check(CLI::Range(0, 1000000));
  command
      ->add_option(
          "--warmup-secs", options->run.warmup_seconds,
          "Adaptive warm-up: until successive 10-query windows agree within 5%, at most this long")
      ->check(CLI::Range(0.0, 3600.0));
  command
      ->add_option("--threads", options->threads,
                   "Thread counts, e.g. 1,2 (default: physical cores)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  command->add_option("--batch", options->batches, "Batch sizes, e.g. 1,8")
      ->delimiter(',')
      ->check(CLI::Range(1, 65536));
  command
      ->add_option("--pin-cores", options->pin_cores,
                   "Pin thread i to the i-th CPU listed, e.g. 4,5,6,7 (a Pi's cores, or one "
                   "big.LITTLE cluster: see `edgeperf sysinfo`); one CPU per thread")
      ->delimiter(',')
      ->check(CLI::Range(0, 4095));
  add_session_flags(*command, options->session, {.threads = false});
  command->add_option("--input", options->inputs,
                      "NAME=FILE.npy (repeatable): run on these inputs; the others get seeded "
                      "random data");
  command->add_option("--data", options->data,
                      "Labeled dataset: DIR with inputs.npy + labels.npy, "
                      "PREFIX_{inputs,labels}.npy, or an image folder DIR/<class>/<image>");
  command->add_option("--reference", options->reference,
                      "Reference model for fidelity when there are no labels");
  add_seed_flag(*command, options->seed);
  command->add_option("--scenario", options->scenario,
                      "single-stream | multi-stream | server | offline");
  command->add_option("--qps", options->qps, "Server scenario: Poisson arrival rate (queries/s)");
  command
      ->add_option("--latency-bound-ms", options->latency_bound_ms,
                   "Server scenario: find the highest QPS whose p99 stays within this bound")
      ->check(CLI::Range(0.0, 1e9));
  command->add_option(
      "--event", options->events,
      "Olympic events to rank (default: all): latency-sprint, memory-challenge, accuracy-contest, "
      "all-around, extreme-push; NAME:min_acc=85,max_ms=100,max_mb=10 overrides constraints");
  command->add_flag("--profile", options->profile,
                    "Per-node profile: time, share, MACs, GMAC/s and % of peak of every step "
                    "(measured after the latency runs)");
  command->add_option("--trace", options->trace,
                      "Write a Chrome trace (Perfetto, chrome://tracing) of the profiled runs");
  command->add_option("--json", options->json, "Write the JSON report (schema edgeperf.bench/1)");
  command->add_option("--md", options->markdown, "Write a Markdown report");
  command->add_option("--csv", options->csv, "Write a CSV table");
  command->add_option("--html", options->html, "Write a self-contained HTML report with charts");
  command->callback([options] {
    options->args = {"edgeperf", "bench"};
    for (const auto& model : options->models) options->args.push_back(model);
    run_bench(*options);
  });
}

}  // namespace edgeperf::cli
