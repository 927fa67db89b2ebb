// ActivationLayout::blocked (the first conv of an image model writes 16-channel blocks) and
// the session's measured choice between it and the automatic layout (layout_tuning.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/random.h"
#include "edgeperf/runtime/session.h"
#include "onednn_models.h"

namespace edgeperf::runtime::testing {
namespace {

using Ints = std::vector<std::int64_t>;

// A MobileNet-like stem: 3x3 stride-2 conv over an RGB image, a depthwise 3x3, a 1x1
// projection with a residual-free chain, then a global pool.
graph::Graph image_model(std::int64_t in_channels = 3) {
  ModelBuilder model({1, in_channels, 32, 32});
  const std::string stem = model.node(
      "Relu",
      {model.conv(model.x, in_channels, 16, 3, {{"strides", Ints{2, 2}}, {"pads", Ints(4, 1)}})});
  const std::string depthwise =
      model.relu6(model.conv(stem, 16, 16, 3, {{"group", std::int64_t{16}}, {"pads", Ints(4, 1)}}));
  const std::string projected = model.conv(depthwise, 16, 24, 1);
  return model.finish(model.node("GlobalAveragePool", {projected}));
}

Lowered lower_in(const Evaluated& evaluated, ActivationLayout layout, int threads) {
  std::unique_ptr<Backend> backend = make_onednn_backend();
  LoweringInput input = evaluated.lowering;
  input.threads = threads;
  input.layout = layout;
  return check_steps(evaluated, backend->lower(input), threads);
}

bool reorders_node(const Lowered& lowered, std::size_t node) {
  for (const Step& step : lowered.steps) {
    for (const KernelPart& part : step.kernel->parts()) {
      if (part.kind == "reorder" && std::count(part.nodes.begin(), part.nodes.end(), node) > 0)
        return true;
    }
  }
  return false;
}

TEST(LayoutTuning, BlockedLayoutComputesWhatTheReferenceDoes) {
  for (std::int64_t channels : {1, 3, 4}) {
    const Evaluated evaluated = evaluate(image_model(channels));
    for (int threads : {1, 2}) {
      SCOPED_TRACE("channels " + std::to_string(channels) + ", threads " + std::to_string(threads));
      for (ActivationLayout layout : {ActivationLayout::automatic, ActivationLayout::blocked}) {
        const Lowered lowered = lower_in(evaluated, layout, threads);
        expect_single_region(evaluated, lowered);
      }
    }
  }
}

// On AVX-512 oneDNN's direct conv reads the NCHW image as it is: no reorder before the stem
// (the automatic layout reorders the image to channels-last for brgconv).
TEST(LayoutTuning, BlockedStemReadsTheImageWithoutAReorder) {
  if (!CpuFeatures::host().avx512) GTEST_SKIP() << "AVX-512 only";
  const Evaluated evaluated = evaluate(image_model());
  EXPECT_FALSE(reorders_node(lower_in(evaluated, ActivationLayout::blocked, 1), 0));
  EXPECT_TRUE(reorders_node(lower_in(evaluated, ActivationLayout::automatic, 1), 0));
}

Tensor run_once(const graph::Graph& graph, const SessionOptions& options, LayoutChoice* choice) {
  Session session(graph, options);
  if (choice != nullptr) *choice = session.layout_choice();
  const Tensor x = random_tensor(DType::f32, session.inputs()[0].resolved_shape(), 3);
  return session.run({{"x", x}}).begin()->second.clone();
}

TEST(LayoutTuning, SessionTimesBothLayoutsOfAnImageModel) {
  const graph::Graph graph = image_model();
  for (int threads : {1, 2}) {
    SessionOptions options;
    options.threads = threads;
    LayoutChoice choice;
    const Tensor tuned = run_once(graph, options, &choice);
    EXPECT_GT(choice.automatic_ms, 0);
    EXPECT_GT(choice.blocked_ms, 0);
    EXPECT_TRUE(choice.used == "automatic" || choice.used == "blocked") << choice.used;
    EXPECT_NE(choice.reason.find(" ms against "), std::string::npos) << choice.reason;
    if (choice.used == "blocked") {
      EXPECT_LT(choice.blocked_ms, choice.automatic_ms * 0.97);
    }

    options.tune_layout = false;
    LayoutChoice untuned_choice;
    const Tensor untuned = run_once(graph, options, &untuned_choice);
    EXPECT_EQ(untuned_choice.used, "automatic");
    EXPECT_EQ(untuned_choice.automatic_ms, 0);
    EXPECT_LE(max_diff(tuned, untuned), 1e-4f * std::max(1.0f, max_abs(untuned)));
  }
}

TEST(LayoutTuning, OnlyImageModelsUnderTheTimingLimitAreTimed) {
  SessionOptions options;
  options.threads = 1;
  LayoutChoice choice;
  run_once(image_model(8), options, &choice);  // 8 channels: not an image
  EXPECT_EQ(choice.reason, "as built");
  EXPECT_EQ(choice.automatic_ms, 0);

  options.max_tuned_plan_ms = 0;
  run_once(image_model(), options, &choice);
  EXPECT_EQ(choice.used, "automatic");
  EXPECT_NE(choice.reason.find("over the 0 ms"), std::string::npos) << choice.reason;

  options.max_tuned_plan_ms = 20;
  options.backend = BackendKind::reference;
  run_once(image_model(), options, &choice);
  EXPECT_EQ(choice.reason, "as built");
}

}  // namespace
}  // namespace edgeperf::runtime::testing
