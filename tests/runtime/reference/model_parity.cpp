// End-to-end oracle check: runs the trained digits fixtures node by node through the
// reference kernels (a minimal executor, independent of the session) and compares with
// torch's logits.
#include <gtest/gtest.h>

#include <map>

#include "edgeperf/core/npy.h"
#include "edgeperf/onnx/onnx_io.h"
#include "op_tester.h"

namespace edgeperf::runtime::reference_test {
namespace {

const std::string kFixtures = std::string(EP_SOURCE_DIR) + "/models/fixtures/";

// Runs every node in order; initializers and folded outputs are passed as constants.
std::map<std::string, Tensor> run_graph(const graph::Graph& graph,
                                        std::map<std::string, Tensor> values) {
  std::map<std::string, bool> known;
  for (const auto& [name, tensor] : graph.initializers) {
    values[name] = tensor;
    known[name] = true;
  }
  for (const graph::Node& node : graph.nodes) {
    const KernelRegistration* registration = find_reference_kernel(node.op_type);
    if (registration == nullptr) throw Error("no reference kernel for " + node.label());
    PrepareContext context{node, {}, {}, {}, {}, graph.opset};
    std::vector<Tensor> inputs;
    for (const std::string& name : node.inputs) {
      if (name.empty()) {
        context.inputs.push_back(TensorDesc{DType::f32, {}, false});
        context.constants.push_back(nullptr);
        inputs.emplace_back();
        continue;
      }
      const Tensor& value = values.at(name);
      context.inputs.push_back(TensorDesc{value.dtype(), value.shape(), true});
      context.constants.push_back(known[name] ? &value : nullptr);
      inputs.push_back(value);
    }
    registration->infer(context);
    auto kernel = registration->create(context);
    std::vector<Tensor> outputs;
    for (const TensorDesc& desc : context.outputs) outputs.emplace_back(desc.dtype, desc.shape);
    kernel->run(RunContext{2}, inputs, outputs);
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      values[node.outputs[i]] = outputs[i];
      known[node.outputs[i]] = context.output_values.size() > i && context.output_values[i];
    }
  }
  return values;
}

void check_model(const std::string& model, const std::string& golden, Shape input_shape) {
  const graph::Graph graph = onnx_io::load_model(kFixtures + model);
  const Tensor inputs = read_npy(kFixtures + "digits_eval_inputs.npy").reshaped(input_shape);
  const Tensor expected = read_npy(kFixtures + golden);
  auto values = run_graph(graph, {{graph.inputs.at(0).name, inputs}});
  const Tensor& logits = values.at(graph.outputs.at(0).name);
  expect_close(logits, expected, 1e-4);
}

TEST(ReferenceModelParity, DigitsCnnMatchesTorch) {
  check_model("digits_cnn.onnx", "digits_eval_logits.npy", {360, 1, 8, 8});
}

TEST(ReferenceModelParity, DigitsMlpMatchesTorch) {
  check_model("digits_mlp.onnx", "digits_mlp_eval_logits.npy", {360, 64});
}

}  // namespace
}  // namespace edgeperf::runtime::reference_test
