// Quality tools: cross-layer equalization, bias correction, per-layer SQNR, mixed precision.
#include "edgeperf/quant/quality.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "edgeperf/core/error.h"
#include "edgeperf/eval/metrics.h"
#include "edgeperf/graph/ops/clip.h"
#include "edgeperf/quant/qparams.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::quant {
namespace {

// ---------------------------------------------------------------- equalization

struct ConvPair {
  std::size_t first = 0;  // node indices
  std::size_t second = 0;
  std::string activation;
};

// The bound, `absent` when there is none, nullopt when it is not a constant.
std::optional<float> clip_bound(const graph::Graph& model, const graph::Node& clip,
                                graph::ops::ClipBound bound, float absent) {
  const auto value = graph::ops::read_clip_bound(model, clip, bound);
  const auto* constant = std::get_if<std::optional<float>>(&value);
  if (constant == nullptr) return std::nullopt;
  return constant->value_or(absent);
}

// Why a Clip with these bounds blocks equalization, or "" when it commutes with positive
// per-channel scaling (or the caller accepts treating ReLU6 as Relu).
std::string clip_blocker(std::optional<float> low, std::optional<float> high,
                         const EqualizationOptions& options) {
  if (!low || !high) return "Clip bounds are not constants";
  const bool unbounded_above = *high >= FLT_MAX;
  if (*low == 0.0F && unbounded_above) return "";
  if (*low <= -FLT_MAX && unbounded_above) return "";
  if (*low == 0.0F && options.relu6_as_relu) return "";
  return fmt::format("separated by Clip({}, {}) (allow relu6_as_relu to equalize anyway)", *low,
                     *high);
}

// Relu and LeakyRelu are positively homogeneous: f(x / s) = f(x) / s for s > 0.
bool commutes_with_scaling(const std::string& activation) {
  return activation == "Relu" || activation == "LeakyRelu";
}

bool is_standalone_activation(const graph::Node& node) {
  return node.domain.empty() &&
         (node.op_type == "Relu" || node.op_type == "LeakyRelu" || node.op_type == "Clip");
}

std::string standalone_blocker(const graph::Graph& model, const graph::Node& act,
                               const EqualizationOptions& options) {
  if (commutes_with_scaling(act.op_type)) return "";
  return clip_blocker(clip_bound(model, act, graph::ops::ClipBound::min, -FLT_MAX),
                      clip_bound(model, act, graph::ops::ClipBound::max, FLT_MAX), options);
}

// For com.microsoft FusedConv: its "activation" attribute (params for Clip: min, max).
std::string fused_blocker(const graph::Node& conv, const EqualizationOptions& options) {
  const std::string activation = conv.attr_string("activation", "");
  if (activation.empty() || commutes_with_scaling(activation)) return "";
  if (activation != "Clip") return fmt::format("fused activation {} does not commute", activation);
  const std::vector<float> params = conv.attr_floats("activation_params");
  if (params.size() != 2) return "fused Clip has no constant bounds";
  return clip_blocker(params[0], params[1], options);
}

bool is_fused_conv(const graph::Node& node) {
  return node.op_type == "FusedConv" && node.domain == "com.microsoft";
}

bool single_use(const std::map<std::string, std::vector<std::size_t>>& consumers,
                const std::string& value) {
  const auto found = consumers.find(value);
  return found != consumers.end() && found->second.size() == 1;
}

// A Conv whose weight (and bias, if any) are f32 initializers used by it alone.
bool is_equalizable_conv(const graph::Graph& model, const graph::Node& node,
                         const std::map<std::string, std::vector<std::size_t>>& consumers) {
  const bool conv = node.op_type == "Conv" && node.domain.empty();
  if ((!conv && !is_fused_conv(node)) || !node.has_input(1) || node.outputs.empty() ||
      node.outputs[0].empty()) {
    return false;
  }
  const Tensor* weight = model.f32_initializer(node.inputs[1]);
  if (weight == nullptr || weight->rank() < 3 || weight->numel() == 0 ||
      !single_use(consumers, node.inputs[1])) {
    return false;
  }
  if (!node.has_input(2)) return true;
  const Tensor* bias = model.f32_initializer(node.inputs[2]);
  return bias != nullptr && bias->numel() == weight->dim(0) &&
         single_use(consumers, node.inputs[2]);
}

// The one node consuming `value`, when `value` is not a graph output.
std::optional<std::size_t> sole_consumer(
    const graph::Graph& model, const std::map<std::string, std::vector<std::size_t>>& consumers,
    const std::string& value) {
  if (model.is_output(value) || !single_use(consumers, value)) return std::nullopt;
  return consumers.at(value).front();
}

bool channels_line_up(const graph::Graph& model, const graph::Node& first,
                      const graph::Node& second) {
  const Tensor& w1 = model.initializers.at(first.inputs[1]);
  const Tensor& w2 = model.initializers.at(second.inputs[1]);
  const std::int64_t group = second.attr_int("group", 1);
  return group > 0 && w2.dim(0) % group == 0 && w2.dim(1) * group == w1.dim(0);
}

// The activation between `first` and the next conv (fused into `first`, or a standalone
// node), the value feeding the next conv, and why it blocks equalization ("" if not).
struct Link {
  std::string activation;
  std::string value;
  std::string blocker;
};

std::optional<std::size_t> next_conv(
    const graph::Graph& model, const std::map<std::string, std::vector<std::size_t>>& consumers,
    const graph::Node& first, const EqualizationOptions& options, Link& link) {
  link.value = first.outputs[0];
  if (is_fused_conv(first)) {
    link.activation = first.attr_string("activation", "");
    link.blocker = fused_blocker(first, options);
  }
  std::optional<std::size_t> next = sole_consumer(model, consumers, link.value);
  if (next && !is_fused_conv(first) && is_standalone_activation(model.nodes[*next])) {
    const graph::Node& act = model.nodes[*next];
    if (act.inputs.empty() || act.inputs[0] != link.value || act.outputs.empty()) {
      return std::nullopt;
    }
    link.activation = act.op_type;
    link.blocker = standalone_blocker(model, act, options);
    link.value = act.outputs[0];
    next = sole_consumer(model, consumers, link.value);
  }
  return next;
}

// A FusedConv with a sum input Z adds Z before its activation; Z would need scaling too.
bool has_sum_input(const graph::Node& node) { return is_fused_conv(node) && node.has_input(3); }

std::vector<ConvPair> find_pairs(const graph::Graph& model, const EqualizationOptions& options,
                                 std::vector<std::string>& skipped) {
  const auto consumers = graph::consumers_of(model);
  std::vector<ConvPair> pairs;
  for (std::size_t a = 0; a < model.nodes.size(); ++a) {
    const graph::Node& first = model.nodes[a];
    if (!is_equalizable_conv(model, first, consumers) || has_sum_input(first)) continue;
    Link link;
    const std::optional<std::size_t> b = next_conv(model, consumers, first, options, link);
    if (!b) continue;
    const graph::Node& second = model.nodes[*b];
    if (!is_equalizable_conv(model, second, consumers) || second.inputs[0] != link.value) continue;
    if (!link.blocker.empty()) {
      skipped.push_back(fmt::format("{} -> {}: {}", first.name, second.name, link.blocker));
    } else if (!channels_line_up(model, first, second)) {
      skipped.push_back(
          fmt::format("{} -> {}: channel counts do not line up", first.name, second.name));
    } else {
      pairs.push_back({a, *b, link.activation});
    }
  }
  return pairs;
}

// Max |w| of each output channel (axis 0).
std::vector<double> output_channel_ranges(const Tensor& weight) {
  const std::int64_t channels = weight.dim(0);
  const std::int64_t inner = weight.numel() / channels;
  const float* w = weight.data<float>();
  std::vector<double> ranges(static_cast<std::size_t>(channels), 0.0);
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::int64_t i = 0; i < inner; ++i) {
      ranges[static_cast<std::size_t>(c)] =
          std::max<double>(ranges[static_cast<std::size_t>(c)], std::fabs(w[c * inner + i]));
    }
  }
  return ranges;
}

// Calls f(input_channel, flat_index) for every element of a grouped conv weight.
template <typename F>
void for_each_input_channel(const Tensor& weight, std::int64_t group, F f) {
  const std::int64_t outputs = weight.dim(0);
  const std::int64_t per_group_in = weight.dim(1);
  const std::int64_t per_group_out = outputs / group;
  const std::int64_t window = weight.numel() / (outputs * per_group_in);
  for (std::int64_t o = 0; o < outputs; ++o) {
    const std::int64_t base_channel = (o / per_group_out) * per_group_in;
    for (std::int64_t ic = 0; ic < per_group_in; ++ic) {
      const std::int64_t start = (o * per_group_in + ic) * window;
      for (std::int64_t k = 0; k < window; ++k) f(base_channel + ic, start + k);
    }
  }
}

std::vector<double> input_channel_ranges(const Tensor& weight, std::int64_t group) {
  std::vector<double> ranges(static_cast<std::size_t>(weight.dim(1) * group), 0.0);
  const float* w = weight.data<float>();
  for_each_input_channel(weight, group, [&](std::int64_t channel, std::int64_t i) {
    double& range = ranges[static_cast<std::size_t>(channel)];
    range = std::max<double>(range, std::fabs(w[i]));
  });
  return ranges;
}

double spread(const std::vector<double>& ranges) {
  double low = std::numeric_limits<double>::infinity();
  double high = 0.0;
  for (const double range : ranges) {
    if (range > 0.0) low = std::min(low, range);
    high = std::max(high, range);
  }
  return high > 0.0 ? high / low : 1.0;
}

struct PairSpreads {
  double first;
  double second;
};

PairSpreads pair_spreads(const graph::Graph& model, const ConvPair& pair) {
  const graph::Node& first = model.nodes[pair.first];
  const graph::Node& second = model.nodes[pair.second];
  return {spread(output_channel_ranges(model.initializers.at(first.inputs[1]))),
          spread(input_channel_ranges(model.initializers.at(second.inputs[1]),
                                      second.attr_int("group", 1)))};
}

void equalize_pair(graph::Graph& model, const ConvPair& pair) {
  const graph::Node& first = model.nodes[pair.first];
  const graph::Node& second = model.nodes[pair.second];
  Tensor& w1 = model.initializers.at(first.inputs[1]);
  Tensor& w2 = model.initializers.at(second.inputs[1]);
  const std::int64_t group = second.attr_int("group", 1);
  const std::vector<double> r1 = output_channel_ranges(w1);
  const std::vector<double> r2 = input_channel_ranges(w2, group);
  std::vector<double> scale(r1.size(), 1.0);
  for (std::size_t i = 0; i < r1.size(); ++i) {
    if (r1[i] > 0.0 && r2[i] > 0.0) scale[i] = std::sqrt(r1[i] / r2[i]);
  }
  const std::int64_t inner = w1.numel() / w1.dim(0);
  float* a = w1.data<float>();
  for (std::int64_t i = 0; i < w1.numel(); ++i) {
    a[i] = static_cast<float>(a[i] / scale[static_cast<std::size_t>(i / inner)]);
  }
  if (first.has_input(2)) {
    float* bias = model.initializers.at(first.inputs[2]).data<float>();
    for (std::size_t i = 0; i < scale.size(); ++i) bias[i] = static_cast<float>(bias[i] / scale[i]);
  }
  float* b = w2.data<float>();
  for_each_input_channel(w2, group, [&](std::int64_t channel, std::int64_t i) {
    b[i] = static_cast<float>(b[i] * scale[static_cast<std::size_t>(channel)]);
  });
}

// Gives every initializer the pairs write to its own storage (graph copies share it).
void own_pair_tensors(graph::Graph& model, const std::vector<ConvPair>& pairs) {
  std::set<std::string> names;
  for (const ConvPair& pair : pairs) {
    for (const std::size_t index : {pair.first, pair.second}) {
      const graph::Node& node = model.nodes[index];
      names.insert(node.inputs[1]);
      if (node.has_input(2)) names.insert(node.inputs[2]);
    }
  }
  for (const std::string& name : names) model.initializers[name] = model.initializers[name].clone();
}

// ---------------------------------------------------------------- bias correction

Tensor bias_or_zeros(const Tensor& bias, std::int64_t outputs, const char* what) {
  if (bias.empty()) return Tensor(DType::f32, {outputs});
  EP_CHECK(bias.dtype() == DType::f32 && bias.numel() == outputs,
           "{}: bias is {}{}, expected f32 with {} values", what, dtype_name(bias.dtype()),
           shape_to_string(bias.shape()), outputs);
  return bias.clone();
}

void check_weight_pair(const Tensor& weight, const Tensor& dequantized, std::int64_t min_rank,
                       const char* what) {
  EP_CHECK(weight.dtype() == DType::f32 && dequantized.dtype() == DType::f32,
           "{}: weights must be f32 (got {} and {})", what, dtype_name(weight.dtype()),
           dtype_name(dequantized.dtype()));
  EP_CHECK(weight.shape() == dequantized.shape(), "{}: weight shape {} but dequantized shape {}",
           what, shape_to_string(weight.shape()), shape_to_string(dequantized.shape()));
  EP_CHECK(weight.rank() >= min_rank, "{}: weight of shape {} has rank below {}", what,
           shape_to_string(weight.shape()), min_rank);
}

// ---------------------------------------------------------------- SQNR

const Tensor& value_of(const std::map<std::string, Tensor>& outputs,
                       const std::map<std::string, Tensor>& feeds, const std::string& name) {
  const auto found = outputs.find(name);
  return found != outputs.end() ? found->second : feeds.at(name);
}

// ---------------------------------------------------------------- mixed precision

using BuildFn = std::function<graph::Graph(const std::set<std::string>&)>;

void check_layers(const std::vector<std::string>& layers) {
  std::set<std::string> seen;
  for (const std::string& layer : layers) {
    EP_CHECK(seen.insert(layer).second, "mixed precision: layer '{}' is listed twice", layer);
  }
}

double checked(double value, const std::string& what) {
  EP_CHECK(!std::isnan(value), "mixed precision: {} is NaN", what);
  return value;
}

// Layer indices in the order they are considered for keeping (most sensitive first).
std::vector<std::size_t> keep_order(const std::vector<double>& sensitivity,
                                    const std::vector<double>& tie_break) {
  std::vector<std::size_t> order(sensitivity.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (sensitivity[a] != sensitivity[b]) return sensitivity[a] > sensitivity[b];
    return tie_break[a] < tie_break[b];
  });
  return order;
}

}  // namespace

EqualizationReport equalize_cross_layer(graph::Graph& model, const EqualizationOptions& options) {
  EP_CHECK(options.iterations >= 1 && options.iterations <= 100,
           "cross-layer equalization: iterations must be between 1 and 100, got {}",
           options.iterations);
  EqualizationReport report;
  const std::vector<ConvPair> pairs = find_pairs(model, options, report.skipped);
  own_pair_tensors(model, pairs);
  for (const ConvPair& pair : pairs) {
    const PairSpreads before = pair_spreads(model, pair);
    report.pairs.push_back({model.nodes[pair.first].name, model.nodes[pair.second].name,
                            pair.activation, before.first, 0.0, before.second, 0.0});
  }
  for (int iteration = 0; iteration < options.iterations; ++iteration) {
    for (const ConvPair& pair : pairs) equalize_pair(model, pair);
  }
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const PairSpreads after = pair_spreads(model, pairs[i]);
    report.pairs[i].first_spread_after = after.first;
    report.pairs[i].second_spread_after = after.second;
  }
  return report;
}

Tensor corrected_conv_bias(const Tensor& weight, const Tensor& dequantized_weight,
                           const Tensor& bias, const std::vector<double>& input_means,
                           std::int64_t group) {
  constexpr const char* kWhat = "bias correction (Conv)";
  check_weight_pair(weight, dequantized_weight, 3, kWhat);
  EP_CHECK(weight.numel() > 0, "{}: weight of shape {} is empty", kWhat,
           shape_to_string(weight.shape()));
  const std::int64_t outputs = weight.dim(0);
  EP_CHECK(group > 0 && outputs % group == 0, "{}: group {} does not divide {} output channels",
           kWhat, group, outputs);
  EP_CHECK(static_cast<std::int64_t>(input_means.size()) == weight.dim(1) * group,
           "{}: {} input channel means for a weight of shape {} with group {}", kWhat,
           input_means.size(), shape_to_string(weight.shape()), group);
  Tensor corrected = bias_or_zeros(bias, outputs, kWhat);
  const float* w = weight.data<float>();
  const float* wq = dequantized_weight.data<float>();
  std::vector<double> error(static_cast<std::size_t>(outputs), 0.0);
  const std::int64_t per_output = weight.numel() / outputs;
  for_each_input_channel(weight, group, [&](std::int64_t channel, std::int64_t i) {
    error[static_cast<std::size_t>(i / per_output)] +=
        (static_cast<double>(wq[i]) - w[i]) * input_means[static_cast<std::size_t>(channel)];
  });
  float* b = corrected.data<float>();
  for (std::int64_t o = 0; o < outputs; ++o) {
    b[o] = static_cast<float>(b[o] - error[static_cast<std::size_t>(o)]);
  }
  return corrected;
}

Tensor corrected_matmul_bias(const Tensor& weight, const Tensor& dequantized_weight,
                             const Tensor& bias, const std::vector<double>& input_means,
                             bool transposed) {
  constexpr const char* kWhat = "bias correction (MatMul/Gemm)";
  check_weight_pair(weight, dequantized_weight, 2, kWhat);
  EP_CHECK(weight.rank() == 2, "{}: weight of shape {} is not 2-D", kWhat,
           shape_to_string(weight.shape()));
  const std::int64_t inputs = transposed ? weight.dim(1) : weight.dim(0);
  const std::int64_t outputs = transposed ? weight.dim(0) : weight.dim(1);
  EP_CHECK(static_cast<std::int64_t>(input_means.size()) == inputs,
           "{}: {} input means for a weight of shape {}", kWhat, input_means.size(),
           shape_to_string(weight.shape()));
  Tensor corrected = bias_or_zeros(bias, outputs, kWhat);
  const float* w = weight.data<float>();
  const float* wq = dequantized_weight.data<float>();
  float* b = corrected.data<float>();
  for (std::int64_t n = 0; n < outputs; ++n) {
    double error = 0.0;
    for (std::int64_t k = 0; k < inputs; ++k) {
      const std::int64_t i = transposed ? n * inputs + k : k * outputs + n;
      error += (static_cast<double>(wq[i]) - w[i]) * input_means[static_cast<std::size_t>(k)];
    }
    b[n] = static_cast<float>(b[n] - error);
  }
  return corrected;
}

std::vector<LayerSqnr> per_layer_sqnr(const graph::Graph& float_model,
                                      const graph::Graph& quantized_model,
                                      const std::map<std::string, std::string>& value_pairs,
                                      SampleSource& samples, std::size_t max_samples) {
  std::vector<std::string> float_values;
  std::vector<std::string> quantized_values;
  for (const auto& [float_value, quantized_value] : value_pairs) {
    float_values.push_back(float_value);
    quantized_values.push_back(quantized_value);
  }
  runtime::Session reference(expose_values(float_model, float_values));
  runtime::Session quantized(expose_values(quantized_model, quantized_values));
  std::map<std::string, eval::SqnrSums> sums;
  std::size_t count = 0;
  while (max_samples == 0 || count < max_samples) {
    std::optional<std::map<std::string, Tensor>> sample = samples.next();
    if (!sample) break;
    check_sample(float_model, *sample, count);
    const auto expected = reference.run(*sample);
    const auto actual = quantized.run(*sample);
    for (const auto& [float_value, quantized_value] : value_pairs) {
      sums[float_value].add(value_of(expected, *sample, float_value),
                            value_of(actual, *sample, quantized_value),
                            fmt::format("SQNR of '{}' vs quantized '{}' (sample {})", float_value,
                                        quantized_value, count));
    }
    ++count;
  }
  EP_CHECK(count > 0, "per-layer SQNR: the sample source gave no samples");
  std::vector<LayerSqnr> rows;
  for (const graph::Node& node : float_model.nodes) {
    for (const std::string& output : node.outputs) {
      if (const auto found = sums.find(output); found != sums.end()) {
        rows.push_back({node.name, node.op_type, output, found->second.db()});
      }
    }
  }
  for (const graph::ValueInfo& input : float_model.inputs) {
    if (const auto found = sums.find(input.name); found != sums.end()) {
      rows.insert(rows.begin(), LayerSqnr{"", "(input)", input.name, found->second.db()});
    }
  }
  return rows;
}

std::string format_sqnr_table(const std::vector<LayerSqnr>& rows) {
  std::size_t lowest = rows.size();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (lowest == rows.size() || rows[i].sqnr_db < rows[lowest].sqnr_db) lowest = i;
  }
  std::string table = fmt::format("{:<32} {:<20} {:>10}\n", "node", "op", "SQNR (dB)");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    table += fmt::format("{:<32} {:<20} {:>10.2f}{}\n", rows[i].node, rows[i].op_type,
                         rows[i].sqnr_db, i == lowest ? "  <- lowest" : "");
  }
  return table;
}

double output_sqnr_db(const graph::Graph& reference, const graph::Graph& candidate,
                      const std::vector<std::map<std::string, Tensor>>& samples) {
  EP_CHECK(!samples.empty(), "output SQNR: no samples");
  runtime::Session expected_session(reference);
  runtime::Session actual_session(candidate);
  eval::SqnrSums sums;
  for (std::size_t s = 0; s < samples.size(); ++s) {
    const auto expected = expected_session.run(samples[s]);
    const auto actual = actual_session.run(samples[s]);
    for (const auto& [name, tensor] : expected) {
      const auto found = actual.find(name);
      EP_CHECK(found != actual.end(), "output SQNR: the candidate model has no output '{}'", name);
      sums.add(tensor, found->second, fmt::format("output '{}' (sample {})", name, s));
    }
  }
  return sums.db();
}

std::vector<MixedPrecisionDecision> choose_mixed_precision(
    const std::vector<std::string>& layers, const BuildFn& build_model, const EvaluateFn& evaluate,
    double budget_points, const std::map<std::string, double>& layer_sqnr_db) {
  EP_CHECK(std::isfinite(budget_points) && budget_points >= 0.0,
           "mixed precision: the accuracy budget must be >= 0 points, got {}", budget_points);
  check_layers(layers);
  const std::set<std::string> all(layers.begin(), layers.end());
  const double float_accuracy = checked(evaluate(build_model(all)), "the float accuracy");
  std::vector<double> sensitivity;
  std::vector<double> tie_break;
  for (const std::string& layer : layers) {
    std::set<std::string> others = all;
    others.erase(layer);
    const double accuracy =
        checked(evaluate(build_model(others)), "the accuracy with only '" + layer + "' quantized");
    sensitivity.push_back(float_accuracy - accuracy);
    const auto sqnr = layer_sqnr_db.find(layer);
    tie_break.push_back(sqnr == layer_sqnr_db.end() ? std::numeric_limits<double>::infinity()
                                                    : sqnr->second);
  }
  std::set<std::string> kept;
  double drop = float_accuracy - checked(evaluate(build_model(kept)), "the quantized accuracy");
  std::vector<MixedPrecisionDecision> decisions;
  for (const std::size_t i : keep_order(sensitivity, tie_break)) {
    MixedPrecisionDecision decision{layers[i], sensitivity[i], false, ""};
    if (drop > budget_points) {
      decision.kept_float = true;
      decision.reason = fmt::format(
          "sensitivity {:.2f} pts, kept: budget {} not met without it (drop {:.2f} pts)",
          sensitivity[i], budget_points, drop);
      kept.insert(layers[i]);
      drop = float_accuracy - checked(evaluate(build_model(kept)), "the mixed accuracy");
    }
    decisions.push_back(std::move(decision));
  }
  for (MixedPrecisionDecision& decision : decisions) {
    if (decision.kept_float) continue;
    decision.reason = fmt::format(
        "sensitivity {:.2f} pts, quantized: drop {:.2f} pts with {} layer(s) kept is within "
        "budget {}",
        decision.sensitivity, drop, kept.size(), budget_points);
  }
  return decisions;
}

std::vector<MixedPrecisionDecision> choose_mixed_precision_by_sqnr(
    const std::vector<std::string>& layers, const BuildFn& build_model,
    const std::function<double(const graph::Graph&)>& output_sqnr, double min_sqnr_db) {
  EP_CHECK(!std::isnan(min_sqnr_db), "mixed precision: the SQNR target is NaN");
  check_layers(layers);
  const std::set<std::string> all(layers.begin(), layers.end());
  std::vector<double> sensitivity;
  for (const std::string& layer : layers) {
    std::set<std::string> others = all;
    others.erase(layer);
    sensitivity.push_back(
        -checked(output_sqnr(build_model(others)), "the SQNR with only '" + layer + "' quantized"));
  }
  std::set<std::string> kept;
  double sqnr = checked(output_sqnr(build_model(kept)), "the quantized SQNR");
  std::vector<MixedPrecisionDecision> decisions;
  const std::vector<double> no_tie_break(layers.size(), 0.0);
  for (const std::size_t i : keep_order(sensitivity, no_tie_break)) {
    MixedPrecisionDecision decision{layers[i], sensitivity[i], false, ""};
    if (sqnr < min_sqnr_db) {
      decision.kept_float = true;
      decision.reason = fmt::format(
          "output SQNR {:.2f} dB when only it is quantized, kept: target {} dB not met without "
          "it ({:.2f} dB)",
          -sensitivity[i], min_sqnr_db, sqnr);
      kept.insert(layers[i]);
      sqnr = checked(output_sqnr(build_model(kept)), "the mixed SQNR");
    }
    decisions.push_back(std::move(decision));
  }
  for (MixedPrecisionDecision& decision : decisions) {
    if (decision.kept_float) continue;
    decision.reason = fmt::format(
        "output SQNR {:.2f} dB when only it is quantized, quantized: {:.2f} dB with {} layer(s) "
        "kept meets target {} dB",
        -decision.sensitivity, sqnr, kept.size(), min_sqnr_db);
  }
  return decisions;
}

}  // namespace edgeperf::quant
