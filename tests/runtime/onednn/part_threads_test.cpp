// Ops of a oneDNN region run on one thread within a plan on two (part_threads.h).
#include "part_threads.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "edgeperf/core/random.h"
#include "onednn_models.h"
#include "providers.h"

namespace edgeperf::runtime::testing {
namespace {

constexpr int kThreads = 2;

// conv -> relu -> 1x1 conv + skip -> swish (a custom op) -> max pool -> global pool:
// primitives and a custom op in one region.
graph::Graph mixed_region() {
  ModelBuilder model({1, 8, 40, 40});
  const std::string a = model.node(
      "Relu", {model.conv(model.x, 8, 16, 3, {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}})});
  const std::string sum = model.node("Add", {model.conv(a, 16, 16, 1), a});
  const std::string swish = model.node("Mul", {sum, model.node("Sigmoid", {sum})});
  const std::string pooled = model.node("MaxPool", {sum},
                                        {{"kernel_shape", std::vector<std::int64_t>{2, 2}},
                                         {"strides", std::vector<std::int64_t>{2, 2}}});
  return model.finish(model.node("GlobalAveragePool", {pooled}));
}

class PartThreadsTest : public ::testing::Test {
 protected:
  PartThreadsTest() : graph_(mixed_region()) {
    SessionOptions options;
    options.backend = BackendKind::onednn;
    providers_ = make_providers(options);
    for (const auto& provider : providers_) provider_list_.push_back(provider.get());
    const InputShapes shapes;
    plan_ = std::make_unique<Plan>(PlanRequest{graph_, shapes, 1, kThreads, provider_list_});
    feeds_ = {{"x", random_tensor(DType::f32, {1, 8, 40, 40}, 5)}};
  }

  Tensor output() { return plan_->run(feeds_, kThreads).begin()->second.clone(); }

  // Implementations of the region's parts that say they run on one thread.
  std::size_t parts_on_one_thread() const {
    std::size_t count = 0;
    for (const StepInfo& step : plan_->step_infos()) {
      for (const KernelPart& part : step.parts)
        count += part.implementation.find(" on 1 thread") != std::string::npos;
    }
    return count;
  }

  graph::Graph graph_;
  std::vector<std::unique_ptr<Backend>> providers_;
  std::vector<Backend*> provider_list_;
  std::unique_ptr<Plan> plan_;
  std::map<std::string, Tensor> feeds_;
};

void expect_close(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.shape(), expected.shape());
  const auto a = actual.values<float>();
  const auto e = expected.values<float>();
  for (std::size_t i = 0; i < e.size(); ++i)
    ASSERT_NEAR(a[i], e[i], 1e-5f * (1 + std::fabs(e[i]))) << "at " << i;
}

TEST_F(PartThreadsTest, EveryPartOnOneThreadComputesTheSameAndSaysSo) {
  const std::vector<std::size_t> counts = plan_->part_counts();
  std::size_t parts = 0;
  for (std::size_t count : counts) parts += count;
  ASSERT_GE(parts, 4u) << "the model should lower to one region of several ops";
  const Tensor wide = output();
  EXPECT_EQ(parts_on_one_thread(), 0u);
  for (std::size_t step = 0; step < counts.size(); ++step) {
    for (std::size_t part = 0; part < counts[step]; ++part) plan_->set_part_threads(step, part, 1);
  }
  EXPECT_EQ(parts_on_one_thread(), parts);
  expect_close(output(), wide);
  for (std::size_t step = 0; step < counts.size(); ++step) {
    for (std::size_t part = 0; part < counts[step]; ++part) plan_->set_part_threads(step, part, 0);
  }
  EXPECT_EQ(parts_on_one_thread(), 0u);
  expect_close(output(), wide);
}

TEST_F(PartThreadsTest, TheChoiceIsMeasuredAndLeftApplied) {
  const Tensor wide = output();
  const PartThreadChoice choice = choose_part_threads(*plan_, feeds_, kThreads, 5);
  EXPECT_EQ(choice.runs, 5);
  EXPECT_GT(choice.wide_ms, 0);
  const std::vector<std::size_t> counts = plan_->part_counts();
  for (const PartThreads& part : choice.single) {
    ASSERT_LT(part.step, counts.size());
    EXPECT_LT(part.part, counts[part.step]);
  }
  if (!choice.single.empty()) EXPECT_GT(choice.mixed_ms, 0);
  EXPECT_EQ(parts_on_one_thread(), choice.single.size());
  expect_close(output(), wide);
}

TEST_F(PartThreadsTest, AChoiceIsAppliedOnlyToAPlanWithTheSameParts) {
  std::vector<std::size_t> counts = plan_->part_counts();
  const std::vector<PartThreads> first{{0, 0}};
  ASSERT_FALSE(counts.empty());
  counts[0] += 1;
  EXPECT_FALSE(apply_part_threads(*plan_, first, counts));
  EXPECT_EQ(parts_on_one_thread(), 0u);
  EXPECT_TRUE(apply_part_threads(*plan_, first, plan_->part_counts()));
  EXPECT_EQ(parts_on_one_thread(), 1u);
}

// The session's one-thread standby shares the wide plan's buffers (Plan::share_buffers_with):
// runs of the two, alternating on different inputs, each compute what they compute alone.
TEST_F(PartThreadsTest, PlansSharingBuffersComputeWhatTheyComputeAlone) {
  const InputShapes shapes;
  Plan single(PlanRequest{graph_, shapes, 1, 1, provider_list_});
  const std::map<std::string, Tensor> other{{"x", random_tensor(DType::f32, {1, 8, 40, 40}, 6)}};
  const Tensor wide_expected = output();
  const Tensor single_expected = single.run(other, 1).begin()->second.clone();
  ASSERT_GT(plan_->memory().arena_bytes + plan_->memory().kernel_workspace_bytes, 0u);
  plan_->share_buffers_with(single);
  for (int round = 0; round < 3; ++round) {
    expect_close(single.run(other, 1).begin()->second, single_expected);
    expect_close(output(), wide_expected);
  }
}

}  // namespace
}  // namespace edgeperf::runtime::testing
