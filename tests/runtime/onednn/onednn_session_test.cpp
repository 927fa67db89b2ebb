// The plan's view of oneDNN steps: memory shared between regions.
#include <gtest/gtest.h>

#include "edgeperf/runtime/session.h"
#include "onednn_models.h"

namespace edgeperf::runtime::testing {
namespace {

// Regions run one at a time, so they share one scratch buffer: a model with two equal
// regions (split by a Floor, which runs on the reference backend) needs no more than a model with
// one.
TEST(OnednnBackend, RegionsShareOneTransientBuffer) {
  const auto block = [](ModelBuilder& model, const std::string& input) {
    return model.node("Relu",
                      {model.conv(model.node("Relu", {model.conv(input, 16, 16, 3)}), 16, 16, 3)});
  };
  const auto workspace = [](const graph::Graph& graph) {
    SessionOptions options;
    options.backend = BackendKind::onednn;
    Session session(graph, options);
    return session.memory_plan().kernel_workspace_bytes;
  };
  ModelBuilder one({1, 16, 16, 16});
  const std::size_t one_region = workspace(one.finish(block(one, one.x)));
  ModelBuilder two({1, 16, 16, 16});
  const std::string split = two.node("Floor", {block(two, two.x)});
  const graph::Graph two_regions = two.finish(block(two, split));
  SessionOptions options;
  options.backend = BackendKind::onednn;
  Session session(two_regions, options);
  std::size_t regions = 0;
  for (const StepInfo& step : session.steps()) regions += step.backend == "onednn";
  ASSERT_EQ(regions, 2u);
  EXPECT_GT(one_region, 0u);
  EXPECT_EQ(session.memory_plan().kernel_workspace_bytes, one_region);
}

}  // namespace
}  // namespace edgeperf::runtime::testing
