// Sequences of parted ops in one parallel region: each op starts only when every part
// (and the finish) of the op before it is done, whatever the thread and part counts.
#include "parted_ops.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace edgeperf::runtime::onednn {
namespace {

constexpr int kValues = 64;

// Op k writes values[k][i] = k + the sum of all of values[k - 1] (read by every part, so
// a part that ran before the previous op finished sees a wrong sum), split in parts of
// contiguous i. Its finish (odd k) adds 1 to the last value, after every part.
class ChainOp {
 public:
  ChainOp(std::vector<std::vector<std::uint64_t>>& values, int k, int max_parts)
      : values_(&values), k_(k), max_parts_(max_parts) {}
  int max_parts() const { return max_parts_; }
  void run_part(const ArgMap&, int part, int parts) const {
    const std::uint64_t previous = k_ == 0 ? 0 : sum((*values_)[k_ - 1]);
    std::vector<std::uint64_t>& out = (*values_)[k_];
    for (int i = kValues * part / parts; i < kValues * (part + 1) / parts; ++i)
      out[i] = k_ + previous;
  }
  static std::uint64_t sum(const std::vector<std::uint64_t>& values) {
    return std::accumulate(values.begin(), values.end(), std::uint64_t{0});
  }

 private:
  std::vector<std::vector<std::uint64_t>>* values_;
  int k_;
  int max_parts_;
};

std::vector<std::uint64_t> expected_sums(int ops, bool finish) {
  std::vector<std::uint64_t> sums;
  std::uint64_t previous = 0;
  for (int k = 0; k < ops; ++k) {
    std::uint64_t total = kValues * (k + previous);
    if (finish && k % 2 == 1) total += 1;
    sums.push_back(total);
    previous = total;
  }
  return sums;
}

void check_sequence(int threads, int max_parts, bool finish) {
  constexpr int kOps = 12;
  std::vector<std::vector<std::uint64_t>> values(kOps, std::vector<std::uint64_t>(kValues, -1));
  std::vector<PartedOp> ops;
  ops.reserve(kOps);
  for (int k = 0; k < kOps; ++k) {
    PartedOp op = parted(ChainOp(values, k, k % 3 == 2 ? 1 : max_parts));
    if (finish && k % 2 == 1) {
      op.finish = [&values, k](const ArgMap&, int) { values[k].back() += 1; };
    }
    ops.push_back(std::move(op));
  }
  const ArgMap args;
  std::vector<PartedStep> steps;
  steps.reserve(ops.size());
  for (const PartedOp& op : ops) steps.push_back({&op, &args});
  std::vector<std::size_t> done;
  SpinBarrier barrier;
  for (int repeat = 0; repeat < 50; ++repeat) {
    for (auto& row : values) row.assign(kValues, -1);
    done.clear();
    run_parted_sequence(steps, threads, barrier, [&](std::size_t index) { done.push_back(index); });
    std::vector<std::uint64_t> sums;
    sums.reserve(values.size());
    for (const auto& row : values) sums.push_back(ChainOp::sum(row));
    ASSERT_EQ(sums, expected_sums(kOps, finish))
        << threads << " threads, " << max_parts << " parts, repeat " << repeat;
    std::vector<std::size_t> order(kOps);
    std::iota(order.begin(), order.end(), 0);
    ASSERT_EQ(done, order);
  }
}

TEST(PartedOps, EachOpWaitsForEveryPartOfTheOneBefore) {
  for (int threads : {1, 2, 3, 4}) {
    for (int max_parts : {1, 2, 4, 16}) check_sequence(threads, max_parts, false);
  }
}

TEST(PartedOps, TheFinishRunsAfterEveryPartAndBeforeTheNextOp) {
  for (int threads : {1, 2, 4}) {
    for (int max_parts : {1, 2, 16}) check_sequence(threads, max_parts, true);
  }
}

// A step limited to one part (an op the region runs on one thread) runs whole on the
// first thread, between steps split across the team.
TEST(PartedOps, AStepOfOnePartRunsWholeOnTheFirstThread) {
  constexpr int kOps = 6;
  std::vector<std::vector<std::uint64_t>> values(kOps, std::vector<std::uint64_t>(kValues, -1));
  std::vector<PartedOp> ops;
  std::vector<std::vector<std::pair<int, int>>> calls(kOps);  // (thread, parts) per part run
  ops.reserve(kOps);
  for (int k = 0; k < kOps; ++k) {
    const ChainOp chain(values, k, 4);
    ops.push_back(PartedOp{4,
                           [chain, &calls, k](const ArgMap& args, int part, int parts) {
#pragma omp critical
                             calls[k].emplace_back(omp_get_thread_num(), parts);
                             chain.run_part(args, part, parts);
                           },
                           {}});
  }
  const ArgMap args;
  std::vector<PartedStep> steps;
  steps.reserve(kOps);
  for (int k = 0; k < kOps; ++k) steps.push_back({&ops[k], &args, k % 2 == 1 ? 1 : 0});
  SpinBarrier barrier;
  run_parted_sequence(steps, 2, barrier);
  std::vector<std::uint64_t> sums;
  sums.reserve(kOps);
  for (const auto& row : values) sums.push_back(ChainOp::sum(row));
  EXPECT_EQ(sums, expected_sums(kOps, false));
  for (int k = 1; k < kOps; k += 2) {
    EXPECT_EQ(calls[k], (std::vector<std::pair<int, int>>{{0, 1}})) << "op " << k;
  }
  EXPECT_EQ(calls[0].size(), 2u);  // min(4 parts, a team of 2)
}

TEST(PartedOps, AloneRunsEveryPartThenTheFinish) {
  std::vector<std::vector<std::uint64_t>> values(2, std::vector<std::uint64_t>(kValues, -1));
  values[0].assign(kValues, 1);
  PartedOp op = parted(ChainOp(values, 1, 8));
  op.finish = [&values](const ArgMap&, int) { values[1].back() += 1; };
  const CustomOp alone = run_alone(std::make_shared<const PartedOp>(op));
  for (int threads : {1, 2, 4}) {
    omp_set_num_threads(threads);
    values[1].assign(kValues, -1);
    alone(ArgMap{});
    EXPECT_EQ(ChainOp::sum(values[1]), kValues * (1 + kValues) + 1) << threads << " threads";
  }
}

TEST(SpinBarrier, NoThreadPassesBeforeAllArrive) {
  SpinBarrier barrier;
  constexpr int kRounds = 2000;
  for (int team : {2, 3}) {
    std::vector<int> arrived(kRounds, 0);
    bool early = false;
#pragma omp parallel num_threads(team)
    {
      const int threads = omp_get_num_threads();
      for (int round = 0; round < kRounds; ++round) {
#pragma omp atomic
        arrived[round] += 1;
        barrier.wait(threads);
        int seen = 0;
#pragma omp atomic read
        seen = arrived[round];
        if (seen != threads) {
#pragma omp critical
          early = true;
        }
      }
    }
    EXPECT_FALSE(early) << team << " threads";
  }
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
