// prune_model: option checks, layer selection and unstructured magnitude (L1) pruning.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "edgeperf/core/error.h"
#include "edgeperf/prune/prune.h"

namespace edgeperf::prune {
namespace {

void check_sparsity(double sparsity, const std::string& what) {
  EP_CHECK(sparsity >= 0.0 && sparsity < 1.0, "{} {} is outside [0, 1)", what, sparsity);
}

std::set<std::string> node_ids(const graph::Graph& graph) {
  std::set<std::string> ids;
  for (const graph::Node& node : graph.nodes) {
    ids.insert(node.name.empty() ? node.outputs.at(0) : node.name);
  }
  return ids;
}

std::string layer_names(const std::vector<PrunableLayer>& layers) {
  std::vector<std::string> names;
  for (const PrunableLayer& layer : layers) names.push_back(layer.node);
  constexpr std::size_t kShown = 8;
  const std::string shown = fmt::format(
      "{}", fmt::join(names.begin(), names.begin() + std::min(names.size(), kShown), ", "));
  return names.size() > kShown ? fmt::format("{}, ... ({} in all)", shown, names.size()) : shown;
}

void check_options(const graph::Graph& graph, const PruneOptions& options,
                   const std::vector<PrunableLayer>& layers) {
  if (options.method == Method::magnitude) check_sparsity(options.sparsity, "sparsity");
  for (const auto& [node, sparsity] : options.layer_sparsity) {
    check_sparsity(sparsity, fmt::format("sparsity of layer '{}'", node));
  }
  EP_CHECK(!layers.empty(),
           "model '{}' has no prunable layer (a Conv, Gemm or MatMul whose weight is an f32 "
           "initializer, or an int8 one behind a DequantizeLinear)",
           graph.name);
  const std::set<std::string> ids = node_ids(graph);
  for (const std::string& name : options.exclude) {
    EP_CHECK(ids.count(name) != 0, "--exclude: the model has no node named '{}' (prunable: {})",
             name, layer_names(layers));
  }
}

void check_finite(const PrunableLayer& layer, const Tensor& weight) {
  const auto values = weight.values<float>();
  const auto bad =
      std::find_if(values.begin(), values.end(), [](float value) { return !std::isfinite(value); });
  EP_CHECK(bad == values.end(), "layer '{}': weight '{}' has a non-finite value at index {}",
           layer.node, layer.weight, bad - values.begin());
}

// Why a layer stays dense, or "" when it is pruned.
std::string exclusion_reason(const PrunableLayer& layer, const PruneOptions& options,
                             const std::map<std::string, std::string>& defaults) {
  if (options.exclude.count(layer.node)) return "excluded (--exclude)";
  if (!options.prune_first_and_last && defaults.count(layer.node)) {
    return "excluded (" + defaults.at(layer.node) + ")";
  }
  if (!options.layer_sparsity.empty() && !options.layer_sparsity.count(layer.node)) {
    return "kept dense (no ratio given)";
  }
  if (options.method == Method::two_four && layer.shape[layer.reduction_axis] % 4 != 0) {
    return fmt::format("skipped (2:4 needs a reduction axis divisible by 4; axis {} has {})",
                       layer.reduction_axis, layer.shape[layer.reduction_axis]);
  }
  return "";
}

std::int64_t rounded_count(double fraction, std::int64_t total) {
  return std::min<std::int64_t>(total, std::llround(fraction * static_cast<double>(total)));
}

// Global scope never empties a layer: a single threshold can (weights scale with
// 1/sqrt(fan-in), so wide layers sit below it) and a layer of zeros cuts the network.
constexpr double kMaxGlobalLayerSparsity = 0.95;

// Zeros per layer that one magnitude threshold gives when it zeroes `count` weights of
// `weights` in all (ties: earlier layers and indices first).
std::vector<std::int64_t> threshold_counts(const std::vector<std::span<float>>& weights,
                                           std::int64_t count) {
  std::vector<std::int64_t> counts(weights.size(), 0);
  std::vector<float> magnitudes;
  for (std::span<float> values : weights) {
    for (float value : values) magnitudes.push_back(std::fabs(value));
  }
  count = std::min<std::int64_t>(count, std::ssize(magnitudes));
  if (count <= 0) return counts;
  std::nth_element(magnitudes.begin(), magnitudes.begin() + (count - 1), magnitudes.end());
  const float threshold = magnitudes[static_cast<std::size_t>(count - 1)];
  std::int64_t taken = 0;
  std::vector<std::int64_t> ties(weights.size(), 0);
  for (std::size_t l = 0; l < weights.size(); ++l) {
    for (float value : weights[l]) {
      counts[l] += std::fabs(value) < threshold;
      ties[l] += std::fabs(value) == threshold;
    }
    taken += counts[l];
  }
  for (std::size_t l = 0; l < weights.size() && taken < count; ++l) {
    const std::int64_t extra = std::min(ties[l], count - taken);
    counts[l] += extra;
    taken += extra;
  }
  return counts;
}

// One magnitude threshold across the layers, zeroing the `sparsity` fraction of their
// weights; a layer the threshold would push past the cap is held at the cap and the
// threshold recomputed over the others.
void prune_global(std::vector<std::span<float>>& weights, double sparsity,
                  const std::vector<std::string>& names, std::vector<std::string>& log) {
  const double cap = std::max(kMaxGlobalLayerSparsity, sparsity);
  std::int64_t total = 0;
  for (std::span<float> values : weights) total += std::ssize(values);
  std::vector<std::int64_t> counts(weights.size(), -1);  // -1: not capped yet
  while (true) {
    std::vector<std::size_t> open;
    std::vector<std::span<float>> pool;
    std::int64_t budget = rounded_count(sparsity, total);
    for (std::size_t l = 0; l < weights.size(); ++l) {
      if (counts[l] >= 0) {
        budget -= counts[l];
      } else {
        open.push_back(l);
        pool.push_back(weights[l]);
      }
    }
    const std::vector<std::int64_t> proposed = threshold_counts(pool, budget);
    bool capped_any = false;
    for (std::size_t i = 0; i < open.size(); ++i) {
      const auto limit = static_cast<std::int64_t>(cap * static_cast<double>(pool[i].size()));
      if (proposed[i] <= limit) continue;
      counts[open[i]] = limit;
      capped_any = true;
      log.push_back(fmt::format(
          "layer '{}': held at {:.0f}% sparsity (the global threshold "
          "would zero {:.1f}% of it)",
          names[open[i]], 100 * cap,
          100.0 * static_cast<double>(proposed[i]) / static_cast<double>(pool[i].size())));
    }
    if (capped_any) continue;
    for (std::size_t i = 0; i < open.size(); ++i) counts[open[i]] = proposed[i];
    break;
  }
  for (std::size_t l = 0; l < weights.size(); ++l) zero_smallest(weights[l], counts[l]);
}

double zero_fraction(std::int64_t zeros, std::int64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(zeros) / static_cast<double>(total);
}

void summarize(PruneResult& result) {
  std::int64_t pruned_zeros = 0, pruned_params = 0, all_zeros = 0, all_params = 0;
  for (LayerReport& report : result.layers) {
    report.zeros_after = count_zeros(result.model.initializers.at(report.layer.weight));
    all_zeros += report.zeros_after;
    all_params += report.layer.params;
    if (!report.pruned) continue;
    pruned_zeros += report.zeros_after;
    pruned_params += report.layer.params;
  }
  result.pruned_layers_sparsity = zero_fraction(pruned_zeros, pruned_params);
  result.all_layers_sparsity = zero_fraction(all_zeros, all_params);
}

// Writes a pruned f32 copy back: as is, or as zeros in the layer's int8 weight.
void store_pruned(graph::Graph& graph, const PrunableLayer& layer, const Tensor& pruned) {
  if (!layer.quantized()) {
    graph.initializers[layer.weight] = pruned;
    return;
  }
  Tensor quantized = graph.initializers.at(layer.weight).clone();
  const float* values = pruned.data<float>();
  std::int8_t* q = quantized.data<std::int8_t>();
  for (std::int64_t i = 0; i < quantized.numel(); ++i) {
    if (values[i] == 0.0f) q[i] = 0;
  }
  graph.initializers[layer.weight] = quantized;
}

void apply_pruning(const PruneOptions& options, PruneResult& result) {
  std::vector<Tensor> weights;  // f32 copies, pruned in place then stored back
  std::vector<const PrunableLayer*> layers;
  for (const LayerReport& report : result.layers) {
    if (!report.pruned) continue;
    weights.push_back(float_weight(result.model, report.layer));
    layers.push_back(&report.layer);
  }
  const bool global = options.method == Method::magnitude && options.layer_sparsity.empty() &&
                      options.scope == Scope::global;
  for (std::size_t i = 0; i < weights.size() && !global; ++i) {
    const PrunableLayer& layer = *layers[i];
    if (options.method == Method::two_four) {
      prune_two_four(weights[i], layer.reduction_axis);
    } else if (!options.layer_sparsity.empty()) {
      zero_smallest(weights[i].values<float>(),
                    rounded_count(options.layer_sparsity.at(layer.node), layer.params));
    } else {
      zero_smallest(weights[i].values<float>(), rounded_count(options.sparsity, layer.params));
    }
  }
  if (global) {
    std::vector<std::span<float>> spans;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      spans.push_back(weights[i].values<float>());
      names.push_back(layers[i]->node);
    }
    prune_global(spans, options.sparsity, names, result.log);
  }
  for (std::size_t i = 0; i < weights.size(); ++i) {
    store_pruned(result.model, *layers[i], weights[i]);
  }
}

}  // namespace

void zero_smallest(std::span<float> values, std::int64_t count) {
  if (count <= 0) return;
  std::vector<std::int64_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  const auto smaller = [&](std::int64_t a, std::int64_t b) {
    const float ma = std::fabs(values[a]), mb = std::fabs(values[b]);
    return ma < mb || (ma == mb && a < b);
  };
  const auto last = order.begin() + std::min<std::int64_t>(count, std::ssize(order));
  std::nth_element(order.begin(), last - 1, order.end(), smaller);
  for (auto it = order.begin(); it != last; ++it) values[*it] = 0.0f;
}

PruneResult prune_model(const graph::Graph& graph, const PruneOptions& options) {
  const std::vector<PrunableLayer> layers = find_prunable_layers(graph);
  check_options(graph, options, layers);
  const std::map<std::string, std::string> defaults = default_exclusions(layers);
  PruneResult result{graph, {}, {}, 0, 0};
  for (const PrunableLayer& layer : layers) {
    const Tensor& weight = graph.initializers.at(layer.weight);
    if (!layer.quantized()) check_finite(layer, weight);
    LayerReport report{layer, count_zeros(weight), 0, false,
                       exclusion_reason(layer, options, defaults)};
    report.pruned = report.note.empty();
    if (!report.pruned)
      result.log.push_back(fmt::format("layer '{}': {}", layer.node, report.note));
    result.layers.push_back(std::move(report));
  }
  const bool any = std::any_of(result.layers.begin(), result.layers.end(),
                               [](const LayerReport& report) { return report.pruned; });
  EP_CHECK(any, "model '{}': every prunable layer is excluded or skipped ({})", graph.name,
           layer_names(layers));
  apply_pruning(options, result);
  summarize(result);
  return result;
}

}  // namespace edgeperf::prune
