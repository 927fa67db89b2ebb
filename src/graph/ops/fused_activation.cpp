#include "edgeperf/graph/ops/fused_activation.h"

#include <array>
#include <limits>

#include "edgeperf/core/error.h"
#include "edgeperf/graph/ops/clip.h"

namespace edgeperf::graph::ops {
namespace {

struct Param {
  const char* attr;  // attribute of the standalone op
  float fallback;
};

// Every fusible activation with its parameters in activation_params order. Clip's two
// parameters are its bounds (attributes or inputs, see clip.h), not plain attributes.
struct Fusible {
  std::string_view op;
  std::size_t param_count;
  std::array<Param, 2> params;
};

constexpr std::array<Fusible, 7> kFusible{{
    {"Relu", 0, {}},
    {"Sigmoid", 0, {}},
    {"Tanh", 0, {}},
    {"LeakyRelu", 1, {{{"alpha", 0.01f}}}},
    {"Clip", 2, {}},
    {"HardSigmoid", 2, {{{"alpha", 0.2f}, {"beta", 0.5f}}}},
    {"HardSwish", 0, {}},
}};

// FusedGemm carries the parameters as attributes of its own.
constexpr std::array<const char*, 2> kGemmParamAttrs{"activation_alpha", "activation_beta"};

const Fusible* find_fusible(std::string_view op) {
  for (const Fusible& fusible : kFusible) {
    if (fusible.op == op) return &fusible;
  }
  return nullptr;
}

const Fusible& fusible_or_fail(const Node& fused, const std::string& op) {
  const Fusible* fusible = find_fusible(op);
  if (fusible == nullptr) {
    fail("node {}: unsupported activation '{}' (supported: {})", fused.label(), op,
         fusible_activation_names());
  }
  return *fusible;
}

}  // namespace

std::string fusible_activation_names() {
  std::string names;
  for (const Fusible& fusible : kFusible) {
    if (!names.empty()) names += ", ";
    names += fusible.op;
  }
  return names;
}

std::optional<std::variant<FusedActivation, std::string>> FusedActivation::from_node(
    const Graph& graph, const Node& node) {
  return from_node(graph.opset, initializers_of(graph), node);
}

std::optional<std::variant<FusedActivation, std::string>> FusedActivation::from_node(
    std::int64_t opset, const ConstantLookup& constant, const Node& node) {
  if (!node.domain.empty()) return std::nullopt;
  const Fusible* fusible = find_fusible(node.op_type);
  if (fusible == nullptr) return std::nullopt;
  FusedActivation activation{node.op_type, {}};
  if (node.op_type == "Clip") {
    auto bounds = ClipBounds::read(opset, constant, node);
    if (auto* why = std::get_if<std::string>(&bounds)) return *why;
    const auto& clip = std::get<ClipBounds>(bounds);
    activation.params = {clip.min.value_or(std::numeric_limits<float>::lowest()),
                         clip.max.value_or(std::numeric_limits<float>::max())};
    return activation;
  }
  for (std::size_t i = 0; i < fusible->param_count; ++i) {
    activation.params.push_back(
        node.attr_float(fusible->params[i].attr, fusible->params[i].fallback));
  }
  return activation;
}

FusedActivation FusedActivation::of_fused_conv(const Node& fused) {
  FusedActivation activation{fused.attr_string("activation", ""),
                             fused.attr_floats("activation_params")};
  if (activation.op.empty()) return activation;
  const std::size_t expected = fusible_or_fail(fused, activation.op).param_count;
  EP_CHECK(activation.params.size() == expected,
           "node {}: activation {} needs {} activation_params, got {}", fused.label(),
           activation.op, expected, activation.params.size());
  return activation;
}

FusedActivation FusedActivation::of_fused_gemm(const Node& fused) {
  FusedActivation activation{fused.attr_string("activation", ""), {}};
  if (activation.op.empty()) return activation;
  const Fusible& fusible = fusible_or_fail(fused, activation.op);
  EP_CHECK(activation.op != "Clip", "node {}: FusedGemm has no Clip activation", fused.label());
  for (std::size_t i = 0; i < fusible.param_count; ++i) {
    activation.params.push_back(fused.attr_float(kGemmParamAttrs[i], fusible.params[i].fallback));
  }
  return activation;
}

void FusedActivation::write_fused_conv_attrs(Node& fused) const {
  if (!op.empty()) fused.attrs["activation"] = op;
  if (!params.empty()) fused.attrs["activation_params"] = params;
}

void FusedActivation::write_fused_gemm_attrs(Node& fused) const {
  fused.attrs["activation"] = op;
  for (std::size_t i = 0; i < params.size() && i < kGemmParamAttrs.size(); ++i) {
    fused.attrs[kGemmParamAttrs[i]] = params[i];
  }
}

Node FusedActivation::to_node(Editor& editor, const std::string& name_base,
                              const std::string& input, const std::string& output) const {
  Node node = make_node(op, name_base + "/" + op, {input}, {output});
  const Fusible& fusible = fusible_or_fail(node, op);
  EP_CHECK(params.size() == fusible.param_count,
           "node {}: activation {} needs {} parameters, got {}", node.label(), op,
           fusible.param_count, params.size());
  if (op == "Clip") {
    ClipBounds{params[0], params[1]}.write_to(node, editor, name_base);
    return node;
  }
  for (std::size_t i = 0; i < fusible.param_count; ++i) {
    node.attrs[fusible.params[i].attr] = params[i];
  }
  return node;
}

}  // namespace edgeperf::graph::ops
