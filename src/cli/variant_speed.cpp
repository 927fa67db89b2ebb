#include "edgeperf/cli/variant_speed.h"

#include <fmt/format.h>

#include <algorithm>

#include "edgeperf/bench/speed_check.h"
#include "edgeperf/core/error.h"
#include "edgeperf/onnx/onnx_io.h"

namespace edgeperf::cli {
namespace {

// Above this the variant is slower beyond this machine's run-to-run noise (5-30%).
constexpr double kWarnRatio = 1.05;
// A variant this much slower, by at least this much time per inference, defeats the
// command's purpose: not written unless asked. (A microsecond model that got slower by
// microseconds is written with the warning: its size may be what the user is after.)
constexpr double kRefuseRatio = 1.5;
constexpr double kRefuseExtraMs = 0.5;

// At every thread count: a burst of load from another process during the 2-thread
// races alone must not stop a good model from being written.
bool clearly_slower(const bench::SpeedCheck& check) {
  return std::all_of(check.speeds.begin(), check.speeds.end(), [](const auto& speed) {
    return speed.ratio() > kRefuseRatio &&
           speed.variant_p50_ms - speed.input_p50_ms > kRefuseExtraMs;
  });
}

}  // namespace

void add_variant_speed_flags(CLI::App& command, VariantSpeedFlags& flags) {
  command.add_flag("--no-speed-check", flags.skip,
                   "Do not time the result against its input before writing it");
  command.add_flag(
      "--allow-slower", flags.allow_slower,
      "Write the result even when it runs over 1.5x (and 0.5 ms) slower than its input");
}

void check_variant_speed(const VariantSpeedFlags& flags, const graph::Graph& input,
                         const std::string& variant_bytes, const runtime::SessionOptions& session,
                         const std::string& advice) {
  if (flags.skip) return;
  const graph::Graph variant = onnx_io::load_model_from_bytes(variant_bytes, "the result");
  bench::SpeedCheckOptions options;
  options.session = session;
  bench::SpeedCheck check;
  try {
    check = bench::check_variant_speed(input, variant, options);
  } catch (const Error& error) {  // e.g. a model that needs real inputs, not random ones
    fmt::print(stderr, "note: no speed check (the models did not run on random inputs: {})\n",
               error.what());
    return;
  }
  fmt::print("speed vs the input model: {}\n", check.speeds_text());
  const double worst = check.worst_ratio();
  if (worst <= kWarnRatio) return;
  const std::string where = check.growth_text().empty() ? "no op group's profiled time grew"
                                                        : "its time grew in " + check.growth_text();
  const std::string finding = fmt::format("the result runs {:.2f}x slower than its input ({}); {}",
                                          worst, check.speeds_text(), where);
  const std::string tail = advice.empty() ? "" : "; " + advice;
  EP_CHECK(!clearly_slower(check) || flags.allow_slower,
           "{}: not written{} (--allow-slower writes it anyway)", finding, tail);
  fmt::print(stderr, "warning: {}{}\n", finding, tail);
}

}  // namespace edgeperf::cli
