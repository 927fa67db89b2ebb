// Resize in the oneDNN region (ops/resize.cpp): bilinear with half_pixel coordinates,
// from sizes or from scales, enlarging, shrinking and from one pixel, against the
// reference kernels. Scales whose output size was rounded (5 x 1.7 -> 8), other modes and
// coordinate modes stay there.
#include <gtest/gtest.h>

#include "onednn_models.h"

namespace edgeperf::runtime::testing {
namespace {

struct ResizeCase {
  Shape input;
  std::vector<float> scales;  // empty: `sizes` gives the output
  std::vector<std::int64_t> sizes;
  std::string coordinates;
  std::string mode;
  bool in_region;  // runs as oneDNN's resampling
};

int resampling_parts(const Lowered& lowered) {
  int count = 0;
  for (const Step& step : lowered.steps) {
    if (step.backend != "onednn") continue;
    for (const KernelPart& part : step.kernel->parts()) count += part.kind == "resampling";
  }
  return count;
}

TEST(OnednnResize, LinearHalfPixelSweep) {
  const std::vector<ResizeCase> cases = {
      {{1, 8, 5, 7}, {}, {1, 8, 13, 20}, "half_pixel", "linear", true},
      {{1, 8, 4, 6}, {1.0f, 1.0f, 1.75f, 2.5f}, {}, "half_pixel", "linear", true},
      {{1, 8, 5, 5}, {1.0f, 1.0f, 1.7f, 2.5f}, {}, "half_pixel", "linear", false},
      {{1, 4, 17, 13}, {}, {1, 4, 6, 5}, "half_pixel", "linear", true},
      {{2, 3, 6, 4}, {}, {2, 3, 12, 9}, "pytorch_half_pixel", "linear", true},
      {{1, 16, 1, 1}, {}, {1, 16, 9, 9}, "half_pixel", "linear", true},
      {{1, 8, 5, 7}, {}, {1, 8, 10, 14}, "align_corners", "linear", false},
      {{1, 8, 5, 7}, {}, {1, 8, 10, 14}, "half_pixel", "nearest", false},
      {{1, 8, 5, 7}, {}, {1, 8, 1, 14}, "pytorch_half_pixel", "linear", false},
  };
  for (const ResizeCase& c : cases) {
    for (int threads : {1, 2}) {
      ModelBuilder model(c.input);
      // A conv before and after, so that the resize sits inside a region.
      const std::string x = model.conv(model.x, c.input[1], c.input[1], 1);
      const std::string scales = c.scales.empty() ? "" : model.constant_f32(c.scales);
      std::vector<std::string> inputs = {x, "", scales};
      if (!c.sizes.empty()) inputs.push_back(model.constant_i64(c.sizes));
      const std::string resized = model.node(
          "Resize", inputs, {{"mode", c.mode}, {"coordinate_transformation_mode", c.coordinates}});
      const std::string y = model.conv(resized, c.input[1], c.input[1], 1);
      SCOPED_TRACE(::testing::Message()
                   << c.mode << " " << c.coordinates << " from "
                   << ::testing::PrintToString(c.input)
                   << (c.scales.empty() ? " by sizes " : " by scales ") << threads << " threads");
      const Lowered lowered = lower_and_check(evaluate(model.finish(y)), threads);
      EXPECT_EQ(resampling_parts(lowered), c.in_region ? 1 : 0);
    }
  }
}

}  // namespace
}  // namespace edgeperf::runtime::testing
