// BatchNormalization folded into the preceding Conv (plain, grouped or depthwise) or Gemm.
// With s = scale / sqrt(var + eps), BN(y) = (y - mean) * s + shift, so scaling the
// weights of output channel c by s[c] and the bias to (bias - mean) * s + shift gives
// the same result without the BN.
#include <fmt/format.h>

#include "edgeperf/graph/editor.h"
#include "edgeperf/graph/ops/batch_norm.h"
#include "edgeperf/passes/passes.h"

namespace edgeperf::passes {
namespace {

constexpr std::string_view kPass = "fold-batchnorm";

using graph::ops::BatchNormParams;

// The BN's per-channel affine map, or why it cannot be read as constants.
std::variant<BatchNormParams, std::string> read_bn(const graph::Graph& graph,
                                                   const graph::Node& bn) {
  if (bn.inputs.size() != 5) return std::string("it does not have 5 inputs");
  if (bn.attr_int("training_mode", 0) != 0) return std::string("it is in training mode");
  for (std::size_t o = 1; o < bn.outputs.size(); ++o) {
    if (!bn.outputs[o].empty() &&
        (graph.use_count(bn.outputs[o]) > 0 || graph.is_output(bn.outputs[o]))) {
      return fmt::format("its running statistic output '{}' is used", bn.outputs[o]);
    }
  }
  const Tensor* params[4];
  for (std::size_t i = 0; i < 4; ++i) {
    params[i] = graph.f32_initializer(bn.inputs[i + 1]);
    if (params[i] == nullptr) {
      return fmt::format("input '{}' is not an f32 initializer", bn.inputs[i + 1]);
    }
    if (params[i]->numel() != params[0]->numel()) {
      return fmt::format("input '{}' has {} elements, scale has {}", bn.inputs[i + 1],
                         params[i]->numel(), params[0]->numel());
    }
  }
  return BatchNormParams::from_tensors(*params[0], *params[1], *params[2], *params[3],
                                       BatchNormParams::epsilon_of(bn));
}

std::optional<std::string> fold_into_conv(graph::Editor& editor, graph::Node& conv,
                                          const BatchNormParams& bn) {
  const graph::Graph& graph = editor.graph();
  const Tensor* weights = conv.inputs.size() >= 2 ? graph.f32_initializer(conv.inputs[1]) : nullptr;
  if (weights == nullptr || weights->rank() < 3) {
    return std::string("the Conv weights are not an f32 initializer of rank >= 3");
  }
  const std::int64_t channels = bn.channels();
  if (weights->dim(0) != channels) {
    return fmt::format("the Conv has {} output channels, the BN {}", weights->dim(0), channels);
  }
  const Tensor* bias = conv.has_input(2) ? graph.f32_initializer(conv.inputs[2]) : nullptr;
  if (conv.has_input(2) && (bias == nullptr || bias->numel() != channels)) {
    return fmt::format("the Conv bias '{}' is not an f32 initializer of {} values", conv.inputs[2],
                       channels);
  }
  Tensor folded_weights = weights->clone();
  Tensor folded_bias = bias ? bias->clone().reshaped({channels}) : Tensor(DType::f32, {channels});
  bn.fold_into(folded_weights.values<float>(), folded_bias.values<float>());
  const std::string weight_name = editor.add_initializer(conv.name + "_W_bnfold", folded_weights);
  const std::string bias_name = editor.add_initializer(conv.name + "_B_bnfold", folded_bias);
  conv.inputs.resize(std::max<std::size_t>(conv.inputs.size(), 3));
  conv.inputs[1] = weight_name;
  conv.inputs[2] = bias_name;
  return std::nullopt;
}

// Gemm: Y = alpha * A' B' + beta * C with N output columns; BN scales column n.
std::optional<std::string> fold_into_gemm(graph::Editor& editor, graph::Node& gemm,
                                          const BatchNormParams& bn) {
  const graph::Graph& graph = editor.graph();
  const Tensor* b = gemm.inputs.size() >= 2 ? graph.f32_initializer(gemm.inputs[1]) : nullptr;
  if (b == nullptr || b->rank() != 2)
    return std::string("the Gemm B is not an f32 2-D initializer");
  const bool trans_b = gemm.attr_int("transB", 0) != 0;
  const std::int64_t n = trans_b ? b->dim(0) : b->dim(1);
  if (n != bn.channels()) {
    return fmt::format("the Gemm has {} output columns, the BN {} channels", n, bn.channels());
  }
  const Tensor* c = gemm.has_input(2) ? graph.f32_initializer(gemm.inputs[2]) : nullptr;
  if (gemm.has_input(2) && (c == nullptr || (c->numel() != n && c->numel() != 1))) {
    return fmt::format("the Gemm C '{}' is not an f32 initializer of {} or 1 values",
                       gemm.inputs[2], n);
  }
  Tensor folded_b = b->clone();
  const double beta = gemm.attr_float("beta", 1.0f);
  Tensor folded_c(DType::f32, {n});
  for (std::int64_t col = 0; col < n; ++col) {
    const double bias = c ? beta * c->data<float>()[c->numel() == 1 ? 0 : col] : 0.0;
    folded_c.data<float>()[col] = static_cast<float>(bias);
  }
  bn.fold_into(folded_b.values<float>(), folded_c.values<float>(),
               trans_b ? graph::ops::ChannelLayout::rows : graph::ops::ChannelLayout::columns);
  const std::string b_name = editor.add_initializer(gemm.name + "_B_bnfold", folded_b);
  const std::string c_name = editor.add_initializer(gemm.name + "_C_bnfold", folded_c);
  gemm.inputs.resize(3);
  gemm.inputs[1] = b_name;
  gemm.inputs[2] = c_name;
  gemm.attrs["beta"] = 1.0f;
  return std::nullopt;
}

// Folds BN node `bn_index` into its producer; returns the log entry, or nothing when
// the BN does not follow a Conv/Gemm at all.
std::optional<LogEntry> try_fold(graph::Graph& graph, std::size_t bn_index) {
  const graph::Node bn = graph.nodes[bn_index];
  if (bn.inputs.empty()) return std::nullopt;
  const auto producer = graph.producer_index(bn.inputs[0]);
  if (!producer) return std::nullopt;
  graph::Node& target = graph.nodes[*producer];
  const bool is_conv = target.op_type == "Conv", is_gemm = target.op_type == "Gemm";
  if (!target.domain.empty() || (!is_conv && !is_gemm)) return std::nullopt;
  const auto skipped = [&](const std::string& why) {
    return LogEntry{std::string(kPass),
                    fmt::format("{} not folded into {}: {}", bn.label(), target.label(), why),
                    false};
  };
  if (!graph.has_sole_consumer(bn.inputs[0])) {
    return skipped(fmt::format("'{}' has other readers", bn.inputs[0]));
  }
  auto params = read_bn(graph, bn);
  if (auto* why = std::get_if<std::string>(&params)) return skipped(*why);
  const graph::Node before = target;
  graph::Editor editor(graph);
  auto problem = is_conv ? fold_into_conv(editor, target, std::get<BatchNormParams>(params))
                         : fold_into_gemm(editor, target, std::get<BatchNormParams>(params));
  if (problem) return skipped(*problem);
  target.outputs[0] = bn.outputs[0];
  graph.nodes.erase(graph.nodes.begin() + static_cast<std::ptrdiff_t>(bn_index));
  const std::string detail = is_conv ? fmt::format("group {}", before.attr_int("group", 1))
                                     : fmt::format("transB {}", before.attr_int("transB", 0));
  return LogEntry{
      std::string(kPass),
      fmt::format("{} folded into {} ({}): weights and bias rescaled, it now writes '{}'",
                  bn.label(), before.label(), detail, bn.outputs[0]),
      true};
}

}  // namespace

PassLog fold_batch_norms(graph::Graph& graph, const PassOptions& options) {
  PassLog log;
  for (std::size_t i = 0; i < graph.nodes.size();) {
    const graph::Node& node = graph.nodes[i];
    if (node.op_type != "BatchNormalization" || !node.domain.empty()) {
      ++i;
      continue;
    }
    std::optional<LogEntry> entry = try_fold(graph, i);
    if (!entry) {
      ++i;
      continue;
    }
    if (!entry->changed) ++i;
    log.push_back(std::move(*entry));
  }
  graph::prune_value_info(graph);
  graph::topological_sort(graph);
  return log;
}

}  // namespace edgeperf::passes
