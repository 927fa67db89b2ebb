#include "edgeperf/bench/events.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

double p50(const ModelResult& m) { return m.batches.front().latency.p50; }
double size_mb(const ModelResult& m) { return static_cast<double>(m.file_bytes) / 1e6; }
double accuracy_pct(const ModelResult& m) { return m.accuracy->top1 * 100; }

// Why a model may not compete; empty when eligible.
std::string ineligibility(const EventSpec& event, const ModelResult& m) {
  const bool needs_accuracy = event.min_accuracy_pct || event.objective == "accuracy" || event.objective == "balanced";
  if (needs_accuracy && !m.accuracy) return "accuracy not measured (no --data)";
  if (event.min_accuracy_pct && accuracy_pct(m) < *event.min_accuracy_pct) {
    return fmt::format("accuracy {:.2f}% < {:.1f}%", accuracy_pct(m), *event.min_accuracy_pct);
  }
  if (event.max_latency_ms && p50(m) > *event.max_latency_ms) {
    return fmt::format("p50 {:.3f} ms > {:.1f} ms", p50(m), *event.max_latency_ms);
  }
  if (event.max_size_mb && size_mb(m) > *event.max_size_mb) {
    return fmt::format("size {:.2f} MB > {:.1f} MB", size_mb(m), *event.max_size_mb);
  }
  return "";
}

}  // namespace

std::vector<EventSpec> default_events() {
  return {{"latency-sprint", "latency", 85.0, std::nullopt, std::nullopt},
          {"memory-challenge", "size", 85.0, std::nullopt, std::nullopt},
          {"accuracy-contest", "accuracy", std::nullopt, 100.0, 10.0},
          {"all-around", "balanced", std::nullopt, std::nullopt, std::nullopt},
          {"extreme-push", "latency", 80.0, std::nullopt, std::nullopt}};
}

EventSpec parse_event(const std::string& text) {
  const std::string name = text.substr(0, text.find(':'));
  const auto defaults = default_events();
  const auto found = std::find_if(defaults.begin(), defaults.end(), [&](const auto& e) { return e.name == name; });
  EP_CHECK(found != defaults.end(),
           "unknown --event '{}' (expected latency-sprint, memory-challenge, accuracy-contest, all-around or extreme-push)", name);
  EventSpec event = *found;
  if (text.size() == name.size()) return event;
  std::stringstream overrides(text.substr(name.size() + 1));
  std::string item;
  while (std::getline(overrides, item, ',')) {
    const auto equals = item.find('=');
    EP_CHECK(equals != std::string::npos, "--event {}: '{}' is not KEY=VALUE", name, item);
    const std::string key = item.substr(0, equals);
    double value = 0;
    try {
      std::size_t used = 0;
      value = std::stod(item.substr(equals + 1), &used);
      EP_CHECK(used == item.size() - equals - 1, "trailing characters");
    } catch (const std::exception&) {
      fail("--event {}: '{}' is not a number", name, item.substr(equals + 1));
    }
    if (key == "min_acc") event.min_accuracy_pct = value;
    else if (key == "max_ms") event.max_latency_ms = value;
    else if (key == "max_mb") event.max_size_mb = value;
    else fail("--event {}: unknown constraint '{}' (min_acc, max_ms, max_mb)", name, key);
  }
  return event;
}

nlohmann::json rank_event(const EventSpec& event, const std::vector<ModelResult>& models) {
  struct Entry {
    const ModelResult* model;
    double score;  // lower is better
    std::string reason;
  };
  double best_latency = INFINITY, best_size = INFINITY, best_accuracy = 0;
  for (const ModelResult& m : models) {
    best_latency = std::min(best_latency, p50(m));
    best_size = std::min(best_size, size_mb(m));
    if (m.accuracy) best_accuracy = std::max(best_accuracy, accuracy_pct(m));
  }
  std::vector<Entry> entries;
  for (const ModelResult& m : models) {
    Entry entry{&m, INFINITY, ineligibility(event, m)};
    if (entry.reason.empty()) {
      if (event.objective == "latency") entry.score = p50(m);
      else if (event.objective == "size") entry.score = size_mb(m);
      else if (event.objective == "accuracy") entry.score = -accuracy_pct(m);
      else  // balanced: geometric mean of the three ratios to the best, as a cost
        entry.score = std::cbrt(p50(m) / best_latency * size_mb(m) / best_size * best_accuracy /
                                std::max(accuracy_pct(m), 1e-9));
    }
    entries.push_back(entry);
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.score < b.score; });
  nlohmann::json table = nlohmann::json::array();
  int rank = 0;
  for (const Entry& entry : entries) {
    const bool eligible = entry.reason.empty();
    const double shown = event.objective == "accuracy" ? -entry.score : entry.score;
    table.push_back({{"rank", eligible ? nlohmann::json(++rank) : nlohmann::json(nullptr)},
                     {"model", entry.model->label},
                     {"eligible", eligible},
                     {"score", eligible ? nlohmann::json(shown) : nlohmann::json(nullptr)},
                     {"reason", eligible ? "" : entry.reason}});
  }
  return {{"event", event.name},
          {"objective", event.objective},
          {"constraints", {{"min_accuracy_pct", event.min_accuracy_pct ? nlohmann::json(*event.min_accuracy_pct) : nlohmann::json(nullptr)},
                           {"max_latency_ms", event.max_latency_ms ? nlohmann::json(*event.max_latency_ms) : nlohmann::json(nullptr)},
                           {"max_size_mb", event.max_size_mb ? nlohmann::json(*event.max_size_mb) : nlohmann::json(nullptr)}}},
          {"ranking", table}};
}

}  // namespace edgeperf::bench
