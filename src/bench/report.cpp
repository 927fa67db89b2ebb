#include "edgeperf/bench/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace edgeperf::bench {
namespace {

using nlohmann::json;

json summary_json(const Summary& s) {
  return json{{"n", s.n},          {"mean", s.mean},     {"std", s.stddev},      {"median", s.median},
              {"min", s.min},      {"max", s.max},       {"p50", s.p50},         {"p90", s.p90},
              {"p95", s.p95},      {"p99", s.p99},       {"ci95_low", s.ci95_low}, {"ci95_high", s.ci95_high},
              {"cv", s.cv},        {"outliers", s.outliers}};
}

json optional_number(const std::optional<double>& value) {
  return value ? json(*value) : json(nullptr);
}

json accuracy_json(const eval::Accuracy& a) {
  return json{{"samples", a.samples}, {"top1", a.top1},   {"top5", a.top5},
              {"top1_correct", a.top1_correct}, {"top5_correct", a.top5_correct},
              {"per_class", a.per_class}, {"confusion", a.confusion}};
}

json input_shapes_json(const std::map<std::string, Shape>& shapes) {
  json out = json::object();
  for (const auto& [name, shape] : shapes) out[name] = shape;
  return out;
}

json model_json(const ModelResult& m) {
  json batches = json::array();
  for (const BatchResult& b : m.batches) {
    batches.push_back(json{{"batch", b.batch},
                           {"latency_ms", summary_json(b.latency)},
                           {"throughput_inferences_per_s", b.measurement.throughput_sps},
                           {"warmup_runs", b.measurement.warmup_runs_done},
                           {"warmup_stabilized", b.measurement.warmup_stabilized},
                           {"raw_latencies_ms", b.measurement.latencies_ms}});
  }
  json energy{{"method", m.energy.method},
              {"joules_per_inference", optional_number(m.energy.joules_per_inference)}};
  if (m.energy.mean_watts) energy["mean_watts"] = *m.energy.mean_watts;
  if (!m.energy.note.empty()) {
    energy["note"] = m.energy.note;
  } else if (!m.energy.joules_per_inference) {
    energy["note"] =
        "no readable RAPL or hwmon energy counter or power sensor on this machine; not estimated";
  }
  json out = json{
      {"label", m.label},
      {"path", m.path},
      {"backend", m.backend},
      {"threads", m.threads},
      {"threads_used", m.threads_used},
      {"thread_choice", m.thread_choice},
      {"layout", m.layout},
      {"layout_choice", m.layout_choice},
      {"contention", m.contention},
      {"pinned_cores", m.pinned_cores},
      {"input_shapes", input_shapes_json(m.input_shapes)},
      {"shape_notes", m.shape_notes},
      {"file_bytes", m.file_bytes},
      {"weight_bytes", m.weight_bytes},
      {"parameters", m.parameters},
      {"macs", m.macs},
      {"gops", 2.0 * static_cast<double>(m.macs) / 1e9},
      {"load_ms", m.load_ms},
      {"first_inference_ms", m.first_run_ms},
      {"batches", batches},
      {"peak_rss_bytes", m.peak_rss_bytes},
      {"arena_bytes", m.arena_bytes},
      {"baseline_rss_bytes", m.baseline_rss_bytes},
      {"model_rss_bytes",
       m.peak_rss_bytes > m.baseline_rss_bytes ? m.peak_rss_bytes - m.baseline_rss_bytes : 0},
      {"energy", energy},
      {"temperature_c",
       {{"before", optional_number(m.temperature_before_c)},
        {"after", optional_number(m.temperature_after_c)}}},
      {"throttled", m.throttled},
      {"noisy", m.noisy},
      {"rounds", m.rounds},
      {"round_positions", m.round_positions},
      {"turns", m.turns},
      {"accuracy", m.accuracy ? accuracy_json(*m.accuracy) : json(nullptr)},
      {"fidelity",
       m.fidelity ? json{{"top1_agreement", m.fidelity->top1_agreement},
                         {"sqnr_db", std::isinf(m.fidelity->sqnr_db) ? json("inf")
                                                                     : json(m.fidelity->sqnr_db)},
                         {"cosine", m.fidelity->cosine}}
                  : json(nullptr)},
      {"scenario", m.scenario ? json{{"scenario", m.scenario->scenario},
                                     {"metric", m.scenario->metric},
                                     {"value", m.scenario->value},
                                     {"samples_per_query", m.scenario->samples_per_query},
                                     {"achieved_qps", m.scenario->achieved_qps},
                                     {"latency_ms", summary_json(m.scenario->latency)},
                                     {"max_qps_within_bound",
                                      optional_number(m.scenario->max_qps_within_bound)}}
                              : json(nullptr)}};
  if (m.profile) out["profile"] = *m.profile;
  return out;
}

double p50_of(const ModelResult& m) { return m.batches.front().latency.p50; }
std::optional<double> top1_of(const ModelResult& m) {
  return m.accuracy ? std::optional<double>(m.accuracy->top1 * 100) : std::nullopt;
}

// Objectives: lower latency, smaller file, lower energy (when measured), higher accuracy (when measured).
bool dominates(const ModelResult& a, const ModelResult& b) {
  bool strictly_better = false;
  const auto compare = [&](double better_when_lower_a, double better_when_lower_b) {
    if (better_when_lower_a > better_when_lower_b) return false;
    strictly_better = strictly_better || better_when_lower_a < better_when_lower_b;
    return true;
  };
  if (!compare(p50_of(a), p50_of(b))) return false;
  if (!compare(static_cast<double>(a.file_bytes), static_cast<double>(b.file_bytes))) return false;
  if (a.energy.joules_per_inference && b.energy.joules_per_inference &&
      !compare(*a.energy.joules_per_inference, *b.energy.joules_per_inference)) {
    return false;
  }
  if (top1_of(a) && top1_of(b) && !compare(-*top1_of(a), -*top1_of(b))) return false;
  return strictly_better;
}

json recommendation(const std::vector<ModelResult>& models, std::size_t index, const std::string& reason) {
  return json{{"model", models[index].label}, {"reason", reason}};
}

json recommendations(const std::vector<ModelResult>& models) {
  const ModelResult& base = models.front();
  const auto pick = [&](auto key) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < models.size(); ++i) {
      if (key(models[i]) < key(models[best])) best = i;
    }
    return best;
  };
  const bool have_accuracy = std::all_of(models.begin(), models.end(), [](const auto& m) { return m.accuracy.has_value(); });
  // Models that keep at least 99% of the baseline's accuracy (all, when accuracy is unmeasured).
  const auto keeps_accuracy = [&](const ModelResult& m) {
    return !have_accuracy || m.accuracy->top1 >= 0.99 * base.accuracy->top1;
  };
  json out;
  const std::size_t fastest = pick([&](const ModelResult& m) {
    return keeps_accuracy(m) ? p50_of(m) : std::numeric_limits<double>::infinity();
  });
  out["latency_critical"] = recommendation(models, fastest,
      fmt::format("lowest p50 {:.3f} ms ({:.2f}x the baseline's {:.3f} ms){}", p50_of(models[fastest]),
                  p50_of(base) / p50_of(models[fastest]), p50_of(base),
                  have_accuracy ? " among models keeping >= 99% of baseline accuracy" : ""));
  const std::size_t smallest = pick([&](const ModelResult& m) {
    return keeps_accuracy(m) ? static_cast<double>(m.file_bytes) + 1e-3 * static_cast<double>(m.peak_rss_bytes)
                             : std::numeric_limits<double>::infinity();
  });
  out["memory_constrained"] = recommendation(models, smallest,
      fmt::format("smallest file {:.2f} MB ({:.2f}x the baseline), peak RSS {:.1f} MB",
                  static_cast<double>(models[smallest].file_bytes) / 1e6,
                  static_cast<double>(models[smallest].file_bytes) / static_cast<double>(base.file_bytes),
                  static_cast<double>(models[smallest].peak_rss_bytes) / 1e6));
  if (have_accuracy) {
    const std::size_t accurate = pick([](const ModelResult& m) { return -m.accuracy->top1; });
    out["accuracy_preserving"] = recommendation(models, accurate,
        fmt::format("highest top-1 {:.2f}% (baseline {:.2f}%)", models[accurate].accuracy->top1 * 100,
                    base.accuracy->top1 * 100));
  } else {
    out["accuracy_preserving"] = json{{"model", nullptr}, {"reason", "accuracy not measured (no --data)"}};
  }
  // Balanced: geometric mean of latency and size relative to the baseline, among accurate models.
  const std::size_t balanced = pick([&](const ModelResult& m) {
    if (!keeps_accuracy(m)) return std::numeric_limits<double>::infinity();
    return std::sqrt(p50_of(m) / p50_of(base) * static_cast<double>(m.file_bytes) / static_cast<double>(base.file_bytes));
  });
  out["balanced"] = recommendation(models, balanced,
      fmt::format("best geometric mean of latency and size ratios: {:.2f}x latency, {:.2f}x size",
                  p50_of(models[balanced]) / p50_of(base),
                  static_cast<double>(models[balanced].file_bytes) / static_cast<double>(base.file_bytes)));
  return out;
}

json event_rankings(const std::vector<ModelResult>& models, const std::vector<EventSpec>& events) {
  json rankings = json::array();
  for (const EventSpec& event : events) rankings.push_back(rank_event(event, models));
  return rankings;
}

}  // namespace

json compare_models(const std::vector<ModelResult>& models, const std::vector<EventSpec>& events) {
  if (models.size() < 2) return json::object();
  const ModelResult& base = models.front();
  json rows = json::array();
  for (const ModelResult& m : models) {
    const MannWhitney test = mann_whitney_u(base.batches.front().measurement.latencies_ms,
                                            m.batches.front().measurement.latencies_ms);
    json row{{"model", m.label},
             {"speedup_p50", p50_of(base) / p50_of(m)},
             {"mann_whitney_p", test.p_value},
             {"size_ratio", static_cast<double>(m.file_bytes) / static_cast<double>(base.file_bytes)},
             {"memory_ratio", static_cast<double>(m.peak_rss_bytes) / static_cast<double>(std::max<std::size_t>(base.peak_rss_bytes, 1))},
             {"accuracy_retention", nullptr},
             {"accuracy_per_mb", nullptr},
             {"accuracy_per_ms", nullptr}};
    if (m.accuracy && base.accuracy && base.accuracy->top1 > 0) {
      row["accuracy_retention"] = m.accuracy->top1 / base.accuracy->top1;
      row["accuracy_per_mb"] = m.accuracy->top1 * 100 / (static_cast<double>(m.file_bytes) / 1e6);
      row["accuracy_per_ms"] = m.accuracy->top1 * 100 / p50_of(m);
    }
    rows.push_back(row);
  }
  json pareto = json::array(), dominated = json::array();
  for (std::size_t i = 0; i < models.size(); ++i) {
    std::string by;
    for (std::size_t j = 0; j < models.size() && by.empty(); ++j) {
      if (i != j && dominates(models[j], models[i])) by = models[j].label;
    }
    if (by.empty()) {
      pareto.push_back(models[i].label);
    } else {
      dominated.push_back(json{{"model", models[i].label}, {"dominated_by", by}});
    }
  }
  return json{{"baseline", base.label},
              {"rows", rows},
              {"pareto_objectives", "minimize p50 latency, file size, energy (when measured); maximize top-1 (when measured)"},
              {"pareto_frontier", pareto},
              {"dominated", dominated},
              {"recommendations", recommendations(models)},
              {"events", event_rankings(models, events)}};
}

json build_report(const ReportInputs& inputs) {
  json models = json::array();
  for (const ModelResult& m : inputs.models) models.push_back(model_json(m));
  return json{{"schema", kReportSchema},
              {"command", inputs.command_line},
              {"system", to_json(inputs.system)},
              {"percentile_definition", kPercentileDefinition},
              {"harness_overhead_ns_per_iteration", inputs.harness_overhead_ns},
              {"noisy_rule", "a run is noisy when its latency CV exceeds 10% or throttling was detected"},
              {"models", models},
              {"comparison", compare_models(inputs.models, inputs.events)}};
}

namespace {

// The input shapes each model was measured at, and the dims that took a default.
std::string input_shapes_markdown(const json& models) {
  std::string md = "\nInput shapes:\n";
  for (const json& m : models) {
    if (!m.contains("input_shapes")) continue;
    std::string shapes;
    for (const auto& [name, dims] : m["input_shapes"].items()) {
      std::string text;
      for (const json& dim : dims) text += (text.empty() ? "" : "x") + dim.dump();
      shapes += fmt::format("{}{} {}", shapes.empty() ? "" : ", ", name, text.empty() ? "scalar" : text);
    }
    md += fmt::format("- {}: {}", m["label"].get<std::string>(), shapes);
    for (const json& note : m["shape_notes"]) md += fmt::format(" ({})", note.get<std::string>());
    md += "\n";
  }
  return md;
}

// Each profiled model's slowest rows and its time by op type.
std::string profiles_markdown(const json& models) {
  constexpr std::size_t kRows = 15;
  std::string md;
  for (const json& m : models) {
    if (!m.contains("profile")) continue;
    const json& profile = m["profile"];
    md += fmt::format(
        "\n## Profile: {} ({} threads)\n\nSum of rows {:.3f} ms; profiled runs {:.3f} ms; "
        "slowest: {}.\n\n| mean ms | p50 ms | share | GMAC/s | % of peak | kind | kernel | "
        "nodes | output |\n|---|---|---|---|---|---|---|---|---|\n",
        m["label"].get<std::string>(), m["threads"].get<int>(),
        profile["rows_sum_ms"].get<double>(), profile["profiled_run_mean_ms"].get<double>(),
        profile["slowest"].is_null() ? "-" : profile["slowest"].get<std::string>());
    std::size_t shown = 0;
    for (const json& row : profile["rows"]) {
      if (shown++ >= kRows) break;
      md += fmt::format(
          "| {:.3f} | {:.3f} | {:.1f}% | {} | {} | {} | {} | {} | {} |\n", row["mean_ms"].get<double>(),
          row["p50_ms"].get<double>(), row["share"].get<double>() * 100,
          row["gmacs_per_s"].is_null() ? "-" : fmt::format("{:.1f}", row["gmacs_per_s"].get<double>()),
          row["peak_percent"].is_null() ? "-" : fmt::format("{:.0f}%", row["peak_percent"].get<double>()),
          row["kind"].get<std::string>(), row["implementation"].get<std::string>(),
          row["label"].get<std::string>(),
          row["outputs"].empty() ? "" : row["outputs"][0].get<std::string>());
    }
    md += "\nBy op type: ";
    for (const json& group : profile["by_op_type"]) {
      md += fmt::format("{} {:.3f} ms ({:.0f}%); ", group["op"].get<std::string>(),
                        group["mean_ms"].get<double>(), group["share"].get<double>() * 100);
    }
    md += fmt::format("\n\nPeak: {}.\n", profile["peak"]["formula"].get<std::string>());
  }
  return md;
}

}  // namespace

std::string render_markdown(const json& report) {
  std::string md = "# edgeperf benchmark report\n\n";
  const json& system = report["system"];
  md += fmt::format(
      "System: {} ({} physical cores), {}, oneDNN {}, OpenMP {}. Energy: {}.\n\n",
      system["cpu_model"].get<std::string>(), system["physical_cores"].get<int>(),
      system["kernel"].get<std::string>(), system["onednn_version"].get<std::string>(),
      system.value("openmp_runtime", "unavailable"), system["energy_method"].get<std::string>());
  md += fmt::format("Harness overhead: {:.1f} ns per timed iteration. Percentiles: {}.\n\n",
                    report["harness_overhead_ns_per_iteration"].get<double>(),
                    report["percentile_definition"].get<std::string>());
  std::size_t rounds = 1;
  for (const json& m : report["models"]) rounds = std::max<std::size_t>(rounds, m.value("rounds", 1));
  if (rounds > 1) {
    md += fmt::format(
        "Each row pools {} rounds, measured in turn (in the given order, then reversed, "
        "alternately), each in a process of its own: load and first times are the rounds' "
        "median, peak RSS and arena the largest.\n\n",
        rounds);
  }
  std::size_t fewest_turns = 0;
  for (const json& m : report["models"]) {
    const std::size_t turns = m.value("turns", std::size_t{0});
    if (turns > 0 && (fewest_turns == 0 || turns < fewest_turns)) fewest_turns = turns;
  }
  if (fewest_turns > 0) {
    md += fmt::format(
        "Interleaved (--interleave): the processes of a round were alive at once and took "
        "turns, one at a time, each turn about 50 ms of timed queries after at least 10 ms of "
        "untimed ones, until each had its runs (one that needed longer went on alone at the "
        "end); every model's latencies come from {} turns or more. Energy was not "
        "measured.\n\n",
        fewest_turns);
  }
  md += "| model | backend | threads | batch | p50 ms | p90 ms | p99 ms | mean ± 95% CI ms | CV | throughput inf/s | load ms | first ms | peak RSS MB | arena MB | size MB | GMACs | top-1 | energy J/inf | noisy |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const json& m : report["models"]) {
    for (const json& b : m["batches"]) {
      const json& l = b["latency_ms"];
      md += fmt::format(
          "| {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} ± {:.3f} | {:.1f}% | {:.1f} | {:.1f} | {:.2f} | {:.1f} | {:.2f} | {:.2f} | {:.3f} | {} | {} | {} |\n",
          m["label"].get<std::string>(), m["backend"].get<std::string>(), m["threads"].get<int>(),
          b["batch"].get<int>(), l["p50"].get<double>(), l["p90"].get<double>(), l["p99"].get<double>(),
          l["mean"].get<double>(), l["ci95_high"].get<double>() - l["mean"].get<double>(),
          l["cv"].get<double>() * 100, b["throughput_inferences_per_s"].get<double>(),
          m["load_ms"].get<double>(), m["first_inference_ms"].get<double>(),
          m["peak_rss_bytes"].get<double>() / 1e6, m["arena_bytes"].get<double>() / 1e6,
          m["file_bytes"].get<double>() / 1e6, m["macs"].get<double>() / 1e9,
          m["accuracy"].is_null() ? "not measured" : fmt::format("{:.2f}%", m["accuracy"]["top1"].get<double>() * 100),
          m["energy"]["joules_per_inference"].is_null() ? m["energy"]["method"].get<std::string>()
                                                         : fmt::format("{:.4f}", m["energy"]["joules_per_inference"].get<double>()),
          m["noisy"].get<bool>() ? "yes" : "no");
    }
  }
  md += input_shapes_markdown(report["models"]);
  md += profiles_markdown(report["models"]);
  const json& comparison = report["comparison"];
  if (!comparison.empty()) {
    md += fmt::format("\n## Comparison (baseline: {})\n\n", comparison["baseline"].get<std::string>());
    md += "| model | speed-up p50 | Mann-Whitney p | size ratio | memory ratio | accuracy retention |\n|---|---|---|---|---|---|\n";
    for (const json& row : comparison["rows"]) {
      md += fmt::format("| {} | {:.2f}x | {:.3g} | {:.2f} | {:.2f} | {} |\n", row["model"].get<std::string>(),
                        row["speedup_p50"].get<double>(), row["mann_whitney_p"].get<double>(),
                        row["size_ratio"].get<double>(), row["memory_ratio"].get<double>(),
                        row["accuracy_retention"].is_null() ? "not measured"
                                                            : fmt::format("{:.4f}", row["accuracy_retention"].get<double>()));
    }
    md += fmt::format("\nPareto frontier ({}): {}\n", comparison["pareto_objectives"].get<std::string>(),
                      comparison["pareto_frontier"].dump());
    for (const json& d : comparison["dominated"]) {
      md += fmt::format("- {} is dominated by {}\n", d["model"].get<std::string>(), d["dominated_by"].get<std::string>());
    }
    md += "\nRecommendations:\n";
    for (const auto& [use_case, rec] : comparison["recommendations"].items()) {
      md += fmt::format("- **{}**: {} — {}\n", use_case, rec["model"].is_null() ? "none" : rec["model"].get<std::string>(),
                        rec["reason"].get<std::string>());
    }
    for (const json& event : comparison["events"]) {
      md += fmt::format("\n### Event: {} (objective: {}, constraints: {})\n\n| rank | model | score | note |\n|---|---|---|---|\n",
                        event["event"].get<std::string>(), event["objective"].get<std::string>(), event["constraints"].dump());
      for (const json& row : event["ranking"]) {
        md += fmt::format("| {} | {} | {} | {} |\n", row["rank"].is_null() ? "-" : row["rank"].dump(),
                          row["model"].get<std::string>(), row["score"].is_null() ? "-" : fmt::format("{:.4g}", row["score"].get<double>()),
                          row["eligible"].get<bool>() ? "" : row["reason"].get<std::string>());
      }
    }
  }
  return md;
}

namespace {

// Per-model comparison facts as CSV cells: frontier membership, dominance, the use
// cases it is recommended for, and its rank in each event.
struct ComparisonCells {
  std::map<std::string, std::string> pareto, dominated_by, recommended_for;
  std::map<std::string, std::map<std::string, std::string>> event_rank;  // event -> model -> rank
  std::vector<std::string> events;
};

ComparisonCells comparison_cells(const json& comparison) {
  ComparisonCells cells;
  if (comparison.empty()) return cells;
  for (const json& model : comparison["pareto_frontier"]) cells.pareto[model.get<std::string>()] = "yes";
  for (const json& d : comparison["dominated"]) {
    cells.pareto[d["model"].get<std::string>()] = "no";
    cells.dominated_by[d["model"].get<std::string>()] = d["dominated_by"].get<std::string>();
  }
  for (const auto& [use_case, rec] : comparison["recommendations"].items()) {
    if (rec["model"].is_null()) continue;
    std::string& cell = cells.recommended_for[rec["model"].get<std::string>()];
    cell += (cell.empty() ? "" : ";") + use_case;
  }
  for (const json& event : comparison["events"]) {
    const std::string name = event["event"].get<std::string>();
    cells.events.push_back(name);
    for (const json& row : event["ranking"]) {
      cells.event_rank[name][row["model"].get<std::string>()] = row["rank"].is_null() ? "ineligible" : row["rank"].dump();
    }
  }
  return cells;
}

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string lookup(const std::map<std::string, std::string>& map, const std::string& key) {
  const auto found = map.find(key);
  return found == map.end() ? "" : found->second;
}

}  // namespace

std::string render_csv(const json& report) {
  const ComparisonCells cells = comparison_cells(report["comparison"]);
  std::string csv = "model,backend,threads,batch,p50_ms,p90_ms,p95_ms,p99_ms,mean_ms,ci95_low_ms,ci95_high_ms,cv,throughput_per_s,load_ms,first_ms,peak_rss_bytes,arena_bytes,file_bytes,macs,top1,energy_j_per_inference,noisy,on_pareto_frontier,dominated_by,recommended_for";
  for (const std::string& event : cells.events) csv += ",rank_" + event;
  csv += "\n";
  for (const json& m : report["models"]) {
    const std::string label = m["label"].get<std::string>();
    for (const json& b : m["batches"]) {
      const json& l = b["latency_ms"];
      csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                         csv_cell(label), m["backend"].get<std::string>(), m["threads"].get<int>(),
                         b["batch"].get<int>(), l["p50"].get<double>(), l["p90"].get<double>(), l["p95"].get<double>(),
                         l["p99"].get<double>(), l["mean"].get<double>(), l["ci95_low"].get<double>(),
                         l["ci95_high"].get<double>(), l["cv"].get<double>(),
                         b["throughput_inferences_per_s"].get<double>(), m["load_ms"].get<double>(),
                         m["first_inference_ms"].get<double>(), m["peak_rss_bytes"].get<std::size_t>(),
                         m["arena_bytes"].get<std::size_t>(), m["file_bytes"].get<std::size_t>(),
                         m["macs"].get<std::int64_t>(),
                         m["accuracy"].is_null() ? "" : fmt::format("{}", m["accuracy"]["top1"].get<double>()),
                         m["energy"]["joules_per_inference"].is_null() ? "unavailable" : fmt::format("{}", m["energy"]["joules_per_inference"].get<double>()),
                         m["noisy"].get<bool>(), lookup(cells.pareto, label), csv_cell(lookup(cells.dominated_by, label)),
                         lookup(cells.recommended_for, label));
      for (const std::string& event : cells.events) csv += "," + lookup(cells.event_rank.at(event), label);
      csv += "\n";
    }
  }
  return csv;
}

}  // namespace edgeperf::bench
