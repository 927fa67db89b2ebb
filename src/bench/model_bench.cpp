#include "edgeperf/bench/model_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "edgeperf/bench/affinity.h"
#include "edgeperf/bench/power.h"
#include "edgeperf/bench/probes.h"
#include "edgeperf/bench/profile.h"
#include "edgeperf/bench/sysinfo.h"
#include "edgeperf/core/clock.h"
#include "edgeperf/core/process_stats.h"
#include "edgeperf/eval/evaluator.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/runtime/input_shapes.h"
#include "edgeperf/runtime/model_stats.h"

namespace edgeperf::bench {
namespace {

// One query = `repeats` runs of a batch of `batch` samples (a model with a fixed batch
// of 1 serves a multi-sample query by running repeatedly).
class SessionSut final : public SystemUnderTest {
 public:
  SessionSut(runtime::Session& session, std::map<std::string, Tensor> feeds, std::int64_t batch,
             std::int64_t repeats = 1)
      : session_(session), feeds_(std::move(feeds)), batch_(batch), repeats_(repeats) {}
  void process_query() override {
    for (std::int64_t i = 0; i < repeats_; ++i) session_.run(feeds_);
  }
  std::size_t samples_per_query() const override {
    return static_cast<std::size_t>(batch_ * repeats_);
  }

 private:
  runtime::Session& session_;
  std::map<std::string, Tensor> feeds_;
  std::int64_t batch_;
  std::int64_t repeats_;
};

// Hands the CPU on once this turn has timed options.turn_ms of queries (under
// bench_models_in_turns), then re-warms with untimed queries when the turn comes back.
class TurnKeeper {
 public:
  TurnKeeper(const ModelBenchOptions& options, SystemUnderTest& sut)
      : options_(options), sut_(sut) {}

  // The first turn's clock starts with the timed queries, after load and warm-up.
  void start() { turn_.restart(); }
  void between_queries() {
    if (turn_.elapsed_ms() < options_.turn_ms) return;
    options_.yield_turn();
    ++yields_;
    const Stopwatch rewarm;
    do {
      sut_.process_query();
    } while (rewarm.elapsed_ms() < options_.rewarm_ms);
    turn_.restart();
  }
  std::size_t yields() const { return yields_; }

 private:
  const ModelBenchOptions& options_;
  SystemUnderTest& sut_;
  Stopwatch turn_;
  std::size_t yields_ = 0;
};

bool has_dynamic_batch(const runtime::Session& session) {
  const auto& inputs = session.graph().inputs;
  return !inputs.empty() && !inputs.front().dims.empty() &&
         !inputs.front().dims.front().is_static();
}

// The batch of a run at given shapes: the first input's leading dim where the model
// leaves it symbolic, else 1 (the model's own batch is one query).
std::int64_t given_batch(const runtime::Session& session) {
  if (!has_dynamic_batch(session)) return 1;
  const Shape shape = session.inputs().front().resolved_shape();
  return shape.empty() ? 1 : shape.front();
}

// The latency figures come from the runs before these, never from profiled runs.
void profile_model(runtime::Session& session, const std::map<std::string, Tensor>& feeds,
                   const ModelBenchOptions& options, const std::vector<TraceSpan>& spans,
                   ModelResult& result) {
  const ProfiledRuns profiled = profile_runs(
      session, feeds, options.profile_runs > 0 ? options.profile_runs : options.run.runs);
  if (options.profile) result.profile = to_json(profiled.profile);
  if (options.trace) result.trace = chrome_trace(session, profiled.recorder, spans);
}

// The labeled dataset shaped for the model's first input. A .npy dataset is read before
// the RSS reset (`loaded`), so that only the run counts in peak RSS; an image folder is
// decoded here, at the model's input size.
eval::Dataset dataset_for(const runtime::Session& session, const std::filesystem::path& data,
                          std::optional<eval::Dataset> loaded, const std::string& model) {
  EP_CHECK(!session.inputs().empty(), "{}: the model has no inputs", model);
  const graph::ValueInfo& input = session.inputs().front();
  return with_error_context(model, [&] {
    if (loaded) return eval::shaped_for(std::move(*loaded), input, data);
    eval::LoadOptions load;
    load.input = input;
    return eval::load_dataset(data, load);
  });
}

// Joules per inference from a power sensor sampled during the latency runs.
void record_sampled_energy(const PowerProbe& power, const std::optional<SampledEnergy>& sampled,
                           double inferences, EnergyResult& energy) {
  if (!sampled) {
    energy.note = fmt::format(
        "power sensor found, but fewer than 3 readings during the run (sampled every {} ms); "
        "run longer (--runs, --min-secs) to measure energy",
        power.sample_interval().count());
    return;
  }
  energy.joules_per_inference = sampled->joules / inferences;
  energy.mean_watts = sampled->mean_watts();
  energy.note = fmt::format(
      "power integrated over {:.2f} s from {} readings (every {} ms) of {}; includes idle and "
      "background power",
      sampled->seconds, sampled->samples, power.sample_interval().count(), power.coverage());
}

// The Raspberry Pi firmware saw throttling, capping or under-voltage during the run: a
// condition active after it, or one first seen since boot during it.
bool firmware_throttled(const std::optional<ThrottleState>& before,
                        const std::optional<ThrottleState>& after) {
  if (!after) return false;
  if (!after->now.empty()) return true;
  return std::any_of(after->since_boot.begin(), after->since_boot.end(), [&](const std::string& c) {
    return !before || std::find(before->since_boot.begin(), before->since_boot.end(), c) ==
                          before->since_boot.end();
  });
}

std::string describe_contention(const runtime::ContentionStats& stats, std::size_t timed_runs) {
  if (!stats.guarded) return "";
  if (!stats.standby_built) {
    return fmt::format("no contention seen ({} timed runs, warm-up before them)", timed_runs);
  }
  // The guard counts every run of the plan, warm-up included, not only the timed ones.
  return fmt::format(
      "{} runs (warm-up included; {} timed) on the 1-thread standby, {} switches; building it "
      "took {:.0f} ms inside the run that first saw contention",
      stats.single_runs, timed_runs, stats.switches, stats.standby_build_ms);
}

}  // namespace

ModelResult bench_model(const std::filesystem::path& model, const ModelBenchOptions& options,
                        const ProgressFn& progress) {
  ModelResult result;
  result.path = model.string();
  result.label = options.label.empty() ? model.stem().string() : options.label;
  result.backend = runtime::backend_name(options.session.backend);
  EP_CHECK(std::filesystem::is_regular_file(model), "model '{}' does not exist", model.string());
  result.file_bytes = std::filesystem::file_size(model);
  std::optional<eval::Dataset> dataset;
  if (options.data && !eval::is_image_folder(*options.data)) {
    dataset = eval::load_dataset(*options.data);
  }

  reset_peak_rss();
  result.baseline_rss_bytes = current_rss_bytes();
  runtime::SessionOptions session_options = options.session;
  for (const auto& [name, tensor] : options.inputs) {
    const auto [given, inserted] = session_options.input_shapes.emplace(name, tensor.shape());
    EP_CHECK(inserted || given->second == tensor.shape(),
             "--shape {}={} contradicts --input '{}', which has shape {}", name,
             shape_to_string(given->second), name, shape_to_string(tensor.shape()));
  }
  // Given shapes fix the batch too; the sweep then runs once, at the batch they give.
  const bool shapes_given = !session_options.input_shapes.empty();
  EP_CHECK(!shapes_given || options.batches == std::vector<std::int64_t>{1},
           "--shape and --input fix the input shapes, batch included; they cannot be combined "
           "with --batch");
  const Stopwatch load;
  const std::int64_t load_start_ns = monotonic_ns();
  graph::Graph graph = onnx_io::load_model(model);
  const std::int64_t plan_start_ns = monotonic_ns();
  result.shape_notes =
      with_error_context(model.string(), [&] {
        return runtime::require_bound_input_shapes(graph, session_options.input_shapes,
                                                   session_options.symbolic_dim_size);
      }).notes;
  runtime::Session session(std::move(graph), session_options);
  const std::int64_t plan_end_ns = monotonic_ns();
  result.load_ms = load.elapsed_ms();
  result.threads = session.threads();
  if (!session.unbound_inputs()) {
    result.threads_used = session.thread_choice().used;
    result.thread_choice = session.thread_choice().reason;
    result.layout = session.layout_choice().used;
    result.layout_choice = session.layout_choice().reason;
  }
  if (!options.pin_cores.empty()) {
    pin_threads_to_cores(options.pin_cores, session.threads());
    result.pinned_cores.assign(options.pin_cores.begin(),
                               options.pin_cores.begin() + session.threads());
  }
  if (options.data) dataset = dataset_for(session, *options.data, std::move(dataset), result.path);

  // A model whose leading dim is fixed (a detector taking [3, H, W], a classifier exported
  // at batch 8) runs at its own shape: the --batch sweep needs a symbolic batch dim.
  const bool batch_sweeps = !shapes_given && has_dynamic_batch(session);
  EP_CHECK(batch_sweeps || options.batches == std::vector<std::int64_t>{1},
           "{}: --batch needs a model whose first input has a symbolic leading dim; {} has none",
           model.string(), session.inputs().front().to_string());
  const auto feeds_for = [&](std::int64_t batch) {
    return runtime::random_inputs(session, options.seed, batch_sweeps ? batch : 0, options.inputs);
  };
  auto feeds = feeds_for(options.batches.front());
  const Stopwatch first_run;
  const std::int64_t first_run_start_ns = monotonic_ns();
  session.run(feeds);
  result.first_run_ms = first_run.elapsed_ms();
  const std::vector<TraceSpan> session_spans{
      {"load model", load_start_ns, plan_start_ns},
      {"create session and plan", plan_start_ns, plan_end_ns},
      {"first run", first_run_start_ns,
       first_run_start_ns + static_cast<std::int64_t>(result.first_run_ms * 1e6)}};
  for (const graph::ValueInfo& input : session.inputs())
    result.input_shapes[input.name] = input.resolved_shape();

  const runtime::ModelStats stats = runtime::model_stats(session);
  result.parameters = stats.parameters;
  result.weight_bytes = stats.weight_bytes;
  result.macs = stats.macs;

  const MachinePaths& machine = options.machine;
  const EnergyProbe energy(machine.sys);
  const PowerProbe power(machine);
  const bool takes_turns = static_cast<bool>(options.yield_turn);
  if (takes_turns) result.turns = 1;
  result.energy.method = energy.available() ? energy.method() : power.method();
  if (takes_turns) {
    result.energy.method = "unavailable";
    result.energy.note =
        "not measured: other processes ran between this one's turns (--interleave), and "
        "energy counters and power sensors see them all";
  }
  result.temperature_before_c = max_temperature(read_thermal_zones(machine.sys));
  const FrequencyReading frequency_before = read_frequencies(machine.sys);
  const std::optional<ThrottleState> throttle_before = read_throttle_state(machine);
  for (std::int64_t batch : options.batches) {
    EP_CHECK(batch >= 1, "--batch values must be at least 1, got {}", batch);
    const std::int64_t measured_batch = batch_sweeps ? batch : given_batch(session);
    SessionSut sut(session, feeds_for(batch), measured_batch);
    const bool measure_energy = batch == options.batches.front() && !takes_turns;
    std::optional<double> energy_before, energy_after;
    std::optional<PowerSampler> sampler;
    std::optional<SampledEnergy> sampled;
    TimedPhaseHooks hooks;
    // Outlives the hooks, which read it when measure() calls them.
    const bool sample_power = !energy.available() && power.available();
    if (measure_energy) {
      hooks.on_start = [&] {
        energy_before = energy.read_microjoules();
        if (sample_power) sampler.emplace(power);
      };
      hooks.on_end = [&] {
        energy_after = energy.read_microjoules();
        if (sampler) sampled = sampler->stop();
      };
    }
    TurnKeeper turn_keeper(options, sut);
    if (takes_turns) {
      hooks.on_start = [&] { turn_keeper.start(); };
      hooks.between_queries = [&] { turn_keeper.between_queries(); };
    }
    BatchResult batch_result{measured_batch, measure(sut, options.run, progress, hooks), {}};
    if (takes_turns) result.turns += turn_keeper.yields();
    batch_result.latency = summarize(batch_result.measurement.latencies_ms);
    const double inferences = static_cast<double>(batch_result.measurement.latencies_ms.size()) *
                              static_cast<double>(measured_batch);
    if (energy_before && energy_after) {
      result.energy.joules_per_inference =
          energy.delta_microjoules(*energy_before, *energy_after) / 1e6 / inferences;
    }
    if (sampler) record_sampled_energy(power, sampled, inferences, result.energy);
    result.batches.push_back(std::move(batch_result));
  }
  result.contention = describe_contention(session.contention(),
                                          result.batches.back().measurement.latencies_ms.size());
  result.throttled = throttled_between(frequency_before, read_frequencies(machine.sys)) ||
                     firmware_throttled(throttle_before, read_throttle_state(machine));
  result.temperature_after_c = max_temperature(read_thermal_zones(machine.sys));
  const runtime::MemoryPlanInfo memory = session.memory_plan();
  result.arena_bytes = memory.arena_bytes + memory.kernel_workspace_bytes;
  result.noisy = result.throttled || result.batches.front().latency.cv > 0.10;

  if (options.profile || options.trace) {
    profile_model(session, feeds, options, session_spans, result);
  }
  if (options.scenario) {
    result.scenario = run_scenario(*options.scenario, [&](std::size_t samples) {
      const auto count = static_cast<std::int64_t>(samples);
      const bool dynamic = has_dynamic_batch(session);
      const std::int64_t batch = dynamic ? count : 1;
      return std::make_unique<SessionSut>(
          session, runtime::random_inputs(session, options.seed, dynamic ? batch : 0), batch,
          count / batch);
    });
  }
  if (dataset) {
    result.accuracy = eval::accuracy_of(eval::run_dataset(session, *dataset), *dataset);
  } else if (options.reference_model) {
    runtime::Session reference(onnx_io::load_model(*options.reference_model), session_options);
    const auto fidelity_feeds = runtime::random_inputs(session, options.seed + 1,
                                                       batch_sweeps ? options.batches.front() : 0);
    const auto expected = reference.run(fidelity_feeds);
    const auto actual = session.run(fidelity_feeds);
    result.fidelity = eval::compare_outputs(expected.begin()->second, actual.begin()->second);
  }
  result.peak_rss_bytes = peak_rss_bytes();
  return result;
}

}  // namespace edgeperf::bench
