#pragma once
// "Olympic events": constrained rankings of model variants. Each event has an objective
// and constraints (configurable); ineligible models are listed with the reason.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "edgeperf/bench/model_bench.h"

namespace edgeperf::bench {

struct EventSpec {
  std::string name;
  std::string objective;  // "latency" | "size" | "accuracy" | "balanced"
  std::optional<double> min_accuracy_pct;
  std::optional<double> max_latency_ms;
  std::optional<double> max_size_mb;
};

std::vector<EventSpec> default_events();
// "NAME" or "NAME:min_acc=90,max_ms=50,max_mb=5" (overrides of a default event).
EventSpec parse_event(const std::string& text);

// Ranked table: [{rank, model, score, eligible, reason}], eligible first.
nlohmann::json rank_event(const EventSpec& event, const std::vector<ModelResult>& models);

}  // namespace edgeperf::bench
