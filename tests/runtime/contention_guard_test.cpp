// The guard's decisions from given run times: no clock is read.
#include "contention_guard.h"

#include <gtest/gtest.h>

namespace edgeperf::runtime {
namespace {

constexpr double kSingleMs = 10.0;

// Records `runs` runs: `wide_ms` for those the guard sends to the wide plan, `single_ms`
// for those it sends to the one-thread plan. Returns how many went to one thread.
int feed(ContentionGuard& guard, int runs, double wide_ms, double single_ms) {
  int on_single = 0;
  for (int i = 0; i < runs; ++i) {
    const bool single = guard.use_single();
    on_single += single ? 1 : 0;
    guard.record(single ? single_ms : wide_ms);
  }
  return on_single;
}

TEST(ContentionGuard, KeepsTheWidePlanWhileItBeatsOneThread) {
  ContentionGuard guard(kSingleMs);
  EXPECT_EQ(feed(guard, 200, 6.0, kSingleMs), 0);
  EXPECT_EQ(guard.switches(), 0u);
}

TEST(ContentionGuard, ALoneSlowWideRunDoesNotSwitch) {
  ContentionGuard guard(kSingleMs);
  feed(guard, 10, 6.0, kSingleMs);
  guard.record(40.0);  // one descheduled run: the window's median stays fast
  feed(guard, 10, 6.0, kSingleMs);
  EXPECT_FALSE(guard.use_single());
  EXPECT_EQ(guard.switches(), 0u);
}

TEST(ContentionGuard, SwitchesToOneThreadWhenWideRunsTurnSlower) {
  ContentionGuard guard(kSingleMs);
  feed(guard, 20, 6.0, kSingleMs);
  feed(guard, ContentionGuard::kWindow, 20.0, kSingleMs);  // a competing process took a core
  EXPECT_TRUE(guard.use_single());
  EXPECT_EQ(guard.switches(), 1u);
}

TEST(ContentionGuard, ProbesTheWidePlanAndStaysWhileItIsStillSlow) {
  ContentionGuard guard(kSingleMs);
  feed(guard, ContentionGuard::kWindow, 20.0, kSingleMs);
  ASSERT_TRUE(guard.use_single());
  const int runs = 10 * static_cast<int>(ContentionGuard::kProbeInterval + 2);
  const int on_single = feed(guard, runs, 20.0, kSingleMs);
  EXPECT_EQ(runs - on_single, 2 * 10);  // a failed probe: the waking run and one judged
  EXPECT_EQ(guard.single_runs(), static_cast<std::size_t>(on_single));
  EXPECT_EQ(guard.switches(), 1u);
}

TEST(ContentionGuard, GoesBackToTheWidePlanWhenTheContentionEnds) {
  ContentionGuard guard(kSingleMs);
  feed(guard, ContentionGuard::kWindow, 20.0, kSingleMs);
  ASSERT_TRUE(guard.use_single());
  feed(guard, ContentionGuard::kProbeInterval + ContentionGuard::kProbeRuns, 6.0, kSingleMs);
  EXPECT_FALSE(guard.use_single());
  EXPECT_EQ(guard.switches(), 2u);
  EXPECT_EQ(feed(guard, 100, 6.0, kSingleMs), 0);
}

TEST(ContentionGuard, JudgesAProbeByTheRunsAfterItsFirst) {
  ContentionGuard guard(kSingleMs);
  feed(guard, ContentionGuard::kWindow, 20.0, kSingleMs);
  feed(guard, ContentionGuard::kProbeInterval, 20.0, kSingleMs);
  ASSERT_FALSE(guard.use_single());  // the probe starts
  guard.record(30.0);                // waking the wide plan's threads
  for (std::size_t run = 1; run < ContentionGuard::kProbeRuns; ++run) {
    ASSERT_FALSE(guard.use_single());
    guard.record(6.0);
  }
  EXPECT_FALSE(guard.use_single());
  EXPECT_EQ(guard.switches(), 2u);
}

TEST(ContentionGuard, AProbeFailsOnItsFirstSlowJudgedRun) {
  ContentionGuard guard(kSingleMs);
  feed(guard, ContentionGuard::kWindow, 20.0, kSingleMs);
  feed(guard, ContentionGuard::kProbeInterval, 20.0, kSingleMs);
  guard.record(6.0);   // woke the threads
  guard.record(20.0);  // still held back
  EXPECT_TRUE(guard.use_single());
  EXPECT_EQ(guard.switches(), 1u);
}

// Probes that slip past the competing process (fast for a few runs, slow after) back off.
TEST(ContentionGuard, ReturnsThatDoNotLastProbeLessOften) {
  ContentionGuard guard(kSingleMs);
  feed(guard, ContentionGuard::kWindow, 20.0, kSingleMs);
  std::size_t wide_streak = 0;
  for (int run = 0; run < 5000; ++run) {
    const bool single = guard.use_single();
    wide_streak = single ? 0 : wide_streak + 1;
    guard.record(single ? kSingleMs : (wide_streak <= ContentionGuard::kProbeRuns ? 6.0 : 20.0));
  }
  EXPECT_EQ(guard.probe_interval(), ContentionGuard::kMaxProbeInterval);
  EXPECT_LT(guard.switches(), 30u);  // about 150 without the back-off
}

TEST(ContentionGuard, AReturnThatLastsResetsTheProbeInterval) {
  ContentionGuard guard(kSingleMs);
  feed(guard, ContentionGuard::kWindow, 20.0, kSingleMs);
  feed(guard, ContentionGuard::kProbeInterval + ContentionGuard::kProbeRuns, 6.0, kSingleMs);
  feed(guard, ContentionGuard::kWindow, 20.0, kSingleMs);  // back too soon: interval doubles
  EXPECT_EQ(guard.probe_interval(), 2 * ContentionGuard::kProbeInterval);
  feed(guard, 2 * ContentionGuard::kProbeInterval + ContentionGuard::kProbeRuns, 6.0, kSingleMs);
  ASSERT_FALSE(guard.use_single());
  feed(guard, ContentionGuard::kSettledRuns, 6.0, kSingleMs);
  EXPECT_EQ(guard.probe_interval(), ContentionGuard::kProbeInterval);
}

TEST(ContentionGuard, ComparesWithOneThreadAsItRunsNow) {
  // One thread got slower too (the whole machine is): the wide plan, still faster than
  // one thread is now, is taken back at the next probe.
  ContentionGuard guard(kSingleMs);
  feed(guard, ContentionGuard::kWindow, 20.0, kSingleMs);
  feed(guard, ContentionGuard::kProbeInterval + ContentionGuard::kProbeRuns, 16.0, 30.0);
  EXPECT_FALSE(guard.use_single());
}

}  // namespace
}  // namespace edgeperf::runtime
