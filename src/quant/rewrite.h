#pragma once
// Internal to ep_quant: the graph rewrites behind quantize_model (one file per mode)
// and the helpers they share (generic graph edits are in edgeperf/graph/editor.h).
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/graph/editor.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/quant/quantize.h"

namespace edgeperf::quant::detail {

// The name a node goes by in --exclude and the report: its name, else its first output.
std::string node_id(const graph::Node& node);

// A Conv, Gemm or MatMul whose weight is a float initializer, in a shape the rewrites
// handle. Its output-channel axis is the per-channel quantization axis of the weight.
struct WeightedNode {
  std::size_t index = 0;  // into graph.nodes
  std::string weight;     // initializer name
  std::string bias;       // initializer name, empty when absent
  std::int64_t channel_axis = 0;
  bool weight_is_k_by_n = false;  // MatMul, Gemm transB=0: weight is [K, N]
};

// Why `node` cannot be quantized as a weighted layer, or nullopt when it can.
std::optional<std::string> unsupported_reason(const graph::Graph& graph, const graph::Node& node);
// Every quantizable Conv/Gemm/MatMul not in `exclude`, in graph order.
std::vector<WeightedNode> weighted_nodes(const graph::Graph& graph,
                                         const std::set<std::string>& exclude);
bool is_weighted_op(const graph::Node& node);

Tensor scalar_tensor(float value);
Tensor zero_point_tensor(const QuantParams& params);  // scalar or [C] of params.dtype
Tensor scale_tensor(const QuantParams& params);       // scalar or [C] f32
Tensor transpose_2d(const Tensor& matrix);            // [R, C] -> [C, R], any dtype
// An initializer's float values as [N] (bias given as [N] or [1, N]).
Tensor as_vector(const Tensor& tensor);

// Drops initializers no node input or graph output refers to.
void remove_unused_initializers(graph::Graph& graph);
// Renames value `from` to `to` in every node input and output and graph output.
void rename_value(graph::Graph& graph, const std::string& from, const std::string& to);

// The rewrites. Each returns the new model and fills `layers` and `log`.
struct RewriteOutput {
  graph::Graph model;
  std::vector<LayerReport> layers;
  std::vector<std::string> log;
  // Per quantized layer: value name in the float model -> same quantity in `model`.
  std::map<std::string, std::pair<std::string, std::string>> compare_values;
};

// One report row per weighted layer of `model`: `precision` and `note` for the layers
// the rewrite quantized (those in output.compare_values), fp32 with the reason for the others.
void add_weighted_layer_rows(const graph::Graph& model, const QuantizeOptions& options,
                             const std::string& precision, const std::string& note,
                             RewriteOutput& output);

RewriteOutput rewrite_static(const graph::Graph& model, const QuantizeOptions& options,
                             SampleSource& calibration);
RewriteOutput rewrite_dynamic(const graph::Graph& model, const QuantizeOptions& options);
RewriteOutput rewrite_fp16(const graph::Graph& model, const QuantizeOptions& options);
RewriteOutput rewrite_int4(const graph::Graph& model, const QuantizeOptions& options);

}  // namespace edgeperf::quant::detail
