// bench::check_variant_speed: the structure of its measurement and where it says a
// variant's extra time went. Timings themselves are not asserted (they are measured).
#include "edgeperf/bench/speed_check.h"

#include <gtest/gtest.h>

#include "edgeperf/graph/builder.h"

namespace edgeperf::bench {
namespace {

graph::Graph relu_model(bool with_floor) {
  graph::GraphBuilder builder("speed");
  const std::vector<graph::Dim> dims = {graph::Dim::fixed(1), graph::Dim::fixed(4096)};
  std::string y = builder.node("Relu", {builder.input("x", DType::f32, dims)});
  if (with_floor) y = builder.node("Floor", {y});
  builder.output(y, DType::f32, dims);
  return builder.build();
}

TEST(SpeedCheck, MeasuresEveryThreadCountAndNamesTheAddedOps) {
  SpeedCheckOptions options;
  options.threads = {1, 2};
  options.min_seconds = 0.01;
  options.min_runs = 6;
  const SpeedCheck check = check_variant_speed(relu_model(false), relu_model(true), options);
  ASSERT_EQ(check.speeds.size(), 2u);
  for (std::size_t i = 0; i < check.speeds.size(); ++i) {
    EXPECT_EQ(check.speeds[i].threads, options.threads[i]);
    EXPECT_GE(check.speeds[i].runs, options.min_runs);
    EXPECT_GT(check.speeds[i].input_p50_ms, 0);
    EXPECT_GT(check.speeds[i].variant_p50_ms, 0);
  }
  bool floor_named = false;
  for (const TimeGrowth& group : check.growth) {
    floor_named = floor_named || (group.ops == "Floor" && group.input_ms == 0);
  }
  EXPECT_TRUE(floor_named) << check.growth_text();
  EXPECT_NE(check.speeds_text().find("at 2 threads"), std::string::npos);
}

TEST(SpeedCheck, NothingToMeasureIsAnError) {
  SpeedCheckOptions options;
  options.threads = {};
  EXPECT_THROW(check_variant_speed(relu_model(false), relu_model(false), options), Error);
}

}  // namespace
}  // namespace edgeperf::bench
