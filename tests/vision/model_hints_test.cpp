#include "edgeperf/vision/model_hints.h"

#include <gtest/gtest.h>

#include "edgeperf/core/error.h"

namespace edgeperf::vision {
namespace {

TEST(ModelHints, UltralyticsExport) {
  const ModelHints hints =
      hints_from_metadata({{"author", "Ultralytics"},
                           {"stride", "32"},
                           {"task", "detect"},
                           {"imgsz", "[640, 640]"},
                           {"names", "{0: 'person', 1: \"bicycle\", 3: 'motorcycle'}"}});
  EXPECT_EQ(hints.source, "Ultralytics");
  EXPECT_EQ(hints.task, Task::detect);
  EXPECT_EQ(hints.fit, Fit::letterbox);
  EXPECT_EQ(hints.mean, (std::array<float, 3>{0, 0, 0}));
  EXPECT_EQ(hints.labels, (std::vector<std::string>{"person", "bicycle", "class 2", "motorcycle"}));
}

TEST(ModelHints, PlainKeysAndNothing) {
  const ModelHints hints =
      hints_from_metadata({{"labels", "cat\ndog"}, {"mean", "0.5,0.5,0.5"}, {"task", "pose"}});
  EXPECT_EQ(hints.source, "metadata");
  EXPECT_FALSE(hints.task.has_value());  // pose: left to the output shapes
  EXPECT_EQ(hints.labels, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(hints.mean, (std::array<float, 3>{0.5f, 0.5f, 0.5f}));
  EXPECT_FALSE(hints.std.has_value());
  EXPECT_EQ(hints_from_metadata({{"producer", "x"}}).source, "");
  EXPECT_THROW(hints_from_metadata({{"std", "0.2,0.2"}}), Error);
}

}  // namespace
}  // namespace edgeperf::vision
