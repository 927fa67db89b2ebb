#include "edgeperf/eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace edgeperf::eval {
namespace {

TEST(Accuracy, TopKPerClassAndConfusion) {
  // 4 samples, 3 classes.
  const Tensor logits =
      make_tensor<float>({4, 3}, {0.9f, 0.1f, 0.0f,    // predicts 0, label 0: correct
                                  0.2f, 0.7f, 0.1f,    // predicts 1, label 2: wrong, label is 3rd
                                  0.1f, 0.3f, 0.6f,    // predicts 2, label 2: correct
                                  0.5f, 0.4f, 0.1f});  // predicts 0, label 1: wrong, label 2nd
  const Accuracy accuracy = score(logits, {0, 2, 2, 1});
  EXPECT_EQ(accuracy.top1_correct, 2);
  EXPECT_DOUBLE_EQ(accuracy.top1, 0.5);
  EXPECT_EQ(accuracy.top5_correct, 4);  // only 3 classes: top-5 covers all
  EXPECT_EQ(accuracy.confusion[2][1], 1);
  EXPECT_EQ(accuracy.confusion[1][0], 1);
  EXPECT_DOUBLE_EQ(accuracy.per_class[0], 1.0);
  EXPECT_DOUBLE_EQ(accuracy.per_class[1], 0.0);
  EXPECT_DOUBLE_EQ(accuracy.per_class[2], 0.5);
  EXPECT_THROW(score(logits, {0, 1, 2}), Error);
  EXPECT_THROW(score(logits, {0, 1, 2, 7}), Error);
}

TEST(Fidelity, IdenticalAndPerturbed) {
  const Tensor a = make_tensor<float>({2, 3}, {1, 2, 3, 3, 2, 1});
  const Fidelity same = compare_outputs(a, a);
  EXPECT_TRUE(std::isinf(same.sqnr_db));
  EXPECT_NEAR(same.cosine, 1.0, 1e-12);
  EXPECT_EQ(same.top1_agreement, 1.0);
  const Tensor b = make_tensor<float>({2, 3}, {1, 2, 3.1f, 3, 3.5f, 1});
  const Fidelity perturbed = compare_outputs(a, b);
  EXPECT_EQ(perturbed.top1_agreement, 0.5);
  EXPECT_LT(perturbed.sqnr_db, 20);
  EXPECT_GT(perturbed.sqnr_db, 5);
}

TEST(Sqnr, MatchesTheDefinition) {
  const Tensor ref = make_tensor<float>({2}, {1.0F, 1.0F});
  EXPECT_TRUE(std::isinf(sqnr_db(ref, ref)));
  EXPECT_NEAR(sqnr_db(ref, make_tensor<float>({2}, {1.0F, 0.0F})), 10.0 * std::log10(2.0), 1e-9);
  EXPECT_THROW(sqnr_db(ref, Tensor(DType::f32, {3})), Error);
}

TEST(Sqnr, SumsOverPairsBeforeTheRatio) {
  // Pair 1: signal 4, noise 1. Pair 2: signal 4, noise 0. Together: 8 / 1, not the mean of dBs.
  SqnrSums sums;
  sums.add(make_tensor<float>({1}, {2.0F}), make_tensor<float>({1}, {1.0F}), "first");
  sums.add(make_tensor<float>({1}, {2.0F}), make_tensor<float>({1}, {2.0F}), "second");
  EXPECT_NEAR(sums.db(), 10.0 * std::log10(8.0), 1e-9);
  EXPECT_TRUE(std::isinf(SqnrSums().db()));
}

TEST(Sqnr, AcceptsAnyDtypeAndNamesTheMismatchedPair) {
  const Tensor ints = make_tensor<std::int32_t>({2}, {3, 4});
  EXPECT_TRUE(std::isinf(sqnr_db(ints, ints)));
  SqnrSums sums;
  try {
    sums.add(ints, Tensor(DType::i32, {3}), "output 'logits' (sample 7)");
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("output 'logits' (sample 7)"), std::string::npos);
  }
}

TEST(Cosine, ParallelOrthogonalAndZero) {
  const Tensor a = make_tensor<float>({2}, {1, 0});
  EXPECT_NEAR(cosine_similarity(a, make_tensor<float>({2}, {3, 0})), 1.0, 1e-12);
  EXPECT_NEAR(cosine_similarity(a, make_tensor<float>({2}, {0, 2})), 0.0, 1e-12);
  EXPECT_NEAR(cosine_similarity(a, make_tensor<float>({2}, {-1, 0})), -1.0, 1e-12);
  EXPECT_EQ(cosine_similarity(a, Tensor(DType::f32, {2})), 0.0);
}

TEST(Agreement, CountsRowsWithTheSameArgmax) {
  const Tensor reference = make_tensor<float>({3, 2}, {1, 0, 0, 1, 1, 0});
  const Tensor candidate = make_tensor<float>({3, 2}, {2, 1, 1, 0, 5, 4});
  EXPECT_NEAR(top1_agreement(reference, candidate), 2.0 / 3.0, 1e-12);
  EXPECT_THROW(top1_agreement(reference, Tensor(DType::f32, {2, 3})), Error);
}

TEST(Fidelity, RefusesNonFloatOutputs) {
  const Tensor ints = make_tensor<std::int32_t>({1, 2}, {1, 2});
  EXPECT_THROW(compare_outputs(ints, ints), Error);
}

}  // namespace
}  // namespace edgeperf::eval
