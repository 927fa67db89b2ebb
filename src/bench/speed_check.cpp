#include "edgeperf/bench/speed_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "edgeperf/bench/profile.h"
#include "edgeperf/bench/runner.h"
#include "edgeperf/bench/stats.h"
#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

struct Contender {
  runtime::Session session;
  std::map<std::string, Tensor> feeds;
  std::vector<double> latencies_ms;
};

Contender make_contender(const graph::Graph& graph, const runtime::SessionOptions& options) {
  runtime::Session session(graph, options);
  std::map<std::string, Tensor> feeds = runtime::random_inputs(session, 1);
  return Contender{std::move(session), std::move(feeds), {}};
}

void time_round(Contender& contender, std::size_t runs) {
  RunConfig config;
  config.runs = runs;
  config.warmup_runs = 0;
  const Measurement measured =
      measure([&contender] { contender.session.run(contender.feeds); }, config);
  contender.latencies_ms.insert(contender.latencies_ms.end(), measured.latencies_ms.begin(),
                                measured.latencies_ms.end());
}

double p50(std::vector<double> sample) {
  std::sort(sample.begin(), sample.end());
  return percentile(sample, 50);
}

// Profiled time per group of op types and backend, ms per run.
std::map<std::pair<std::string, std::string>, double> time_by_ops(Contender& contender) {
  constexpr std::size_t kProfiledRuns = 5;
  ProfileRecorder recorder;
  for (std::size_t i = 0; i < kProfiledRuns; ++i) contender.session.run(contender.feeds, recorder);
  const Profile profile = summarize_profile(contender.session, recorder, PeakEstimate{});
  std::map<std::pair<std::string, std::string>, double> times;
  for (const ProfileRow& row : profile.rows) {
    std::vector<std::string> ops = row.ops;
    ops.erase(std::unique(ops.begin(), ops.end()), ops.end());
    times[{fmt::format("{}", fmt::join(ops, "+")), row.backend}] += row.mean_ms;
  }
  return times;
}

std::vector<TimeGrowth> time_growth(Contender& input, Contender& variant) {
  constexpr std::size_t kShown = 3;
  const auto before = time_by_ops(input);
  std::vector<TimeGrowth> growth;
  for (const auto& [key, variant_ms] : time_by_ops(variant)) {
    const auto found = before.find(key);
    const double input_ms = found == before.end() ? 0 : found->second;
    if (variant_ms > input_ms) growth.push_back({key.first, key.second, input_ms, variant_ms});
  }
  std::sort(growth.begin(), growth.end(), [](const TimeGrowth& a, const TimeGrowth& b) {
    return a.variant_ms - a.input_ms > b.variant_ms - b.input_ms;
  });
  if (growth.size() > kShown) growth.resize(kShown);
  return growth;
}

ThreadCountSpeed race(Contender& input, Contender& variant, const SpeedCheckOptions& options,
                      int threads) {
  for (Contender* contender : {&input, &variant}) {  // warm-up: first-run costs, caches
    contender->session.run(contender->feeds);
    contender->session.run(contender->feeds);
  }
  const Stopwatch clock;
  const auto enough = [&] {
    const std::size_t runs = std::min(input.latencies_ms.size(), variant.latencies_ms.size());
    const double elapsed = clock.elapsed_seconds();
    return (runs >= options.min_runs && elapsed >= options.min_seconds) ||
           (runs > 0 && elapsed >= options.max_seconds);
  };
  while (!enough()) {
    time_round(input, options.round_runs);
    time_round(variant, options.round_runs);
  }
  return ThreadCountSpeed{threads, p50(input.latencies_ms), p50(variant.latencies_ms),
                          input.latencies_ms.size()};
}

}  // namespace

double SpeedCheck::worst_ratio() const {
  double worst = 0;
  for (const ThreadCountSpeed& speed : speeds) worst = std::max(worst, speed.ratio());
  return worst;
}

std::string SpeedCheck::speeds_text() const {
  std::string text;
  for (const ThreadCountSpeed& speed : speeds) {
    text += fmt::format("{}{:.2f}x at {} thread{} ({:.3g} vs {:.3g} ms p50, {} runs each)",
                        text.empty() ? "" : ", ", speed.ratio(), speed.threads,
                        speed.threads == 1 ? "" : "s", speed.variant_p50_ms, speed.input_p50_ms,
                        speed.runs);
  }
  return text;
}

std::string SpeedCheck::growth_text() const {
  std::string text;
  for (const TimeGrowth& group : growth) {
    text += fmt::format("{}{} on {} {:.3g} ms (was {:.3g})", text.empty() ? "" : "; ", group.ops,
                        group.backend, group.variant_ms, group.input_ms);
  }
  return text;
}

SpeedCheck check_variant_speed(const graph::Graph& input, const graph::Graph& variant,
                               const SpeedCheckOptions& options) {
  EP_CHECK(!options.threads.empty() && options.round_runs > 0, "speed check: nothing to measure");
  SpeedCheck check;
  for (int threads : options.threads) {
    runtime::SessionOptions session = options.session;
    session.threads = threads;
    Contender input_run = make_contender(input, session);
    Contender variant_run = make_contender(variant, session);
    check.speeds.push_back(race(input_run, variant_run, options, threads));
    if (check.growth.empty()) check.growth = time_growth(input_run, variant_run);
  }
  return check;
}

}  // namespace edgeperf::bench
