#include "edgeperf/eval/evaluator.h"

#include <gtest/gtest.h>

#include "edgeperf/graph/builder.h"

namespace edgeperf::eval {
namespace {

using graph::Dim;

// y = Relu(x) on [batch, 4]: the logits are the inputs.
graph::Graph relu_model(Dim batch) {
  graph::GraphBuilder builder("relu");
  const std::string x = builder.input("x", DType::f32, {batch, Dim::fixed(4)});
  builder.output(builder.node("Relu", {x}, {}, "relu"), DType::f32, {batch, Dim::fixed(4)});
  return builder.build();
}

// `count` samples whose largest value sits at index (i % 4), labeled with it (or with
// the wrong class for every third sample).
Dataset one_hot_dataset(std::int64_t count) {
  Dataset data;
  data.inputs = Tensor(DType::f32, {count, 4});
  float* values = data.inputs.data<float>();
  for (std::int64_t i = 0; i < count; ++i) {
    values[i * 4 + i % 4] = 1.0F + static_cast<float>(i);
    data.labels.push_back(i % 3 == 0 ? (i + 1) % 4 : i % 4);
  }
  return data;
}

TEST(BatchPolicy, SymbolicBatchUpToTheLimitFixedBatchOne) {
  const graph::Graph dynamic = relu_model(Dim::named("batch"));
  const graph::Graph fixed = relu_model(Dim::fixed(1));
  EXPECT_EQ(batch_size_for(dynamic.inputs[0], 5), 5);
  EXPECT_EQ(batch_size_for(dynamic.inputs[0], 1000), kMaxBatch);
  EXPECT_EQ(batch_size_for(fixed.inputs[0], 1000), 1);
}

TEST(Evaluator, RunsEverySampleOnceInOrderWhateverTheBatch) {
  const Dataset data = one_hot_dataset(70);  // two full batches of 32 and a partial one
  for (const Dim& batch : {Dim::named("batch"), Dim::fixed(1)}) {
    const Evaluator evaluator(data);
    const Tensor outputs = evaluator.outputs(relu_model(batch));
    ASSERT_EQ(outputs.shape(), (Shape{70, 4}));
    for (std::int64_t i = 0; i < 70 * 4; ++i) {
      ASSERT_EQ(outputs.values<float>()[i], data.inputs.values<float>()[i]) << "element " << i;
    }
  }
}

TEST(Evaluator, AccuracyCountsTheCorrectRows) {
  const Evaluator evaluator(one_hot_dataset(9));  // rows 0, 3, 6 carry a wrong label
  const Accuracy accuracy = evaluator.accuracy(relu_model(Dim::named("batch")));
  EXPECT_EQ(accuracy.samples, 9);
  EXPECT_EQ(accuracy.top1_correct, 6);
}

TEST(Evaluator, RefusesUnlabeledAccuracyAndMultiInputModels) {
  Dataset unlabeled = one_hot_dataset(2);
  unlabeled.labels.clear();
  const Evaluator evaluator(unlabeled);
  EXPECT_THROW(evaluator.accuracy(relu_model(Dim::named("batch"))), Error);

  graph::GraphBuilder builder("two_inputs");
  const std::string a = builder.input("a", DType::f32, {Dim::named("batch"), Dim::fixed(4)});
  const std::string b = builder.input("b", DType::f32, {Dim::named("batch"), Dim::fixed(4)});
  builder.output(builder.node("Add", {a, b}), DType::f32, {Dim::named("batch"), Dim::fixed(4)});
  EXPECT_THROW(evaluator.outputs(builder.build()), Error);
}

TEST(FirstOutput, RunsTheFeedsAsGiven) {
  const Tensor x = make_tensor<float>({2, 4}, {-1, 2, -3, 4, 5, -6, 7, -8});
  const Tensor y = first_output(relu_model(Dim::named("batch")), {{"x", x}});
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  EXPECT_EQ(y.values<float>()[0], 0.0F);
  EXPECT_EQ(y.values<float>()[1], 2.0F);
}

}  // namespace
}  // namespace edgeperf::eval
