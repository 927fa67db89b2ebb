#pragma once
// Internal to ep_train: an edgeperf graph run by libtorch with some initializers as
// trainable parameters.
//   - Float weights and biases of Conv, Gemm and MatMul, and BatchNormalization's scale
//     and bias, are parameters. A weight with zeros keeps them (a mask re-applied after
//     every step): a pruned model stays exactly as sparse.
//   - With `quantized` set, a weight DequantizeLinear (integer initializer into a weight
//     slot) becomes a float master weight under fake quantization with a learnable
//     per-channel or per-tensor scale (LSQ: the straight-through estimator for rounding,
//     the scale's gradient scaled by 1 / sqrt(elements x qmax)). A bias DequantizeLinear
//     becomes a float bias, requantized at export with the scale input scale x weight
//     scale. A QuantizeLinear -> DequantizeLinear pair on an activation becomes a fake
//     quantizer whose scale is learned the same way (zero point fixed).
// exported() writes the parameters back into the graph's initializers: same nodes, same
// names, same layout.
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::train::detail {

struct GraphConfig {
  bool trainable = true;   // false: a teacher, every initializer constant
  bool quantized = false;  // fake quantization for Q/DQ (see above)
  int weight_bits = 8;
  const graph::Graph* float_model = nullptr;  // master weights by node name (quantized)
};

class TrainableGraph {
 public:
  TrainableGraph(const graph::Graph& graph, const GraphConfig& config);

  // The first graph output for a batch fed to the (single) graph input.
  at::Tensor forward(const at::Tensor& input) const;
  std::vector<at::Tensor> parameters() const;
  // After an optimizer step: masks re-applied, learned scales kept positive.
  void after_step();
  graph::Graph exported() const;
  // One line per kind of parameter, for the command's log.
  std::vector<std::string> describe() const;
  const graph::Graph& graph() const { return graph_; }
  // The input's batch dimension when the model fixes it (an export with batch 1).
  std::optional<std::int64_t> fixed_batch() const;

 private:
  struct WeightQuant {
    std::string integers, scale, zero_point;  // initializer names
    std::int64_t axis = 0;                    // of a per-channel scale
    at::Tensor master, step, offset;          // float weight, learnable scale, zero point
    std::int64_t qmin = -127, qmax = 127;
  };
  struct BiasQuant {
    std::string integers, scale;  // initializer names
    std::string weight_scale;     // scale initializer of the node's weight DequantizeLinear
    std::string input_scale;      // scale initializer of the activation the node reads
    at::Tensor value;             // float bias
  };
  struct ActivationQuant {
    std::string scale;  // initializer name (shared by pairs that share it)
    at::Tensor offset;
    std::int64_t qmin = 0, qmax = 255;
  };

  void add_float_parameters(const graph::Node& node);
  void add_weight_quant(const graph::Node& dq, const graph::Node& consumer, std::size_t slot);
  void add_bias_quant(const graph::Node& dq, const graph::Node& consumer);
  void add_activation_quant(const graph::Node& q, const std::vector<std::size_t>& readers);
  void classify_quantized_nodes(const std::map<std::string, std::vector<std::size_t>>& consumers);
  at::Tensor float_master(const graph::Node& consumer, std::size_t slot,
                          const at::Tensor& dequantized) const;
  at::Tensor constant(const std::string& name) const;
  at::Tensor scale_value(const std::string& name) const;
  at::Tensor fake_quant_weight(const WeightQuant& quant) const;
  at::Tensor fake_quant_activation(const at::Tensor& x, const ActivationQuant& quant) const;
  at::Tensor lookup(const std::map<std::string, at::Tensor>& values, const std::string& name) const;

  graph::Graph graph_;
  GraphConfig config_;
  std::map<std::string, at::Tensor> constants_;         // initializers, as torch tensors
  std::map<std::string, at::Tensor> floats_;            // trainable float initializers
  std::map<std::string, at::Tensor> masks_;             // of float weights with zeros
  std::map<std::string, WeightQuant> weights_;          // by weight DequantizeLinear output
  std::map<std::string, BiasQuant> biases_;             // by bias DequantizeLinear output
  std::map<std::string, ActivationQuant> activations_;  // by QuantizeLinear output
  std::map<std::string, at::Tensor> scales_;  // learnable activation scales by initializer
};

}  // namespace edgeperf::train::detail
