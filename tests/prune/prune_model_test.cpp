// Whole-model pruning checks: accuracy of the bundled trained model after 50% magnitude
// pruning (measured with our runtime, no fine-tuning), and the size of an 80%-sparse ResNet-18.
#include <gtest/gtest.h>

#include "edgeperf/eval/evaluator.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/prune/prune.h"
#include "edgeperf/prune/sparse_format.h"
#include "edgeperf/runtime/session.h"
#include "edgeperf/zoo/zoo.h"

namespace edgeperf::prune {
namespace {

const std::string kFixtures = std::string(EP_SOURCE_DIR) + "/models/fixtures/";

double accuracy_of(const std::string& model_bytes, const eval::Dataset& data) {
  runtime::SessionOptions options;
  options.input_shapes["input"] = data.inputs.shape();
  runtime::Session session(onnx_io::load_model_from_bytes(model_bytes), options);
  const auto outputs = session.run({{"input", data.inputs}});
  return eval::score(outputs.at("logits"), data.labels).top1;
}

std::set<std::string> pruned_weights(const PruneResult& result) {
  std::set<std::string> weights;
  for (const LayerReport& report : result.layers) {
    if (report.pruned) weights.insert(report.layer.weight);
  }
  return weights;
}

TEST(DigitsCnn, HalfTheWeightsPrunedLosesAtMostOnePoint) {
  const graph::Graph dense = onnx_io::load_model(kFixtures + "digits_cnn.onnx");
  const eval::Dataset data = eval::load_dataset(kFixtures + "digits_eval");
  const double dense_top1 = accuracy_of(onnx_io::serialize_model(dense), data);
  EXPECT_NEAR(dense_top1, 352.0 / 360.0, 1e-9);  // the fixture's documented accuracy
  for (Scope scope : {Scope::global, Scope::layer}) {
    PruneOptions options;
    options.sparsity = 0.5;
    options.scope = scope;
    const PruneResult result = prune_model(dense, options);
    EXPECT_NEAR(result.pruned_layers_sparsity, 0.5, 1e-3);
    for (StorageFormat format : {StorageFormat::compressed, StorageFormat::onnx_sparse}) {
      const std::string bytes =
          serialize_pruned_model(result.model, pruned_weights(result), format);
      const double top1 = accuracy_of(bytes, data);
      EXPECT_GE(top1, dense_top1 - 0.01) << "scope " << int(scope) << " format " << int(format);
      std::printf("digits_cnn 50%% (%s scope, %s): top1 %.4f (dense %.4f)\n",
                  scope == Scope::global ? "global" : "layer", storage_format_name(format).c_str(),
                  top1, dense_top1);
    }
  }
}

TEST(ResNet18, EightyPercentSparseFileIsAtMostAThirdOfDense) {
  const graph::Graph dense = zoo::build_zoo_model("resnet18");
  const std::size_t dense_bytes = onnx_io::serialize_model(dense).size();
  PruneOptions options;
  options.sparsity = 0.8;
  const PruneResult result = prune_model(dense, options);
  const std::string compressed =
      serialize_pruned_model(result.model, pruned_weights(result), StorageFormat::compressed);
  const double ratio = static_cast<double>(compressed.size()) / static_cast<double>(dense_bytes);
  std::printf("resnet18 80%%: dense %zu bytes, compressed %zu bytes, %.3fx\n", dense_bytes,
              compressed.size(), ratio);
  EXPECT_LE(ratio, 0.35);
  // The compressed file loads and decodes to exactly the pruned weights.
  graph::Graph loaded = onnx_io::load_model_from_bytes(compressed);
  EXPECT_GT(decode_sparse_weights(loaded), 15u);
  for (const std::string& weight : pruned_weights(result)) {
    const auto a = loaded.initializers.at(weight).values<float>();
    const auto b = result.model.initializers.at(weight).values<float>();
    ASSERT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << weight;
  }
}

}  // namespace
}  // namespace edgeperf::prune
