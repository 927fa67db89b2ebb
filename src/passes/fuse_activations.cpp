// Conv[+Add]+activation and Conv+Add -> com.microsoft.FusedConv; Gemm+activation ->
// com.microsoft.FusedGemm.
// Both are ONNX Runtime contrib ops: FusedConv(X, W, B, Z) computes act(conv(X, W) + B + Z)
// with attributes `activation` and `activation_params`; FusedGemm takes Gemm's attributes
// plus `activation` and `activation_alpha`/`activation_beta`. Only activations ORT's CPU
// kernels implement are emitted for the portable target.
#include <fmt/format.h>

#include "edgeperf/graph/editor.h"
#include "edgeperf/graph/ops/fused_activation.h"
#include "edgeperf/passes/passes.h"
#include "graph_edit.h"

namespace edgeperf::passes {
namespace {

constexpr std::string_view kPass = "fuse-activation";
constexpr std::string_view kContribDomain = "com.microsoft";

using graph::ops::FusedActivation;

// The node as a fusable activation; a string says why it cannot be fused; nullopt when
// the node is no activation at all.
std::optional<std::variant<FusedActivation, std::string>> parse_activation(
    const graph::Graph& graph, const graph::Node& node, Target target) {
  auto activation = FusedActivation::from_node(graph, node);
  if (activation && node.op_type == "HardSwish" && target != Target::edgeperf) {
    return std::string(
        "ONNX Runtime's FusedConv/FusedGemm have no HardSwish (edgeperf-only: --target edgeperf)");
  }
  return activation;
}

bool same_static_shape(const std::vector<detail::StaticValues>& views, const std::string& a,
                       const std::string& b) {
  for (const detail::StaticValues& view : views) {
    const auto first = view.descs.find(a), second = view.descs.find(b);
    if (first == view.descs.end() || second == view.descs.end()) return false;
    if (first->second != second->second) return false;
  }
  return true;
}

// f32 output: from shape inference, or else from the weights' dtype.
bool is_f32(const graph::Graph& graph, const detail::StaticValues& view, const graph::Node& node) {
  const auto desc = view.descs.find(node.outputs.at(0));
  if (desc != view.descs.end()) return desc->second.dtype == DType::f32;
  return node.inputs.size() >= 2 && graph.f32_initializer(node.inputs[1]) != nullptr;
}

struct Match {
  std::size_t producer;            // Conv or Gemm
  std::optional<std::size_t> add;  // Conv + Add (sum input Z)
  std::string sum_input;           // Z
};

class Fuser {
 public:
  Fuser(graph::Graph& graph, const PassOptions& options) : graph_(graph), options_(options) {
    graph::topological_sort(graph_);
    // Shapes with symbolic dimensions set to 1 and to 3: equal in both means equal.
    for (std::int64_t size : {1, 3}) {
      views_.push_back(detail::evaluate_statically(graph_, {size, options.fold_limit_bytes}));
    }
    erase_.assign(graph_.nodes.size(), false);
  }

  PassLog run() {
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      auto activation = parse_activation(graph_, graph_.nodes[i], options_.target);
      if (activation) try_fuse(i, *activation);
    }
    // After the activations, so that Conv + Add + Relu is not split.
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (!erase_[i]) try_fuse_sum(i);
    }
    graph::Editor(graph_).erase(erase_);
    graph::prune_value_info(graph_);
    graph::topological_sort(graph_);
    return std::move(log_);
  }

 private:
  // The single-reader Conv/Gemm (or Conv + Add) feeding activation `index`.
  std::optional<Match> find_match(std::size_t index) const {
    const std::string& x = graph_.nodes[index].inputs.at(0);
    const auto producer = graph_.producer_index(x);
    if (!producer || erase_[*producer] || !graph_.has_sole_consumer(x)) {
      return std::nullopt;
    }
    const graph::Node& node = graph_.nodes[*producer];
    if (node.domain.empty() && (node.op_type == "Conv" || node.op_type == "Gemm")) {
      return Match{*producer, std::nullopt, ""};
    }
    return find_conv_sum(*producer);
  }

  // Add `add_index` as a Conv output plus a same-shaped sum input Z.
  std::optional<Match> find_conv_sum(std::size_t add_index) const {
    const graph::Node& add = graph_.nodes[add_index];
    if (!add.domain.empty() || add.op_type != "Add" || add.inputs.size() != 2 ||
        add.outputs.size() != 1) {
      return std::nullopt;
    }
    for (std::size_t side = 0; side < 2; ++side) {
      const std::string& conv_out = add.inputs[side];
      const std::string& sum = add.inputs[1 - side];
      const auto conv = graph_.producer_index(conv_out);
      if (!conv || erase_[*conv] || graph_.nodes[*conv].op_type != "Conv" ||
          !graph_.nodes[*conv].domain.empty() || sum == conv_out ||
          !graph_.has_sole_consumer(conv_out)) {
        continue;
      }
      if (same_static_shape(views_, conv_out, sum) &&
          same_static_shape(views_, conv_out, add.outputs[0])) {
        return Match{*conv, add_index, sum};
      }
    }
    return std::nullopt;
  }

  // Conv + Add with no activation after it (linear residuals): FusedConv with Z only.
  void try_fuse_sum(std::size_t add_index) {
    const std::optional<Match> match = find_conv_sum(add_index);
    if (!match) return;
    const graph::Node& conv = graph_.nodes[match->producer];
    const graph::Node& add = graph_.nodes[add_index];
    if (!is_f32(graph_, views_[0], conv)) return;
    graph::Node replacement = fused_conv(conv, FusedActivation{}, match->sum_input);
    replacement.outputs = {add.outputs[0]};
    log_.push_back({std::string(kPass),
                    fmt::format("{} + {} -> '{}' ({}.{}) without activation, sum input Z '{}'",
                                conv.label(), add.label(), replacement.name, replacement.domain,
                                replacement.op_type, match->sum_input),
                    true});
    graph_.nodes[match->producer] = std::move(replacement);
    retire(add_index);
  }

  void try_fuse(std::size_t index, const std::variant<FusedActivation, std::string>& activation) {
    const graph::Node& act = graph_.nodes[index];
    if (act.inputs.empty() || act.outputs.empty()) return;
    const std::optional<Match> match = find_match(index);
    if (!match) return;
    const graph::Node& producer = graph_.nodes[match->producer];
    const auto skip = [&](const std::string& why) {
      log_.push_back({std::string(kPass),
                      fmt::format("{} not fused into {}: {}", act.label(), producer.label(), why),
                      false});
    };
    if (auto* why = std::get_if<std::string>(&activation)) return skip(*why);
    const FusedActivation& fused = std::get<FusedActivation>(activation);
    if (!is_f32(graph_, views_[0], producer)) return skip("its output is not f32");
    const bool is_conv = producer.op_type == "Conv";
    if (!is_conv && fused.op == "Clip") {
      return skip("ONNX Runtime's FusedGemm has no Clip activation");
    }
    const std::string before = producer.label();
    const std::string add_label = match->add ? graph_.nodes[*match->add].label() + " + " : "";
    graph::Node replacement =
        is_conv ? fused_conv(producer, fused, match->sum_input) : fused_gemm(producer, fused);
    replacement.outputs = {act.outputs[0]};
    log_.push_back(
        {std::string(kPass),
         fmt::format("{} + {}{} -> '{}' ({}.{}) activation {}{}", before, add_label, act.label(),
                     replacement.name, replacement.domain, replacement.op_type, fused.op,
                     match->add ? fmt::format(", sum input Z '{}'", match->sum_input) : ""),
         true});
    graph_.nodes[match->producer] = std::move(replacement);
    retire(index);
    if (match->add) retire(*match->add);
  }

  // Flags a node for erasure and detaches it so that reader counts ignore it.
  void retire(std::size_t index) {
    erase_[index] = true;
    graph_.nodes[index].inputs.clear();
    graph_.nodes[index].outputs.clear();
  }

  static graph::Node fused_conv(const graph::Node& conv, const FusedActivation& activation,
                                const std::string& sum_input) {
    graph::Node fused = conv;
    fused.op_type = "FusedConv";
    fused.domain = std::string(kContribDomain);
    activation.write_fused_conv_attrs(fused);
    if (!sum_input.empty()) {
      fused.inputs.resize(3);
      fused.inputs.push_back(sum_input);
    }
    return fused;
  }

  static graph::Node fused_gemm(const graph::Node& gemm, const FusedActivation& activation) {
    graph::Node fused = gemm;
    fused.op_type = "FusedGemm";
    fused.domain = std::string(kContribDomain);
    activation.write_fused_gemm_attrs(fused);
    return fused;
  }

  graph::Graph& graph_;
  const PassOptions& options_;
  std::vector<detail::StaticValues> views_;
  std::vector<bool> erase_;
  PassLog log_;
};

}  // namespace

PassLog fuse_activations(graph::Graph& graph, const PassOptions& options) {
  return Fuser(graph, options).run();
}

}  // namespace edgeperf::passes
