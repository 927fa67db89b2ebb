// The training engine: its forward pass against edgeperf's runtime, QAT starting exactly
// at the PTQ model, masks that hold, bad input, and reproducibility.
#include "edgeperf/train/train.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "edgeperf/core/error.h"
#include "edgeperf/eval/dataset.h"
#include "edgeperf/eval/evaluator.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/passes/passes.h"
#include "edgeperf/prune/prune.h"
#include "edgeperf/quant/dataset_source.h"
#include "edgeperf/quant/quantize.h"

namespace edgeperf::train {
namespace {

const std::string kFixtures = std::string(EP_SOURCE_DIR) + "/models/fixtures/";

graph::Graph load(const std::string& name) {
  std::vector<std::string> log;
  return passes::optimized_for_quantization(onnx_io::load_model(kFixtures + name + ".onnx"), log);
}

eval::Dataset data(const graph::Graph& model, const std::string& spec, bool labels) {
  eval::LoadOptions options;
  options.require_labels = labels;
  options.input = model.inputs.front();
  eval::Dataset dataset = eval::load_dataset(kFixtures + spec, options);
  if (!labels) dataset.labels.clear();
  return dataset;
}

double runtime_accuracy(const graph::Graph& model, const eval::Dataset& held_out) {
  return eval::Evaluator(held_out).accuracy(model).top1;
}

quant::QuantizeResult ptq(const graph::Graph& model, int weight_bits, bool per_channel) {
  quant::QuantizeOptions options;
  options.mode = quant::QuantMode::static_int8;
  options.per_channel = per_channel;
  options.weight_bits = weight_bits;
  quant::DatasetSampleSource source(kFixtures + "kws_calib_inputs.npy", model, 0);
  return quant::quantize_model(model, options, &source);
}

TrainOptions quick(int epochs) {
  TrainOptions options;
  options.epochs = epochs;
  options.lr = 1e-4;
  options.batch = 32;
  return options;
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(TrainEngine, FloatForwardScoresAsTheRuntime) {
  for (const std::string name : {"kws_dscnn", "digits_cnn"}) {
    const graph::Graph model = load(name);
    const std::string prefix = name == "kws_dscnn" ? "kws_eval" : "digits_eval";
    const eval::Dataset held_out = data(model, prefix, true);
    EXPECT_DOUBLE_EQ(engine_accuracy(model, held_out), runtime_accuracy(model, held_out)) << name;
  }
}

TEST(TrainEngine, FakeQuantizedForwardScoresAsTheInt8Runtime) {
  const graph::Graph model = load("kws_dscnn");
  const eval::Dataset held_out = data(model, "kws_eval", true);
  const quant::QuantizeResult quantized = ptq(model, 4, true);
  // Fake quantization rounds as QuantizeLinear does; the int8 kernels accumulate exactly,
  // so only float summation order differs: a sample or two may flip.
  EXPECT_NEAR(engine_accuracy(quantized.model, held_out),
              runtime_accuracy(quantized.model, held_out), 2.5 / 444);
}

TEST(Qat, ZeroEpochsWriteThePtqModel) {
  const graph::Graph model = load("kws_dscnn");
  const quant::QuantizeResult quantized = ptq(model, 4, true);
  const eval::Dataset calib = data(model, "kws_calib_inputs.npy", false);
  const TrainResult result = quantization_aware(quantized.model, &quantized.prepared,
                                                TrainInputs{&calib, &model}, quick(0));
  ASSERT_EQ(result.model.initializers.size(), quantized.model.initializers.size());
  for (const auto& [name, tensor] : quantized.model.initializers) {
    const Tensor& trained = result.model.initializers.at(name);
    ASSERT_EQ(trained.dtype(), tensor.dtype()) << name;
    ASSERT_EQ(trained.shape(), tensor.shape()) << name;
    EXPECT_TRUE(std::equal(trained.bytes().begin(), trained.bytes().end(), tensor.bytes().begin()))
        << name;
  }
}

TEST(Qat, DistillationRecoversA3BitPerTensorModel) {
  const graph::Graph model = load("kws_dscnn");
  const eval::Dataset held_out = data(model, "kws_eval", true);
  const quant::QuantizeResult quantized = ptq(model, 3, false);
  const eval::Dataset calib = data(model, "kws_calib_inputs.npy", false);
  TrainOptions options = quick(8);
  options.weight_bits = 3;
  const TrainResult result = quantization_aware(quantized.model, &quantized.prepared,
                                                TrainInputs{&calib, &model}, options);
  ASSERT_EQ(result.epochs.size(), 8U);
  const double before = runtime_accuracy(quantized.model, held_out);
  const double after = runtime_accuracy(result.model, held_out);
  EXPECT_GT(after, before) << "PTQ " << before << ", QAT " << after;
  // Same QDQ layout: every node and initializer of the PTQ model, same types.
  ASSERT_EQ(result.model.nodes.size(), quantized.model.nodes.size());
  for (std::size_t i = 0; i < result.model.nodes.size(); ++i) {
    EXPECT_EQ(result.model.nodes[i].op_type, quantized.model.nodes[i].op_type);
  }
  // The weights stay on the 3-bit grid.
  for (const auto& [name, tensor] : result.model.initializers) {
    if (tensor.dtype() != DType::i8) continue;
    for (std::int8_t value : tensor.values<std::int8_t>()) ASSERT_LE(std::abs(value), 3) << name;
  }
}

// Prune, then QAT: the pruned zeros stay zero in the int8 weights.
TEST(Qat, APrunedModelKeepsItsZeros) {
  const graph::Graph model = load("kws_dscnn");
  prune::PruneOptions pruning;
  pruning.sparsity = 0.7;
  const graph::Graph pruned = prune::prune_model(model, pruning).model;
  const quant::QuantizeResult quantized = ptq(pruned, 4, true);
  const eval::Dataset calib = data(model, "kws_calib_inputs.npy", false);
  TrainOptions options = quick(2);
  options.lr = 1e-2;  // large steps: a zero without its mask would move off the grid's 0
  options.weight_bits = 4;
  const TrainResult result = quantization_aware(quantized.model, &quantized.prepared,
                                                TrainInputs{&calib, &pruned}, options);
  // Each layer's pruned float weight against its trained int8 weight (same node names).
  std::int64_t zeros = 0;
  for (const graph::Node& node : quantized.prepared.nodes) {
    if (node.op_type != "Conv" && node.op_type != "Gemm") continue;
    const auto pruned_weight = quantized.prepared.initializers.at(node.inputs[1]).values<float>();
    const auto quantized_node =
        std::find_if(result.model.nodes.begin(), result.model.nodes.end(),
                     [&](const graph::Node& other) { return other.name == node.name; });
    ASSERT_NE(quantized_node, result.model.nodes.end()) << node.name;
    const graph::Node* dq = result.model.producer_of(quantized_node->inputs[1]);
    ASSERT_NE(dq, nullptr);
    const auto after = result.model.initializers.at(dq->inputs[0]).values<std::int8_t>();
    ASSERT_EQ(after.size(), pruned_weight.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
      if (pruned_weight[i] != 0.0F) continue;
      ++zeros;
      ASSERT_EQ(after[i], 0) << node.name << " element " << i;
    }
  }
  EXPECT_GT(zeros, 10000);
}

TEST(Qat, SameSeedSameBytes) {
  const graph::Graph model = load("kws_dscnn");
  const quant::QuantizeResult quantized = ptq(model, 4, true);
  const eval::Dataset calib = data(model, "kws_calib_inputs.npy", false);
  const auto run = [&](std::uint64_t seed) {
    TrainOptions options = quick(2);
    options.seed = seed;
    options.weight_bits = 4;
    return onnx_io::serialize_model(quantization_aware(quantized.model, &quantized.prepared,
                                                       TrainInputs{&calib, &model}, options)
                                        .model);
  };
  const std::string first = run(7);
  EXPECT_EQ(first, run(7));
  EXPECT_NE(first, run(8));  // the batch order follows the seed
}

std::int64_t zeros_of(const Tensor& tensor) {
  std::int64_t zeros = 0;
  for (float value : tensor.values<float>()) zeros += value == 0.0F ? 1 : 0;
  return zeros;
}

TEST(Finetune, EveryZeroStaysZero) {
  const graph::Graph model = load("kws_dscnn");
  const eval::Dataset calib = data(model, "kws_calib_inputs.npy", false);
  for (const prune::Method method : {prune::Method::magnitude, prune::Method::two_four}) {
    prune::PruneOptions options;
    options.method = method;
    options.sparsity = 0.7;
    const graph::Graph pruned = prune::prune_model(model, options).model;
    const TrainResult result = finetune_masked(pruned, TrainInputs{&calib, &model}, [] {
      TrainOptions o = quick(2);
      o.lr = 1e-2;  // large steps: every masked weight would move without its mask
      return o;
    }());
    std::int64_t zeros = 0;
    for (const graph::Node& node : pruned.nodes) {
      if (node.op_type != "Conv" && node.op_type != "Gemm") continue;
      const std::string& name = node.inputs[1];
      const Tensor& tensor = pruned.initializers.at(name);
      if (zeros_of(tensor) == 0) continue;
      const auto before = tensor.values<float>();
      const auto after = result.model.initializers.at(name).values<float>();
      bool changed = false;
      for (std::size_t i = 0; i < before.size(); ++i) {
        if (before[i] == 0.0F) {
          ASSERT_EQ(after[i], 0.0F) << name << " element " << i;
        }
        changed = changed || after[i] != before[i];
      }
      EXPECT_TRUE(changed) << name << " did not train";
      zeros += zeros_of(tensor);
    }
    EXPECT_GT(zeros, 5000);  // 2:4 zeroes half of the pruned layers, magnitude 70%
  }
}

TEST(Finetune, AModelWithAFixedBatchOfOneTrainsASampleAStep) {
  graph::Graph model = load("digits_cnn");
  model.inputs.front().dims.front() = graph::Dim::fixed(1);
  const eval::Dataset train = data(model, "digits_eval", true);
  const TrainResult result = finetune_masked(model, TrainInputs{&train}, quick(1));
  const bool logged =
      std::any_of(result.log.begin(), result.log.end(), [](const std::string& line) {
        return line.find("fixed batch of 1: one sample per step") != std::string::npos;
      });
  EXPECT_TRUE(logged);
  model.inputs.front().dims.front() = graph::Dim::fixed(2);
  EXPECT_NE(error_of([&] {
              finetune_masked(model, TrainInputs{&train}, quick(1));
            }).find("has a fixed batch of 2"),
            std::string::npos);
}

TEST(TrainBadInput, LabelsOutOfRangeOrMiscounted) {
  const graph::Graph model = load("kws_dscnn");
  eval::Dataset train = data(model, "kws_eval", true);
  train.labels[5] = 12;
  EXPECT_NE(error_of([&] {
              finetune_masked(model, TrainInputs{&train}, quick(1));
            }).find("training label 12 at row 5 is out of range for the model's 12 classes"),
            std::string::npos);
  train.labels.pop_back();
  train.labels[5] = 1;
  EXPECT_NE(error_of([&] {
              finetune_masked(model, TrainInputs{&train}, quick(1));
            }).find("444 inputs but 443 labels"),
            std::string::npos);
}

TEST(TrainBadInput, EmptyTrainingSet) {
  const graph::Graph model = load("kws_dscnn");
  eval::Dataset train;
  train.inputs = Tensor(DType::f32, {0, 1, 49, 10});
  EXPECT_NE(error_of([&] {
              finetune_masked(model, TrainInputs{&train, &model}, quick(1));
            }).find("the training set has no samples"),
            std::string::npos);
}

TEST(TrainBadInput, NonFiniteLossStops) {
  const graph::Graph model = load("digits_cnn");
  const eval::Dataset train = data(model, "digits_eval", true);
  TrainOptions options = quick(3);
  options.lr = 1e30;
  const std::string message =
      error_of([&] { finetune_masked(model, TrainInputs{&train}, options); });
  EXPECT_NE(message.find("training stopped and nothing was written"), std::string::npos) << message;
}

TEST(TrainBadInput, NoTrainableLayers) {
  graph::Graph model;
  model.inputs.push_back(
      graph::ValueInfo{"x", DType::f32, {graph::Dim::named("n"), graph::Dim::fixed(4)}, true});
  model.outputs.push_back(graph::ValueInfo{"y", DType::f32, {}, false});
  model.nodes.push_back(graph::Node{"relu", "Relu", "", {"x"}, {"y"}, {}});
  eval::Dataset train;
  train.inputs = Tensor(DType::f32, {3, 4});
  train.labels = {0, 1, 2};
  EXPECT_NE(error_of([&] {
              finetune_masked(model, TrainInputs{&train}, quick(1));
            }).find("no trainable layers"),
            std::string::npos);
}

TEST(TrainBadInput, TeacherWithOtherOutputs) {
  const graph::Graph model = load("kws_dscnn");
  graph::Graph teacher = model;
  // The teacher's last Gemm gives 11 classes instead of 12.
  for (graph::Node& node : teacher.nodes) {
    if (node.op_type != "Gemm") continue;
    const Tensor weight = teacher.initializers.at(node.inputs[1]);
    const Tensor bias = teacher.initializers.at(node.inputs[2]);
    Tensor smaller(DType::f32, {11, weight.dim(1)});
    std::copy_n(weight.data<float>(), smaller.numel(), smaller.data<float>());
    Tensor smaller_bias(DType::f32, {11});
    std::copy_n(bias.data<float>(), 11, smaller_bias.data<float>());
    teacher.initializers[node.inputs[1]] = smaller;
    teacher.initializers[node.inputs[2]] = smaller_bias;
  }
  const eval::Dataset train = data(model, "kws_calib_inputs.npy", false);
  EXPECT_NE(error_of([&] {
              finetune_masked(model, TrainInputs{&train, &teacher}, quick(1));
            }).find("the teacher's output [1, 11] does not match the student's [1, 12]"),
            std::string::npos);
  const graph::Graph other = load("digits_cnn");
  EXPECT_NE(error_of([&] {
              finetune_masked(model, TrainInputs{&train, &other}, quick(1));
            }).find("teacher"),
            std::string::npos);
}

TEST(TrainBadInput, UnlabeledWithoutTeacher) {
  const graph::Graph model = load("kws_dscnn");
  const eval::Dataset train = data(model, "kws_calib_inputs.npy", false);
  EXPECT_NE(error_of([&] {
              finetune_masked(model, TrainInputs{&train}, quick(1));
            }).find("no labels and there is no teacher"),
            std::string::npos);
}

}  // namespace
}  // namespace edgeperf::train
