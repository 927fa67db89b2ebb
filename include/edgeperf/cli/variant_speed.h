#pragma once
// The speed check every command that writes an optimized variant runs before writing:
// the variant (as it will load from its bytes) against the model it came from.
#include <CLI/CLI.hpp>
#include <string>

#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::cli {

struct VariantSpeedFlags {
  bool skip = false;          // --no-speed-check
  bool allow_slower = false;  // --allow-slower
};

void add_variant_speed_flags(CLI::App& command, VariantSpeedFlags& flags);

// Measures `variant_bytes` against `input` at 1 and 2 threads and prints the ratios.
// Slower than 1.05x at some thread count: a warning saying where the time went. Slower
// than 1.5x and by more than 0.5 ms at every thread count: refused with that reason (an
// Error, so nothing is written) unless --allow-slower. `advice` ends the message ("use --mode
// static ...").
void check_variant_speed(const VariantSpeedFlags& flags, const graph::Graph& input,
                         const std::string& variant_bytes, const runtime::SessionOptions& session,
                         const std::string& advice = "");

}  // namespace edgeperf::cli
