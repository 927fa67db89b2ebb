#pragma once
// The activations a Conv or Gemm can absorb (ONNX Runtime's com.microsoft FusedConv and
// FusedGemm), in one representation shared by the pass that fuses them and the runtime
// step that expands them again.
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgeperf/graph/editor.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/graph/ops/clip.h"

namespace edgeperf::graph::ops {

struct FusedActivation {
  std::string op;             // ONNX op type; empty: no activation
  std::vector<float> params;  // in FusedConv's activation_params order

  // The standalone activation `node` as a fused one; a string says why it cannot be fused
  // (a Clip bound that is not constant); nullopt when `node` is no fusible activation.
  static std::optional<std::variant<FusedActivation, std::string>> from_node(const Graph& graph,
                                                                             const Node& node);
  // The same for a node whose constants `constant` knows, at `opset`.
  static std::optional<std::variant<FusedActivation, std::string>> from_node(
      std::int64_t opset, const ConstantLookup& constant, const Node& node);
  // The activation attributes of a FusedConv (activation, activation_params) or a
  // FusedGemm (activation, activation_alpha, activation_beta). Throw Error naming the node
  // for an activation that is not fusible or has the wrong parameter count.
  static FusedActivation of_fused_conv(const Node& fused);
  static FusedActivation of_fused_gemm(const Node& fused);

  void write_fused_conv_attrs(Node& fused) const;
  void write_fused_gemm_attrs(Node& fused) const;

  // The standalone node computing this activation from `input` into `output`, named
  // `name_base` + "/" + op (Clip bounds become attributes, or initializers named after
  // `name_base`, as the editor's graph opset wants).
  Node to_node(Editor& editor, const std::string& name_base, const std::string& input,
               const std::string& output) const;
};

// "Relu, Sigmoid, ...": the fusible activations, for messages.
std::string fusible_activation_names();

}  // namespace edgeperf::graph::ops
