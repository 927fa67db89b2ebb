#pragma once
// Benchmarks one model file: every number here is measured in this process.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/bench/probes.h"
#include "edgeperf/bench/runner.h"
#include "edgeperf/bench/scenarios.h"
#include "edgeperf/bench/stats.h"
#include "edgeperf/eval/metrics.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::bench {

struct ModelBenchOptions {
  RunConfig run;
  runtime::SessionOptions session;  // threads, backend, sparse kernels, own int8 kernels
  std::vector<std::int64_t> batches = {1};
  std::optional<std::filesystem::path> data;             // labeled dataset (eval::load_dataset)
  std::optional<std::filesystem::path> reference_model;  // fidelity when no labels
  std::uint64_t seed = 0;
  std::string label;                       // display name; defaults to the file stem
  std::optional<ScenarioConfig> scenario;  // a LoadGen-style scenario run after the latency runs
  // Inputs to run on (--input NAME=FILE.npy); the others get seeded random data. They fix
  // their inputs' shapes, so they cannot be combined with a batch sweep.
  std::map<std::string, Tensor> inputs;
  // Per-node profile (and the Chrome trace of the profiled runs), measured after the
  // latency runs so that they are not slowed by it.
  bool profile = false;
  // Profiled runs; 0: run.runs (under --rounds, run.runs is one round's share).
  std::size_t profile_runs = 0;
  // Pin the session's threads, thread i to pin_cores[i] (empty: the OS places them).
  std::vector<int> pin_cores;
  // Where energy, power, thermal and frequency sensors are read (a fake tree in tests).
  MachinePaths machine;
  bool trace = false;
  // Set when this process takes turns with others (bench_models_in_turns): hands the CPU
  // on, and returns when this process's turn comes again. It is called between timed
  // queries once a turn has timed turn_ms of them; every later turn then starts with
  // rewarm_ms of untimed queries (at least one), which refill the caches the other
  // processes used and outlast the OpenMP threads they left spinning (edgeperf sets
  // KMP_BLOCKTIME to 5 ms unless the user set it; a longer one defeats this).
  std::function<void()> yield_turn;
  double turn_ms = 50;
  double rewarm_ms = 10;
};

struct BatchResult {
  std::int64_t batch = 1;
  Measurement measurement;
  Summary latency;  // per query, ms
};

struct EnergyResult {
  // "rapl:...", "hwmon:..." (energy counters), "ina3221:...", "pi5-pmic:...",
  // "hwmon-power:..." (power sensors, sampled and integrated) or "unavailable".
  std::string method = "unavailable";
  std::optional<double> joules_per_inference;
  std::optional<double> mean_watts;  // power sensors only
  std::string note;                  // how it was measured, or why it was not
};

struct ModelResult {
  std::string label, path, backend;
  int threads = 0;                // as requested
  int threads_used = 0;           // by the first shape's plan (SessionOptions::tune_threads)
  std::string thread_choice;      // why threads_used
  std::string layout;             // the first shape's plan's activation layout (tune_layout)
  std::string layout_choice;      // why that layout
  // Runs (warm-up included) the last batch's plan made on its one-thread standby while
  // contention held its wide plan back (runtime::ContentionStats); empty when its runs
  // were not watched.
  std::string contention;
  std::vector<int> pinned_cores;  // thread i ran on pinned_cores[i]; empty when not pinned
  std::map<std::string, Shape> input_shapes;  // as measured (batch sweeps change the first dim)
  std::vector<std::string> shape_notes;       // dims that took a default, e.g. the batch

  std::size_t file_bytes = 0, weight_bytes = 0;
  std::int64_t parameters = 0, macs = 0;
  double load_ms = 0, first_run_ms = 0;
  std::vector<BatchResult> batches;  // the first is the steady-state reference
  std::size_t peak_rss_bytes = 0, arena_bytes = 0;
  // RSS of the measuring process before the model is loaded (the runtime itself); the
  // model's own cost is peak_rss_bytes - baseline_rss_bytes.
  std::size_t baseline_rss_bytes = 0;
  EnergyResult energy;
  std::optional<double> temperature_before_c, temperature_after_c;
  bool throttled = false;
  bool noisy = false;  // CV above 10% or throttling seen
  std::optional<eval::Accuracy> accuracy;
  std::optional<eval::Fidelity> fidelity;
  std::optional<ScenarioResult> scenario;
  std::optional<nlohmann::json> profile;  // bench::to_json(Profile)
  std::optional<nlohmann::json> trace;    // Chrome trace events
  std::size_t rounds = 1;                 // processes whose latencies are pooled here
  // Where this model's process came in each round's order (0: first), under --rounds.
  std::vector<std::size_t> round_positions;
  // Turns its timed queries took, all rounds and batch sizes together, when it took turns
  // with other processes (--interleave); 0 when it ran alone.
  std::size_t turns = 0;
};

ModelResult bench_model(const std::filesystem::path& model, const ModelBenchOptions& options,
                        const ProgressFn& progress = {});

// bench_model in a child process of its own, so that peak RSS and load time do not
// depend on the models measured before. The caller must not have started OpenMP
// threads (the child forks from it). Errors come back as the child's one-line error.
ModelResult bench_model_isolated(const std::filesystem::path& model,
                                 const ModelBenchOptions& options, const ProgressFn& progress = {});

// One model to measure in a process of its own, taking turns with others.
struct TurnJob {
  std::filesystem::path model;
  ModelBenchOptions options;
};

// bench_model for every job, each in a process of its own, all alive at once but taking
// turns: one runs at a time, for options.turn_ms of timed queries, then hands the CPU to
// the next (round robin, in the order given). A slow stretch of the machine then hits
// every job alike instead of whichever was measuring during it. Loading and what follows
// the timed queries (profile, accuracy, scenario) happen within a job's own turns, and
// energy is not measured (its counters see every process). Each job stops after its own
// runs (or --max-secs), so a job that needs longer goes on alone at the end, still in
// turns. A single job is measured alone (bench_model_isolated). `progress` is called with
// (jobs finished, jobs). Needs the memory of all jobs at once; the caller must not have
// started OpenMP threads. Throws the first failing job's error.
std::vector<ModelResult> bench_models_in_turns(const std::vector<TurnJob>& jobs,
                                               const ProgressFn& progress = {});

// Rounds of one configuration, each measured in a process of its own, as one result. The
// latencies are pooled, so one slow stretch of time or one unlucky process weighs 1/R of it
// instead of all of it. Peak RSS and arena are the largest of the rounds (each taken on its
// own), load and first-run times their median, throttling as seen by any, and `noisy` from
// the pooled latencies' spread (or throttling). Energy is the first round's measurement (of
// its share of the runs); accuracy, fidelity, profile, trace and scenario come from the
// first round, the only one asked for them.
// Throws Error on no rounds or rounds of different batch sweeps.
ModelResult merge_rounds(std::vector<ModelResult> rounds);

}  // namespace edgeperf::bench
