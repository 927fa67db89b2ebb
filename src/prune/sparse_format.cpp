// The compressed storage of pruned weights: edgeperf.SparseWeight nodes (bitmask + values).
#include "edgeperf/prune/sparse_format.h"

#include <algorithm>

#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"
#include "edgeperf/graph/editor.h"
#include "edgeperf/runtime/reference.h"

namespace edgeperf::prune {
namespace {

bool is_sparse_weight_node(const graph::Node& node) {
  return node.domain == kSparseWeightDomain && node.op_type == kSparseWeightOp;
}

graph::Node sparse_weight_node(const std::string& weight, const Shape& shape,
                               const std::string& mask, const std::string& values) {
  graph::Node node;
  node.name = weight + "_decode";
  node.op_type = kSparseWeightOp;
  node.domain = kSparseWeightDomain;
  node.inputs = {mask, values};
  node.outputs = {weight};
  node.attrs["shape"] = std::vector<std::int64_t>(shape.begin(), shape.end());
  return node;
}

// Runs the runtime's edgeperf.SparseWeight shape inference, which decodes the constant.
Tensor fold_sparse_weight(const graph::Node& node, const graph::Graph& graph) {
  runtime::PrepareContext context{node, {}, {}, {}, {}, graph.opset};
  for (const std::string& input : node.inputs) {
    const auto found = graph.initializers.find(input);
    EP_CHECK(found != graph.initializers.end(), "node {}: input '{}' must be an initializer",
             node.label(), input);
    context.inputs.push_back({found->second.dtype(), found->second.shape(), true});
    context.constants.push_back(&found->second);
  }
  const runtime::KernelRegistration* kernel = runtime::find_reference_kernel(node);
  EP_CHECK(kernel != nullptr, "node {}: no kernel decodes it", node.label());
  kernel->infer(context);
  EP_CHECK(context.output_values.size() == 1 && context.output_values[0].has_value(),
           "node {}: did not decode to a constant", node.label());
  return *context.output_values[0];
}

constexpr auto kStorageFormats =
    enum_names<StorageFormat>("storage format",
                              {{StorageFormat::compressed, "compressed"},
                               {StorageFormat::onnx_sparse, "onnx-sparse"},
                               {StorageFormat::dense, "dense"}},
                              "dense");

}  // namespace

StorageFormat parse_storage_format(const std::string& name) { return kStorageFormats.parse(name); }

std::string storage_format_name(StorageFormat format) {
  return std::string(kStorageFormats.name(format));
}

namespace {

template <typename T>
EncodedWeight encode_values(const Tensor& dense) {
  const auto values = dense.values<T>();
  const std::int64_t nonzeros = std::ssize(values) - std::count(values.begin(), values.end(), T(0));
  EncodedWeight encoded{Tensor(DType::u8, {(dense.numel() + 7) / 8}),
                        Tensor(dense.dtype(), {nonzeros})};
  std::uint8_t* mask = encoded.mask.data<std::uint8_t>();
  T* kept = encoded.values.data<T>();
  for (std::int64_t i = 0; i < dense.numel(); ++i) {
    if (values[i] == T(0)) continue;
    mask[i >> 3] = static_cast<std::uint8_t>(mask[i >> 3] | (1u << (i & 7)));
    *kept++ = values[i];
  }
  return encoded;
}

}  // namespace

EncodedWeight encode_bitmask(const Tensor& dense) {
  EP_CHECK(dense.dtype() == DType::f32 || dense.dtype() == DType::i8,
           "sparse storage holds f32 or i8 weights, not {}", dtype_name(dense.dtype()));
  return dense.dtype() == DType::f32 ? encode_values<float>(dense)
                                     : encode_values<std::int8_t>(dense);
}

Tensor decode_bitmask(const Tensor& mask, const Tensor& values, const Shape& shape,
                      const std::string& what) {
  graph::Graph graph;
  graph.initializers = {{"mask", mask}, {"values", values}};
  graph::Node node = sparse_weight_node(what, shape, "mask", "values");
  node.name = what;
  return fold_sparse_weight(node, graph);
}

std::size_t compressed_bytes(std::int64_t numel, std::int64_t nonzeros, std::size_t value_bytes) {
  return static_cast<std::size_t>((numel + 7) / 8) +
         static_cast<std::size_t>(nonzeros) * value_bytes;
}

std::set<std::string> encode_sparse_weights(graph::Graph& graph,
                                            const std::set<std::string>& weights) {
  graph::FreshNames names(graph);
  std::set<std::string> encoded;
  std::vector<graph::Node> decoders;
  for (const std::string& weight : weights) {
    const auto found = graph.initializers.find(weight);
    EP_CHECK(found != graph.initializers.end(), "sparse storage: no initializer '{}'", weight);
    const Tensor dense = found->second;
    if (dense.dtype() != DType::f32 && dense.dtype() != DType::i8) continue;
    EncodedWeight parts = encode_bitmask(dense);
    const std::size_t bytes =
        compressed_bytes(dense.numel(), parts.values.numel(), dtype_size(dense.dtype()));
    if (bytes >= dense.nbytes()) continue;
    const std::string mask = names.take(weight + ".mask");
    const std::string values = names.take(weight + ".values");
    graph.initializers.erase(found);
    graph.initializers.emplace(mask, std::move(parts.mask));
    graph.initializers.emplace(values, std::move(parts.values));
    decoders.push_back(sparse_weight_node(weight, dense.shape(), mask, values));
    encoded.insert(weight);
  }
  graph.nodes.insert(graph.nodes.begin(), decoders.begin(), decoders.end());
  return encoded;
}

std::size_t decode_sparse_weights(graph::Graph& graph) {
  std::vector<graph::Node> kept;
  std::set<std::string> encoded_parts;
  std::size_t folded = 0;
  for (const graph::Node& node : graph.nodes) {
    if (!is_sparse_weight_node(node)) {
      kept.push_back(node);
      continue;
    }
    EP_CHECK(node.outputs.size() == 1, "node {}: expects 1 output, got {}", node.label(),
             node.outputs.size());
    graph.initializers[node.outputs[0]] = fold_sparse_weight(node, graph);
    encoded_parts.insert(node.inputs.begin(), node.inputs.end());
    ++folded;
  }
  graph.nodes = std::move(kept);
  const auto consumers = graph::consumers_of(graph);
  for (const std::string& part : encoded_parts) {
    if (!consumers.count(part)) graph.initializers.erase(part);
  }
  return folded;
}

}  // namespace edgeperf::prune
