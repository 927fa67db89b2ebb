#include "edgeperf/zoo/zoo.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "edgeperf/core/error.h"

namespace edgeperf::zoo {
namespace {

using graph::Dim;
using graph::Graph;

// Parameters as PyTorch/Keras count trainable ones: weights, biases, BN gamma and beta.
// BN running statistics are buffers and Clip bounds are constants, so they are skipped.
std::int64_t trainable_parameter_count(const Graph& graph) {
  std::set<std::string> non_trainable;
  for (const graph::Node& node : graph.nodes) {
    if (node.op_type == "BatchNormalization") {
      non_trainable.insert(node.inputs.at(3));
      non_trainable.insert(node.inputs.at(4));
    } else if (node.op_type == "Clip") {
      for (std::size_t i = 1; i < node.inputs.size(); ++i) non_trainable.insert(node.inputs[i]);
    }
  }
  std::int64_t count = 0;
  for (const auto& [name, tensor] : graph.initializers) {
    if (!non_trainable.count(name)) count += tensor.numel();
  }
  return count;
}

std::map<std::string, int> op_histogram(const Graph& graph) {
  std::map<std::string, int> histogram;
  for (const graph::Node& node : graph.nodes) ++histogram[node.op_type];
  return histogram;
}

struct Expected {
  std::string name;
  std::int64_t trainable_parameters;
  std::vector<std::int64_t> input_shape;
  std::int64_t output_features;
  std::map<std::string, int> ops;
};

std::vector<Expected> expected_models() {
  return {
      // torchvision.models.mobilenet_v2(): 3,504,872 parameters.
      {"mobilenet_v2",
       3'504'872,
       {1, 3, 224, 224},
       1000,
       {{"Conv", 52},
        {"BatchNormalization", 52},
        {"Clip", 35},
        {"Add", 10},
        {"GlobalAveragePool", 1},
        {"Flatten", 1},
        {"Gemm", 1}}},
      // torchvision.models.resnet18(): 11,689,512 parameters.
      {"resnet18",
       11'689'512,
       {1, 3, 224, 224},
       1000,
       {{"Conv", 20},
        {"BatchNormalization", 20},
        {"Relu", 17},
        {"Add", 8},
        {"MaxPool", 1},
        {"GlobalAveragePool", 1},
        {"Flatten", 1},
        {"Gemm", 1}}},
      // MLPerf Tiny KWS DS-CNN (Keras reference): 23,756 trainable parameters.
      {"ds_cnn",
       23'756,
       {1, 1, 49, 10},
       12,
       {{"Conv", 9},
        {"BatchNormalization", 9},
        {"Relu", 9},
        {"GlobalAveragePool", 1},
        {"Flatten", 1},
        {"Gemm", 1}}},
      // MLPerf Tiny AD autoencoder (Keras reference): 267,928 trainable parameters.
      {"fc_autoencoder",
       267'928,
       {1, 640},
       640,
       {{"Gemm", 10}, {"BatchNormalization", 9}, {"Relu", 9}}},
      {"digits_cnn",
       38'282,
       {1, 1, 8, 8},
       10,
       {{"Conv", 2}, {"Relu", 3}, {"MaxPool", 1}, {"Flatten", 1}, {"Gemm", 2}}},
  };
}

TEST(Zoo, ListsEveryModelOnce) {
  const std::vector<ZooEntry> entries = zoo_list();
  std::set<std::string> names;
  for (const ZooEntry& entry : entries) {
    EXPECT_FALSE(entry.description.empty()) << entry.name;
    EXPECT_FALSE(entry.task.empty()) << entry.name;
    EXPECT_TRUE(names.insert(entry.name).second) << "duplicate " << entry.name;
  }
  for (const Expected& expected : expected_models()) {
    EXPECT_TRUE(names.count(expected.name)) << expected.name;
  }
  EXPECT_EQ(entries.size(), expected_models().size());
}

class ZooModelTest : public testing::TestWithParam<Expected> {};

TEST_P(ZooModelTest, MatchesItsReferenceArchitecture) {
  const Expected& expected = GetParam();
  Graph graph = build_zoo_model(expected.name);
  EXPECT_NO_THROW(graph::validate(graph));
  EXPECT_EQ(graph.opset, 13);
  EXPECT_EQ(trainable_parameter_count(graph), expected.trainable_parameters);
  EXPECT_EQ(op_histogram(graph), expected.ops);

  ASSERT_EQ(graph.inputs.size(), 1u);
  const graph::ValueInfo& input = graph.inputs[0];
  EXPECT_EQ(input.dtype, DType::f32);
  ASSERT_EQ(input.dims.size(), expected.input_shape.size());
  EXPECT_EQ(input.dims[0], Dim::named("batch"));
  EXPECT_EQ(input.resolved_shape(1), expected.input_shape);

  ASSERT_EQ(graph.outputs.size(), 1u);
  const graph::ValueInfo& output = graph.outputs[0];
  EXPECT_EQ(output.dims[0], Dim::named("batch"));
  EXPECT_EQ(output.resolved_shape(1), (Shape{1, expected.output_features}));

  for (const ZooEntry& entry : zoo_list()) {
    if (entry.name == expected.name) {
      EXPECT_EQ(entry.input_shape, expected.input_shape);
    }
  }
}

TEST_P(ZooModelTest, SameSeedGivesIdenticalWeights) {
  const std::string& name = GetParam().name;
  const Graph first = build_zoo_model(name, 7);
  const Graph second = build_zoo_model(name, 7);
  const Graph other = build_zoo_model(name, 8);
  ASSERT_EQ(first.initializers.size(), second.initializers.size());
  bool any_differs_from_other_seed = false;
  for (const auto& [value, tensor] : first.initializers) {
    const Tensor& again = second.initializers.at(value);
    ASSERT_EQ(tensor.shape(), again.shape()) << value;
    EXPECT_TRUE(std::equal(tensor.bytes().begin(), tensor.bytes().end(), again.bytes().begin()))
        << value;
    const Tensor& changed = other.initializers.at(value);
    if (!std::equal(tensor.bytes().begin(), tensor.bytes().end(), changed.bytes().begin())) {
      any_differs_from_other_seed = true;
    }
  }
  EXPECT_TRUE(any_differs_from_other_seed);
}

TEST_P(ZooModelTest, BatchNormStatisticsAreNonTrivial) {
  const Graph graph = build_zoo_model(GetParam().name);
  for (const graph::Node& node : graph.nodes) {
    if (node.op_type != "BatchNormalization") continue;
    const auto gamma = graph.initializers.at(node.inputs[1]).values<float>();
    const auto variance = graph.initializers.at(node.inputs[4]).values<float>();
    for (float value : gamma) EXPECT_NEAR(value, 1.0f, 0.25f) << node.label();
    for (float value : variance) {
      EXPECT_GE(value, 0.5f) << node.label();
      EXPECT_LE(value, 2.0f) << node.label();
    }
    EXPECT_NE(variance.front(), variance.back()) << node.label();
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, ZooModelTest, testing::ValuesIn(expected_models()),
                         [](const testing::TestParamInfo<Expected>& info) {
                           return info.param.name;
                         });

TEST(Zoo, DigitsCnnHasTheFixtureOpSequence) {
  const Graph graph = build_zoo_model("digits_cnn");
  std::vector<std::string> ops;
  for (const graph::Node& node : graph.nodes) ops.push_back(node.op_type);
  EXPECT_EQ(ops, (std::vector<std::string>{"Conv", "Relu", "Conv", "Relu", "MaxPool", "Flatten",
                                           "Gemm", "Relu", "Gemm"}));
}

TEST(Zoo, UnknownNameListsTheKnownOnes) {
  try {
    build_zoo_model("resnet1000");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("resnet1000"), std::string::npos) << message;
    for (const ZooEntry& entry : zoo_list()) {
      EXPECT_NE(message.find(entry.name), std::string::npos) << message;
    }
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace edgeperf::zoo
