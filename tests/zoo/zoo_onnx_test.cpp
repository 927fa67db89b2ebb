// Zoo models survive ONNX export (onnx::checker) and re-import with libonnx shape inference.
#include <gtest/gtest.h>

#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/zoo/zoo.h"

namespace edgeperf::zoo {
namespace {

using graph::Dim;

const graph::ValueInfo* inferred(const graph::Graph& graph, const std::string& value) {
  for (const graph::ValueInfo& info : graph.value_info) {
    if (info.name == value) return &info;
  }
  return nullptr;
}

// The feature map entering the global pool (or the Flatten when there is none).
std::vector<Dim> pooled_feature_dims(const graph::Graph& graph) {
  for (const graph::Node& node : graph.nodes) {
    if (node.op_type == "GlobalAveragePool" || node.op_type == "Flatten") {
      const graph::ValueInfo* info = inferred(graph, node.inputs[0]);
      if (info != nullptr) return info->dims;
      ADD_FAILURE() << "no inferred shape for " << node.inputs[0];
      return {};
    }
  }
  return {};
}

struct ExportCase {
  std::string name;
  std::vector<Dim> pooled_dims;  // empty: the model has no spatial features
};

class ZooExportTest : public testing::TestWithParam<ExportCase> {};

TEST_P(ZooExportTest, RoundTripsThroughOnnx) {
  const ExportCase& expected = GetParam();
  const graph::Graph built = build_zoo_model(expected.name);
  const std::string bytes = onnx_io::serialize_model(built);
  const graph::Graph loaded = onnx_io::load_model_from_bytes(bytes, expected.name);
  EXPECT_EQ(loaded.opset, 13);
  EXPECT_EQ(loaded.nodes.size(), built.nodes.size());
  EXPECT_EQ(loaded.initializers.size(), built.initializers.size());
  EXPECT_EQ(loaded.parameter_count(), built.parameter_count());
  ASSERT_EQ(loaded.inputs.size(), 1u);
  EXPECT_EQ(loaded.inputs[0].dims, built.inputs[0].dims);
  ASSERT_EQ(loaded.outputs.size(), 1u);
  EXPECT_EQ(loaded.outputs[0].dims, built.outputs[0].dims);
  if (!expected.pooled_dims.empty()) {
    EXPECT_EQ(pooled_feature_dims(loaded), expected.pooled_dims);
  }
}

const Dim kBatch = Dim::named("batch");

INSTANTIATE_TEST_SUITE_P(
    AllModels, ZooExportTest,
    testing::Values(
        ExportCase{"mobilenet_v2", {kBatch, Dim::fixed(1280), Dim::fixed(7), Dim::fixed(7)}},
        ExportCase{"resnet18", {kBatch, Dim::fixed(512), Dim::fixed(7), Dim::fixed(7)}},
        ExportCase{"ds_cnn", {kBatch, Dim::fixed(64), Dim::fixed(25), Dim::fixed(5)}},
        ExportCase{"fc_autoencoder", {}},
        ExportCase{"digits_cnn", {kBatch, Dim::fixed(32), Dim::fixed(4), Dim::fixed(4)}}),
    [](const testing::TestParamInfo<ExportCase>& info) { return info.param.name; });

std::vector<std::string> op_sequence(const graph::Graph& graph) {
  std::vector<std::string> ops;
  for (const graph::Node& node : graph.nodes) ops.push_back(node.op_type);
  return ops;
}

std::vector<Shape> weight_shapes(const graph::Graph& graph) {
  std::vector<Shape> shapes;
  for (const graph::Node& node : graph.nodes) {
    for (const std::string& input : node.inputs) {
      const auto found = graph.initializers.find(input);
      if (found != graph.initializers.end()) shapes.push_back(found->second.shape());
    }
  }
  return shapes;
}

// tools/train_digits.py trains this very architecture; the zoo must not drift from it.
TEST(ZooExport, DigitsCnnMatchesTheTrainedFixture) {
  const graph::Graph fixture =
      onnx_io::load_model(std::string(EP_SOURCE_DIR) + "/models/fixtures/digits_cnn.onnx");
  const graph::Graph zoo_model = build_zoo_model("digits_cnn");
  EXPECT_EQ(op_sequence(fixture), op_sequence(zoo_model));
  EXPECT_EQ(weight_shapes(fixture), weight_shapes(zoo_model));
  EXPECT_EQ(fixture.parameter_count(), zoo_model.parameter_count());
  ASSERT_EQ(fixture.inputs.size(), 1u);
  EXPECT_EQ(fixture.inputs[0].dims, zoo_model.inputs[0].dims);
}

}  // namespace
}  // namespace edgeperf::zoo
