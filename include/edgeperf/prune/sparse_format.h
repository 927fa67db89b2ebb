#pragma once
// Storage for pruned weights (docs/sparse-format.md).
//   compressed:  each sparse weight W becomes an edgeperf.SparseWeight node whose inputs are
//                a bitmask initializer (u8, 1 bit per weight) and the nonzero values (f32),
//                and whose output is W; edgeperf's runtime folds it at load time.
//   onnx-sparse: standard ONNX sparse_initializer (int64 flat indices; ONNX Runtime reads it).
//   dense:       plain initializers with zeros.
#include <cstddef>
#include <filesystem>
#include <set>
#include <string>

#include "edgeperf/graph/graph.h"

namespace edgeperf::prune {

inline constexpr const char* kSparseWeightDomain = "edgeperf";
inline constexpr const char* kSparseWeightOp = "SparseWeight";

enum class StorageFormat { compressed, onnx_sparse, dense };
StorageFormat parse_storage_format(
    const std::string& name);  // "compressed" | "onnx-sparse" | "dense"
std::string storage_format_name(StorageFormat format);

struct EncodedWeight {
  Tensor mask;    // u8 [ceil(numel / 8)], bit k % 8 of byte k / 8 set when element k != 0
  Tensor values;  // [nonzeros] of the weight's dtype (f32 or i8), in row-major order
};
EncodedWeight encode_bitmask(const Tensor& dense);  // f32 or i8
// Decodes and checks (mask length, popcount == value count, padding bits clear).
// `what` names the weight in errors.
Tensor decode_bitmask(const Tensor& mask, const Tensor& values, const Shape& shape,
                      const std::string& what);

// Bytes the compressed encoding of a weight with `numel` elements and `nonzeros` nonzeros
// takes (mask + values), without the node's small overhead.
std::size_t compressed_bytes(std::int64_t numel, std::int64_t nonzeros,
                             std::size_t value_bytes = 4);

// Replaces each f32 or i8 initializer named in `weights` by an edgeperf.SparseWeight node when
// that is smaller than the dense tensor. Returns the names it encoded.
std::set<std::string> encode_sparse_weights(graph::Graph& graph,
                                            const std::set<std::string>& weights);
// Folds every edgeperf.SparseWeight node back into a dense initializer (for tools that
// edit weights). Returns how many it folded.
std::size_t decode_sparse_weights(graph::Graph& graph);

// Serializes `graph` (dense pruned weights) in `format`; `sparse_weights` names the
// initializers to store sparsely. The result passes onnx::checker.
std::string serialize_pruned_model(const graph::Graph& graph,
                                   const std::set<std::string>& sparse_weights,
                                   StorageFormat format);

}  // namespace edgeperf::prune
