#include "edgeperf/bench/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "edgeperf/bench/stats.h"
#include "edgeperf/core/clock.h"
#include "edgeperf/runtime/model_stats.h"
#include "peak_kernels.h"

namespace edgeperf::bench {
namespace {

using nlohmann::json;
using runtime::ProfileSink;
using runtime::StepInfo;
using runtime::TensorDesc;

std::string describe(const TensorDesc& desc) {
  return fmt::format("{}{}", dtype_name(desc.dtype), shape_to_string(desc.shape));
}

std::vector<std::string> describe_all(const std::vector<TensorDesc>& descs) {
  std::vector<std::string> out;
  for (const TensorDesc& desc : descs) out.push_back(describe(desc));
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 3;
  std::string text;
  for (std::size_t i = 0; i < names.size() && i < kShown; ++i) {
    text += (i ? " + " : "") + names[i];
  }
  if (names.size() > kShown) text += fmt::format(" + {} more", names.size() - kShown);
  return text;
}

// Durations (ms) of one (step, part) over the profiled runs.
using Durations = std::map<std::pair<std::size_t, std::size_t>, std::vector<double>>;

Durations collect_durations(const ProfileRecorder& recorder) {
  Durations durations;
  for (const ProfileRecorder::Event& event : recorder.events()) {
    durations[{event.step, event.part}].push_back(
        static_cast<double>(event.end_ns - event.start_ns) / 1e6);
  }
  return durations;
}

class MacCounter {
 public:
  explicit MacCounter(const runtime::Session& session) : descs_(session.value_descs()) {
    for (const graph::Node& node : session.graph().nodes) nodes_[node.name] = &node;
  }
  std::int64_t operator()(const std::vector<std::string>& names) const {
    std::int64_t macs = 0;
    for (const std::string& name : names) {
      const auto found = nodes_.find(name);
      if (found == nodes_.end()) continue;
      std::vector<TensorDesc> in, out;
      for (const std::string& value : found->second->inputs) in.push_back(desc_of(value));
      for (const std::string& value : found->second->outputs) out.push_back(desc_of(value));
      macs += runtime::node_macs(*found->second, in, out);
    }
    return macs;
  }

 private:
  TensorDesc desc_of(const std::string& name) const {
    const auto found = descs_.find(name);
    return found == descs_.end() ? TensorDesc{DType::f32, {}, false} : found->second;
  }
  const std::map<std::string, TensorDesc>& descs_;
  std::map<std::string, const graph::Node*> nodes_;
};

void fill_timing(ProfileRow& row, const std::vector<double>& durations) {
  if (durations.empty()) return;
  row.mean_ms = std::accumulate(durations.begin(), durations.end(), 0.0) /
                static_cast<double>(durations.size());
  row.p50_ms = summarize(durations).p50;
}

void fill_rate(ProfileRow& row, const PeakEstimate& peak, bool int8) {
  if (row.macs <= 0 || row.mean_ms <= 0) return;
  row.gmacs_per_s = static_cast<double>(row.macs) / (row.mean_ms * 1e6);
  const double peak_gmacs = int8 ? peak.int8_gmacs : peak.f32_gmacs;
  if (peak_gmacs > 0) row.peak_percent = 100.0 * *row.gmacs_per_s / peak_gmacs;
}

bool is_int8(const std::vector<TensorDesc>& inputs) {
  return !inputs.empty() && (inputs[0].dtype == DType::u8 || inputs[0].dtype == DType::i8);
}

ProfileRow step_row(const StepInfo& step, const std::vector<double>& durations,
                    const MacCounter& macs, const PeakEstimate& peak) {
  ProfileRow row;
  row.label = join_names(step.node_names);
  row.nodes = step.node_names;
  row.ops = step.ops;
  row.backend = step.backend;
  row.kind = step.backend == "interpreter" ? "interpreted"
             : step.ops.size() == 1        ? step.ops[0]
                                           : "fused";
  row.implementation = step.implementation.empty() ? step.backend : step.implementation;
  row.inputs = describe_all(step.input_descs);
  row.outputs = describe_all(step.output_descs);
  row.macs = macs(step.node_names);
  fill_timing(row, durations);
  fill_rate(row, peak, is_int8(step.input_descs));
  return row;
}

ProfileRow part_row(const StepInfo& step, const runtime::KernelPart& part,
                    const std::vector<double>& durations, const MacCounter& macs,
                    const PeakEstimate& peak) {
  ProfileRow row;
  for (std::size_t node : part.nodes) {
    row.nodes.push_back(step.node_names.at(node));
    row.ops.push_back(step.ops.at(node));
  }
  const bool reorder = part.kind == "reorder";
  row.label = reorder ? "reorder for " + join_names(row.nodes) : join_names(row.nodes);
  if (row.label.empty()) row.label = part.kind;
  row.backend = step.backend;
  row.kind = part.kind;
  row.implementation = part.implementation;
  if (!reorder) row.macs = macs(row.nodes);
  fill_timing(row, durations);
  fill_rate(row, peak, part.int8);
  return row;
}

}  // namespace

std::vector<double> ProfileRecorder::run_ms() const {
  std::vector<double> out;
  for (std::size_t i = 0; i < run_ends_.size() && i < run_starts_.size(); ++i) {
    out.push_back(static_cast<double>(run_ends_[i] - run_starts_[i]) / 1e6);
  }
  return out;
}

double measure_cpu_ghz() {
  constexpr std::int64_t kIterations = 20'000'000;
  constexpr int kAddsPerIteration = 8;
  double best_ghz = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::uint64_t x = 1;
    // A register the compiler cannot see the value of: recent cores (Intel Golden Cove
    // and later) fold chains of add-immediate at register rename, several per cycle, so
    // the chain adds a register, not a constant.
    std::uint64_t step = 1;
    asm volatile("" : "+r"(step));
    const std::int64_t start = monotonic_ns();
    for (std::int64_t i = 0; i < kIterations; ++i) {
      // Eight dependent adds: one per cycle on every core we target; the barriers keep
      // the compiler from folding them.
      for (int k = 0; k < kAddsPerIteration; ++k) {
        x += step;
        asm volatile("" : "+r"(x));
      }
    }
    const double seconds = static_cast<double>(monotonic_ns() - start) / 1e9;
    best_ghz = std::max(best_ghz, kIterations * kAddsPerIteration / seconds / 1e9);
  }
  return best_ghz;
}

PeakEstimate measure_peak(double ghz, int threads) {
  const MeasuredPeak measured = measure_peak_gmacs(threads);
  PeakEstimate peak;
  peak.ghz = ghz;
  peak.threads = threads;
  peak.f32_gmacs = measured.f32_gmacs;
  peak.int8_gmacs = measured.int8_gmacs;
  peak.formula = fmt::format(
      "measured: a loop of independent {} on {} threads: {:.1f} GMAC/s f32; {}: {:.1f} GMAC/s "
      "int8 ({:.1f} and {:.1f} MACs per cycle per core at the measured {:.2f} GHz)",
      measured.f32_instruction, threads, measured.f32_gmacs, measured.int8_instruction,
      measured.int8_gmacs, peak.per_core_per_cycle(peak.f32_gmacs),
      peak.per_core_per_cycle(peak.int8_gmacs), ghz);
  return peak;
}

Profile summarize_profile(const runtime::Session& session, const ProfileRecorder& recorder,
                          const PeakEstimate& peak) {
  Profile profile;
  profile.peak = peak;
  profile.runs = recorder.runs();
  const std::vector<double> runs = recorder.run_ms();
  if (!runs.empty()) {
    profile.profiled_run_ms =
        std::accumulate(runs.begin(), runs.end(), 0.0) / static_cast<double>(runs.size());
  }
  const Durations durations = collect_durations(recorder);
  const MacCounter macs(session);
  const std::vector<StepInfo> steps = session.steps();
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const auto whole = durations.find({s, ProfileSink::kWholeStep});
    const std::vector<double> step_ms =
        whole == durations.end() ? std::vector<double>{} : whole->second;
    if (steps[s].parts.empty()) {
      profile.rows.push_back(step_row(steps[s], step_ms, macs, peak));
      continue;
    }
    double parts_ms = 0;
    for (std::size_t p = 0; p < steps[s].parts.size(); ++p) {
      const auto found = durations.find({s, p});
      ProfileRow row =
          part_row(steps[s], steps[s].parts[p],
                   found == durations.end() ? std::vector<double>{} : found->second, macs, peak);
      parts_ms += row.mean_ms;
      profile.rows.push_back(std::move(row));
    }
    // Binding and waiting around the region's ops: the step's time not inside any op.
    ProfileRow glue;
    fill_timing(glue, step_ms);
    glue.mean_ms = std::max(0.0, glue.mean_ms - parts_ms);
    glue.p50_ms = glue.mean_ms;
    glue.label = "between ops of " + steps[s].label;
    glue.backend = steps[s].backend;
    glue.kind = "overhead";
    profile.rows.push_back(std::move(glue));
  }
  for (const ProfileRow& row : profile.rows) profile.rows_sum_ms += row.mean_ms;
  for (ProfileRow& row : profile.rows) {
    row.share = profile.rows_sum_ms > 0 ? row.mean_ms / profile.rows_sum_ms : 0;
  }
  std::stable_sort(profile.rows.begin(), profile.rows.end(),
                   [](const ProfileRow& a, const ProfileRow& b) { return a.mean_ms > b.mean_ms; });
  return profile;
}

ProfiledRuns profile_runs(runtime::Session& session, const std::map<std::string, Tensor>& feeds,
                          std::size_t runs) {
  constexpr std::size_t kMinRuns = 10, kMaxRuns = 200;
  runs = std::clamp(runs, kMinRuns, kMaxRuns);
  ProfiledRuns result;
  double plain_total_ms = 0;
  for (std::size_t i = 0; i < runs; ++i) {
    const std::int64_t plain_start = monotonic_ns();
    session.run(feeds);
    plain_total_ms += static_cast<double>(monotonic_ns() - plain_start) / 1e6;
    result.recorder.begin_run(monotonic_ns());
    session.run(feeds, result.recorder);
    result.recorder.end_run(monotonic_ns());
  }
  const PeakEstimate peak = measure_peak(measure_cpu_ghz(), session.thread_choice().used);
  result.profile = summarize_profile(session, result.recorder, peak);
  result.profile.unprofiled_run_ms = plain_total_ms / static_cast<double>(runs);
  return result;
}

json to_json(const Profile& profile) {
  json rows = json::array();
  std::map<std::string, std::pair<double, int>> by_op;
  for (const ProfileRow& row : profile.rows) {
    rows.push_back({{"label", row.label},
                    {"nodes", row.nodes},
                    {"ops", row.ops},
                    {"backend", row.backend},
                    {"kind", row.kind},
                    {"implementation", row.implementation},
                    {"inputs", row.inputs},
                    {"outputs", row.outputs},
                    {"mean_ms", row.mean_ms},
                    {"p50_ms", row.p50_ms},
                    {"share", row.share},
                    {"macs", row.macs},
                    {"gmacs_per_s", row.gmacs_per_s ? json(*row.gmacs_per_s) : json(nullptr)},
                    {"peak_percent", row.peak_percent ? json(*row.peak_percent) : json(nullptr)}});
    // A fused step counts under its anchor op; the interpreted tail under "interpreted".
    const std::string op =
        row.ops.empty() || row.kind == "interpreted" ? row.kind : row.ops.front();
    by_op[op].first += row.mean_ms;
    ++by_op[op].second;
  }
  json grouped = json::array();
  for (const auto& [op, total] : by_op) {
    grouped.push_back({{"op", op},
                       {"mean_ms", total.first},
                       {"rows", total.second},
                       {"share", profile.rows_sum_ms > 0 ? total.first / profile.rows_sum_ms : 0}});
  }
  std::sort(grouped.begin(), grouped.end(), [](const json& a, const json& b) {
    return a["mean_ms"].get<double>() > b["mean_ms"].get<double>();
  });
  json out{
      {"runs", profile.runs},
      {"rows_sum_ms", profile.rows_sum_ms},
      {"profiled_run_mean_ms", profile.profiled_run_ms},
      {"slowest", profile.rows.empty() ? json(nullptr) : json(profile.rows.front().label)},
      {"rows", rows},
      {"by_op_type", grouped},
      {"peak",
       {{"ghz_measured", profile.peak.ghz},
        {"threads", profile.peak.threads},
        {"f32_macs_per_cycle_per_core", profile.peak.per_core_per_cycle(profile.peak.f32_gmacs)},
        {"int8_macs_per_cycle_per_core", profile.peak.per_core_per_cycle(profile.peak.int8_gmacs)},
        {"f32_gmacs_measured", profile.peak.f32_gmacs},
        {"int8_gmacs_measured", profile.peak.int8_gmacs},
        {"formula", profile.peak.formula}}}};
  if (profile.unprofiled_run_ms > 0) {
    out["unprofiled_run_mean_ms"] = profile.unprofiled_run_ms;
    out["overhead_percent"] = 100.0 * (profile.profiled_run_ms / profile.unprofiled_run_ms - 1.0);
  }
  return out;
}

std::string render_profile_table(const json& profile, std::size_t limit) {
  std::string text = fmt::format("{:>9} {:>9} {:>6} {:>8} {:>6}  {:<16} {:<22} {}\n", "mean ms",
                                 "p50 ms", "share", "GMAC/s", "%peak", "kind", "kernel", "nodes");
  std::size_t shown = 0;
  for (const json& row : profile["rows"]) {
    if (limit > 0 && shown++ >= limit) break;
    text += fmt::format(
        "{:>9.3f} {:>9.3f} {:>5.1f}% {:>8} {:>6}  {:<16.16} {:<22.22} {}\n",
        row["mean_ms"].get<double>(), row["p50_ms"].get<double>(), row["share"].get<double>() * 100,
        row["gmacs_per_s"].is_null() ? "-"
                                     : fmt::format("{:.1f}", row["gmacs_per_s"].get<double>()),
        row["peak_percent"].is_null() ? "-"
                                      : fmt::format("{:.0f}%", row["peak_percent"].get<double>()),
        row["kind"].get<std::string>(), row["implementation"].get<std::string>(),
        row["label"].get<std::string>());
  }
  text += "by op type:";
  for (const json& group : profile["by_op_type"]) {
    text += fmt::format(" {} {:.3f} ms ({:.0f}%);", group["op"].get<std::string>(),
                        group["mean_ms"].get<double>(), group["share"].get<double>() * 100);
  }
  text += fmt::format("\nsum of rows {:.3f} ms, profiled run mean {:.3f} ms",
                      profile["rows_sum_ms"].get<double>(),
                      profile["profiled_run_mean_ms"].get<double>());
  if (profile.contains("overhead_percent")) {
    text += fmt::format(", unprofiled {:.3f} ms (profiling overhead {:+.1f}%)",
                        profile["unprofiled_run_mean_ms"].get<double>(),
                        profile["overhead_percent"].get<double>());
  }
  return text + "\n";
}

json chrome_trace(const runtime::Session& session, const ProfileRecorder& recorder,
                  const std::vector<TraceSpan>& spans) {
  std::int64_t origin = recorder.events().empty() ? 0 : recorder.events().front().start_ns;
  for (const TraceSpan& span : spans) origin = std::min(origin, span.start_ns);
  const auto micros = [&](std::int64_t ns) { return static_cast<double>(ns - origin) / 1e3; };
  constexpr int kPid = 1, kSessionTrack = 1, kRunTrack = 2;
  json events = json::array();
  events.push_back({{"name", "process_name"},
                    {"ph", "M"},
                    {"pid", kPid},
                    {"tid", kSessionTrack},
                    {"args", {{"name", "edgeperf " + session.graph().name}}}});
  events.push_back({{"name", "thread_name"},
                    {"ph", "M"},
                    {"pid", kPid},
                    {"tid", kSessionTrack},
                    {"args", {{"name", "session (load, plan, first run)"}}}});
  events.push_back(
      {{"name", "thread_name"},
       {"ph", "M"},
       {"pid", kPid},
       {"tid", kRunTrack},
       {"args", {{"name", fmt::format("inference ({} threads)", session.thread_choice().used)}}}});
  for (const TraceSpan& span : spans) {
    events.push_back({{"name", span.name},
                      {"cat", "session"},
                      {"ph", "X"},
                      {"pid", kPid},
                      {"tid", kSessionTrack},
                      {"ts", micros(span.start_ns)},
                      {"dur", static_cast<double>(span.end_ns - span.start_ns) / 1e3}});
  }
  const std::vector<StepInfo> steps = session.steps();
  for (const ProfileRecorder::Event& event : recorder.events()) {
    if (event.step >= steps.size()) continue;
    const StepInfo& step = steps[event.step];
    std::string name = step.label;
    std::string category = "step";
    if (event.part != ProfileSink::kWholeStep && event.part < step.parts.size()) {
      const runtime::KernelPart& part = step.parts[event.part];
      std::vector<std::string> nodes;
      for (std::size_t node : part.nodes) nodes.push_back(step.node_names.at(node));
      name = fmt::format("{} {}", part.kind, join_names(nodes));
      category = "op";
    }
    events.push_back({{"name", name},
                      {"cat", category},
                      {"ph", "X"},
                      {"pid", kPid},
                      {"tid", kRunTrack},
                      {"ts", micros(event.start_ns)},
                      {"dur", static_cast<double>(event.end_ns - event.start_ns) / 1e3},
                      {"args", {{"step", event.step}, {"backend", step.backend}}}});
  }
  // Viewers want each track's events in time order; a step's parts follow it.
  std::stable_sort(events.begin(), events.end(), [](const json& a, const json& b) {
    const bool a_meta = a["ph"] == "M", b_meta = b["ph"] == "M";
    if (a_meta != b_meta) return a_meta;
    if (a_meta) return false;
    const double a_ts = a["ts"].get<double>(), b_ts = b["ts"].get<double>();
    if (a_ts != b_ts) return a_ts < b_ts;
    return a["dur"].get<double>() > b["dur"].get<double>();  // the enclosing span first
  });
  return json{{"traceEvents", events}, {"displayTimeUnit", "ms"}};
}

}  // namespace edgeperf::bench
