#include "part_threads.h"

#include "plan_timing.h"

namespace edgeperf::runtime {
namespace {

constexpr double kMinPartGain = 0.10;
constexpr double kMinPartGainMs = 0.002;
constexpr double kMinWholeGain = 0.02;

using PartKey = std::pair<std::size_t, std::size_t>;

class PartTimes final : public ProfileSink {
 public:
  void record(std::size_t step, std::size_t part, std::int64_t start_ns,
              std::int64_t end_ns) override {
    if (part == kWholeStep) return;
    times_[{step, part}].push_back(static_cast<double>(end_ns - start_ns) * 1e-6);
  }
  std::map<PartKey, double> medians() const {
    std::map<PartKey, double> result;
    for (const auto& [key, times] : times_) result[key] = median(times);
    return result;
  }

 private:
  std::map<PartKey, std::vector<double>> times_;
};

std::map<PartKey, double> profiled_medians(Plan& plan, const std::map<std::string, Tensor>& feeds,
                                           int threads, int runs) {
  plan.run(feeds, threads);  // warm-up
  PartTimes times;
  for (int run = 0; run < runs; ++run) plan.run(feeds, threads, &times);
  return times.medians();
}

void set_all(Plan& plan, const std::vector<std::size_t>& counts, int threads) {
  for (std::size_t step = 0; step < counts.size(); ++step) {
    for (std::size_t part = 0; part < counts[step]; ++part)
      plan.set_part_threads(step, part, threads);
  }
}

void set_single(Plan& plan, const std::vector<PartThreads>& single, int threads) {
  for (const PartThreads& part : single) plan.set_part_threads(part.step, part.part, threads);
}

}  // namespace

PartThreadChoice choose_part_threads(Plan& plan, const std::map<std::string, Tensor>& feeds,
                                     int threads, int runs) {
  PartThreadChoice choice;
  choice.runs = runs;
  const std::vector<std::size_t> counts = plan.part_counts();
  const std::map<PartKey, double> wide = profiled_medians(plan, feeds, threads, runs);
  set_all(plan, counts, 1);
  const std::map<PartKey, double> narrow = profiled_medians(plan, feeds, threads, runs);
  set_all(plan, counts, 0);
  for (const auto& [key, wide_ms] : wide) {
    const auto found = narrow.find(key);
    if (found == narrow.end()) continue;
    const double single_ms = found->second;
    if (single_ms < wide_ms * (1 - kMinPartGain) && wide_ms - single_ms >= kMinPartGainMs)
      choice.single.push_back(PartThreads{key.first, key.second});
  }
  std::vector<double> wide_runs, mixed_runs;
  for (int run = 0; run < runs; ++run) {
    wide_runs.push_back(time_run(plan, feeds, threads));
    if (choice.single.empty()) continue;
    set_single(plan, choice.single, 1);
    mixed_runs.push_back(time_run(plan, feeds, threads));
    set_single(plan, choice.single, 0);
  }
  choice.wide_ms = median(wide_runs);
  if (choice.single.empty()) return choice;
  choice.mixed_ms = median(mixed_runs);
  if (choice.mixed_ms < choice.wide_ms * (1 - kMinWholeGain)) {
    set_single(plan, choice.single, 1);
  } else {
    choice.single.clear();
  }
  return choice;
}

bool apply_part_threads(Plan& plan, const std::vector<PartThreads>& single,
                        const std::vector<std::size_t>& part_counts) {
  if (plan.part_counts() != part_counts) return false;
  set_single(plan, single, 1);
  return true;
}

}  // namespace edgeperf::runtime
