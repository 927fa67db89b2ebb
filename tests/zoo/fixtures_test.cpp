// The committed digits fixtures (models/fixtures, written by tools/train_digits.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "edgeperf/core/npy.h"

namespace edgeperf {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = fs::path(EP_SOURCE_DIR) / "models" / "fixtures";
constexpr std::int64_t kClasses = 10;

std::int64_t correct_predictions(const Tensor& logits, const Tensor& labels) {
  const auto scores = logits.values<float>();
  const auto truth = labels.values<std::int64_t>();
  std::int64_t correct = 0;
  for (std::int64_t row = 0; row < logits.dim(0); ++row) {
    const float* first = scores.data() + row * kClasses;
    const auto predicted = std::max_element(first, first + kClasses) - first;
    if (predicted == truth[static_cast<std::size_t>(row)]) ++correct;
  }
  return correct;
}

TEST(Fixtures, CommittedFilesExistAndStaySmall) {
  for (const char* name :
       {"digits_cnn.onnx", "digits_mlp.onnx", "digits_eval_inputs.npy", "digits_eval_labels.npy",
        "digits_eval_logits.npy", "digits_mlp_eval_logits.npy", "README.md"}) {
    const fs::path path = kFixtures / name;
    ASSERT_TRUE(fs::is_regular_file(path)) << path;
    EXPECT_GT(fs::file_size(path), 0u) << path;
    EXPECT_LT(fs::file_size(path), 1'000'000u) << path;
  }
}

TEST(Fixtures, EvalInputsAreScaledDigitImages) {
  const Tensor inputs = read_npy(kFixtures / "digits_eval_inputs.npy");
  ASSERT_EQ(inputs.dtype(), DType::f32);
  ASSERT_EQ(inputs.rank(), 4);
  EXPECT_GT(inputs.dim(0), 100);
  EXPECT_EQ(inputs.shape(), (Shape{inputs.dim(0), 1, 8, 8}));
  float largest = 0.0f;
  for (float pixel : inputs.values<float>()) {
    ASSERT_GE(pixel, 0.0f);
    ASSERT_LE(pixel, 1.0f);
    largest = std::max(largest, pixel);
  }
  EXPECT_EQ(largest, 1.0f);  // 16/16: the scaling is x/16, not something else
}

TEST(Fixtures, LabelsCoverEveryClassAndMatchTheInputs) {
  const Tensor inputs = read_npy(kFixtures / "digits_eval_inputs.npy");
  const Tensor labels = read_npy(kFixtures / "digits_eval_labels.npy");
  ASSERT_EQ(labels.dtype(), DType::i64);
  ASSERT_EQ(labels.shape(), (Shape{inputs.dim(0)}));
  std::set<std::int64_t> classes;
  for (std::int64_t label : labels.values<std::int64_t>()) {
    ASSERT_GE(label, 0);
    ASSERT_LT(label, kClasses);
    classes.insert(label);
  }
  EXPECT_EQ(classes.size(), static_cast<std::size_t>(kClasses));
}

TEST(Fixtures, GoldenLogitsAreFiniteAndAgreeWithTheLabels) {
  const Tensor labels = read_npy(kFixtures / "digits_eval_labels.npy");
  for (const char* name : {"digits_eval_logits.npy", "digits_mlp_eval_logits.npy"}) {
    const Tensor logits = read_npy(kFixtures / name);
    ASSERT_EQ(logits.dtype(), DType::f32) << name;
    ASSERT_EQ(logits.shape(), (Shape{labels.dim(0), kClasses})) << name;
    for (float value : logits.values<float>()) ASSERT_TRUE(std::isfinite(value)) << name;
    // Trained models: the goldens must be far better than chance (10%).
    EXPECT_GE(correct_predictions(logits, labels), labels.dim(0) * 9 / 10) << name;
  }
}

}  // namespace
}  // namespace edgeperf
