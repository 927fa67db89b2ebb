// BatchNormalization folded into the preceding Conv (plain, grouped or depthwise) or Gemm.
// With s = scale / sqrt(var + eps), BN(y) = (y - mean) * s + shift, so scaling the
// weights of output channel c by s[c] and the bias to (bias - mean) * s + shift gives
// the same result without the BN.
#include <fmt/format.h>

#include <cmath>

#include "edgeperf/passes/passes.h"
#include "graph_edit.h"

namespace edgeperf::passes {
namespace {

constexpr std::string_view kPass = "fold-batchnorm";

struct BnParams {
  std::vector<double> scale;  // s[c]
  std::vector<double> shift;  // shift[c] - mean[c] * s[c]
};

// The BN's per-channel affine map, or why it cannot be read as constants.
std::variant<BnParams, std::string> read_bn(const graph::Graph& graph, const graph::Node& bn) {
  if (bn.inputs.size() != 5) return std::string("it does not have 5 inputs");
  if (bn.attr_int("training_mode", 0) != 0) return std::string("it is in training mode");
  for (std::size_t o = 1; o < bn.outputs.size(); ++o) {
    if (!bn.outputs[o].empty() && (detail::use_count(graph, bn.outputs[o]) > 0 ||
                                   detail::is_graph_output(graph, bn.outputs[o]))) {
      return fmt::format("its running statistic output '{}' is used", bn.outputs[o]);
    }
  }
  const Tensor* params[4];
  for (std::size_t i = 0; i < 4; ++i) {
    params[i] = detail::f32_initializer(graph, bn.inputs[i + 1]);
    if (params[i] == nullptr) {
      return fmt::format("input '{}' is not an f32 initializer", bn.inputs[i + 1]);
    }
    if (params[i]->numel() != params[0]->numel()) {
      return fmt::format("input '{}' has {} elements, scale has {}", bn.inputs[i + 1],
                         params[i]->numel(), params[0]->numel());
    }
  }
  const double epsilon = bn.attr_float("epsilon", 1e-5f);
  BnParams result;
  for (std::int64_t c = 0; c < params[0]->numel(); ++c) {
    const double scale = params[0]->data<float>()[c], shift = params[1]->data<float>()[c];
    const double mean = params[2]->data<float>()[c], variance = params[3]->data<float>()[c];
    const double s = scale / std::sqrt(variance + epsilon);
    result.scale.push_back(s);
    result.shift.push_back(shift - mean * s);
  }
  return result;
}

// A new f32 initializer named after `base`; returns its name.
std::string add_initializer(graph::Graph& graph, const std::string& base, Tensor value) {
  const std::string name = detail::unique_value_name(graph, base);
  graph.initializers.emplace(name, std::move(value));
  return name;
}

std::optional<std::string> fold_into_conv(graph::Graph& graph, graph::Node& conv,
                                          const BnParams& bn) {
  const Tensor* weights =
      conv.inputs.size() >= 2 ? detail::f32_initializer(graph, conv.inputs[1]) : nullptr;
  if (weights == nullptr || weights->rank() < 3) {
    return std::string("the Conv weights are not an f32 initializer of rank >= 3");
  }
  const auto channels = static_cast<std::int64_t>(bn.scale.size());
  if (weights->dim(0) != channels) {
    return fmt::format("the Conv has {} output channels, the BN {}", weights->dim(0), channels);
  }
  const Tensor* bias = conv.has_input(2) ? detail::f32_initializer(graph, conv.inputs[2]) : nullptr;
  if (conv.has_input(2) && (bias == nullptr || bias->numel() != channels)) {
    return fmt::format("the Conv bias '{}' is not an f32 initializer of {} values", conv.inputs[2],
                       channels);
  }
  Tensor folded_weights = weights->clone();
  const std::int64_t per_channel = weights->numel() / channels;
  float* w = folded_weights.data<float>();
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t k = 0; k < per_channel; ++k) {
      w[c * per_channel + k] = static_cast<float>(w[c * per_channel + k] * bn.scale[c]);
    }
  }
  Tensor folded_bias(DType::f32, {channels});
  for (std::int64_t c = 0; c < channels; ++c) {
    const double b = bias ? bias->data<float>()[c] : 0.0;
    folded_bias.data<float>()[c] = static_cast<float>(b * bn.scale[c] + bn.shift[c]);
  }
  const std::string weight_name = add_initializer(graph, conv.name + "_W_bnfold", folded_weights);
  const std::string bias_name = add_initializer(graph, conv.name + "_B_bnfold", folded_bias);
  conv.inputs.resize(std::max<std::size_t>(conv.inputs.size(), 3));
  conv.inputs[1] = weight_name;
  conv.inputs[2] = bias_name;
  return std::nullopt;
}

// Gemm: Y = alpha * A' B' + beta * C with N output columns; BN scales column n.
std::optional<std::string> fold_into_gemm(graph::Graph& graph, graph::Node& gemm,
                                          const BnParams& bn) {
  const Tensor* b =
      gemm.inputs.size() >= 2 ? detail::f32_initializer(graph, gemm.inputs[1]) : nullptr;
  if (b == nullptr || b->rank() != 2)
    return std::string("the Gemm B is not an f32 2-D initializer");
  const bool trans_b = gemm.attr_int("transB", 0) != 0;
  const std::int64_t n = trans_b ? b->dim(0) : b->dim(1);
  const std::int64_t k = trans_b ? b->dim(1) : b->dim(0);
  if (n != static_cast<std::int64_t>(bn.scale.size())) {
    return fmt::format("the Gemm has {} output columns, the BN {} channels", n, bn.scale.size());
  }
  const Tensor* c = gemm.has_input(2) ? detail::f32_initializer(graph, gemm.inputs[2]) : nullptr;
  if (gemm.has_input(2) && (c == nullptr || (c->numel() != n && c->numel() != 1))) {
    return fmt::format("the Gemm C '{}' is not an f32 initializer of {} or 1 values",
                       gemm.inputs[2], n);
  }
  Tensor folded_b = b->clone();
  float* w = folded_b.data<float>();
  for (std::int64_t row = 0; row < k; ++row) {
    for (std::int64_t col = 0; col < n; ++col) {
      float& value = trans_b ? w[col * k + row] : w[row * n + col];
      value = static_cast<float>(value * bn.scale[col]);
    }
  }
  const double beta = gemm.attr_float("beta", 1.0f);
  Tensor folded_c(DType::f32, {n});
  for (std::int64_t col = 0; col < n; ++col) {
    const double bias = c ? beta * c->data<float>()[c->numel() == 1 ? 0 : col] : 0.0;
    folded_c.data<float>()[col] = static_cast<float>(bias * bn.scale[col] + bn.shift[col]);
  }
  const std::string b_name = add_initializer(graph, gemm.name + "_B_bnfold", folded_b);
  const std::string c_name = add_initializer(graph, gemm.name + "_C_bnfold", folded_c);
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
  const auto producer = detail::producer_index(graph, bn.inputs[0]);
  if (!producer) return std::nullopt;
  graph::Node& target = graph.nodes[*producer];
  const bool is_conv = target.op_type == "Conv", is_gemm = target.op_type == "Gemm";
  if (!target.domain.empty() || (!is_conv && !is_gemm)) return std::nullopt;
  const auto skipped = [&](const std::string& why) {
    return LogEntry{std::string(kPass),
                    fmt::format("{} not folded into {}: {}", bn.label(), target.label(), why),
                    false};
  };
  if (!detail::has_sole_consumer(graph, bn.inputs[0])) {
    return skipped(fmt::format("'{}' has other readers", bn.inputs[0]));
  }
  auto params = read_bn(graph, bn);
  if (auto* why = std::get_if<std::string>(&params)) return skipped(*why);
  const graph::Node before = target;
  auto problem = is_conv ? fold_into_conv(graph, target, std::get<BnParams>(params))
                         : fold_into_gemm(graph, target, std::get<BnParams>(params));
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
  detail::prune_value_info(graph);
  graph::topological_sort(graph);
  return log;
}

}  // namespace edgeperf::passes
