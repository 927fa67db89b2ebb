#pragma once
// Unstructured magnitude (L1) pruning and 2:4 semi-structured pruning of the weights of
// Conv, Gemm and MatMul. Pruning zeroes weights in place; storage that turns zeros into
// bytes is in sparse_format.h. Biases and normalization parameters are never pruned.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::prune {

// A weight the pruner may zero: the f32 initializer a Conv, Gemm or MatMul multiplies by.
struct PrunableLayer {
  std::string node;     // node name
  std::string op_type;  // Conv, Gemm, MatMul
  std::string weight;   // initializer name
  Shape shape;
  // Axis of `weight` that the layer reduces over (input channels): 2:4 groups run along it.
  std::int64_t reduction_axis = 0;
  std::int64_t params = 0;
  // Set when `weight` is an int8 initializer behind a DequantizeLinear (a QDQ model) with
  // zero point 0: the f32 scale initializer and the axis it runs along (-1: one scale).
  std::string scale;
  std::int64_t scale_axis = -1;
  bool quantized() const { return !scale.empty(); }
};

// Prunable layers in graph order: f32 weights, and int8 weights dequantized with zero point 0
// (pruning after quantization). A weight that is shared with another node, or whose node
// reads it as something other than the weight, is left out.
std::vector<PrunableLayer> find_prunable_layers(const graph::Graph& graph);

// Layers excluded unless asked otherwise, by node name -> reason: the first layer when it
// is a Conv ("first conv": few weights, sees raw input) and the last when it is a Gemm or
// MatMul ("last FC": the classifier). Both are small and the most sensitive.
std::map<std::string, std::string> default_exclusions(const std::vector<PrunableLayer>& layers);

enum class Method { magnitude, two_four };
enum class Scope { global, layer };
Method parse_method(const std::string& name);  // "magnitude" | "2:4"
Scope parse_scope(const std::string& name);    // "global" | "layer"

struct PruneOptions {
  Method method = Method::magnitude;
  double sparsity = 0.5;  // fraction of zeros in the pruned layers, in [0, 1)
  Scope scope = Scope::global;
  std::set<std::string> exclude;      // node names; each must name a node of the graph
  bool prune_first_and_last = false;  // false: apply default_exclusions()
  // Per-layer sparsity by node name (from a sensitivity scan); overrides sparsity/scope
  // for the layers it names. Layers it does not name are left dense.
  std::map<std::string, double> layer_sparsity;
};

struct LayerReport {
  PrunableLayer layer;
  std::int64_t zeros_before = 0, zeros_after = 0;
  bool pruned = false;
  std::string note;  // why a layer was not pruned ("excluded: first conv", ...)
  double sparsity() const;
};

struct PruneResult {
  graph::Graph model;
  std::vector<LayerReport> layers;
  std::vector<std::string> log;  // one line per decision worth telling the user
  // Zeros / weights over the pruned layers, and over every prunable layer.
  double pruned_layers_sparsity = 0, all_layers_sparsity = 0;
};

// Throws Error (one line) for a sparsity outside [0, 1), an unknown node in `exclude`, a
// model with no prunable layer, or when every prunable layer is excluded or skipped.
PruneResult prune_model(const graph::Graph& graph, const PruneOptions& options);

// Zeroes the `count` smallest-magnitude values (ties: lowest index first).
void zero_smallest(std::span<float> values, std::int64_t count);

// 2:4: in every group of 4 consecutive weights along `reduction_axis`, keeps the two of
// largest magnitude (ties: lowest index). The axis size must be a multiple of 4.
void prune_two_four(Tensor& weight, std::int64_t reduction_axis);

struct MaskViolation {
  std::int64_t group = 0;        // group number, groups counted in row-major order
  std::int64_t first_index = 0;  // flat index of the group's first weight
  std::int64_t stride = 1;       // flat distance between the group's weights
  int nonzeros = 0;
  std::string to_string() const;
};
// The first group of 4 along `reduction_axis` with more than 2 nonzeros, if any. Throws
// when the axis size is not a multiple of 4.
std::optional<MaskViolation> find_two_four_violation(const Tensor& weight,
                                                     std::int64_t reduction_axis);
// Checks every layer's weight in `graph`; throws Error naming the first violating layer,
// weight and group.
void validate_two_four(const graph::Graph& graph, const std::vector<PrunableLayer>& layers);

std::int64_t count_zeros(const Tensor& weight);  // f32 or int8
// The layer's weight as f32 (int8 weights times their scale): magnitudes to prune by.
Tensor float_weight(const graph::Graph& graph, const PrunableLayer& layer);

}  // namespace edgeperf::prune
