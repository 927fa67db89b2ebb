// serialize_pruned_model: the three storage formats of a pruned model. onnx-sparse moves
// pruned initializers into the ModelProto's sparse_initializer list (values + int64 flat
// indices), which ONNX Runtime and edgeperf's importer both densify at load time.
#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <cstring>

#include "edgeperf/core/error.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/prune/prune.h"
#include "edgeperf/prune/sparse_format.h"

namespace edgeperf::prune {
namespace {

// Standard sparse storage costs 12 bytes per nonzero (f32 value + int64 index), so it only
// shrinks weights below a third dense.
bool sparse_proto_is_smaller(const Tensor& dense, std::int64_t nonzeros) {
  return nonzeros * 12 < dense.numel() * 4;
}

template <typename T>
void set_raw(onnx::TensorProto* proto, const std::vector<T>& values) {
  proto->set_raw_data(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
}

onnx::SparseTensorProto sparse_proto(const std::string& name, const Tensor& dense) {
  std::vector<float> values;
  std::vector<std::int64_t> indices;
  const auto data = dense.values<float>();
  for (std::int64_t i = 0; i < dense.numel(); ++i) {
    if (data[i] == 0.0f) continue;
    values.push_back(data[i]);
    indices.push_back(i);
  }
  onnx::SparseTensorProto proto;
  for (std::int64_t dim : dense.shape()) proto.add_dims(dim);
  onnx::TensorProto* value_proto = proto.mutable_values();
  value_proto->set_name(name);
  value_proto->set_data_type(onnx::TensorProto_DataType_FLOAT);
  value_proto->add_dims(static_cast<std::int64_t>(values.size()));
  set_raw(value_proto, values);
  onnx::TensorProto* index_proto = proto.mutable_indices();
  index_proto->set_data_type(onnx::TensorProto_DataType_INT64);
  index_proto->add_dims(static_cast<std::int64_t>(indices.size()));
  set_raw(index_proto, indices);
  return proto;
}

std::string to_onnx_sparse(const graph::Graph& graph, const std::set<std::string>& weights) {
  onnx::ModelProto model;
  EP_CHECK(model.ParseFromString(onnx_io::serialize_model(graph)),
           "graph '{}': cannot re-read its own serialization", graph.name);
  onnx::GraphProto* proto = model.mutable_graph();
  google::protobuf::RepeatedPtrField<onnx::TensorProto> dense_initializers;
  for (onnx::TensorProto& initializer : *proto->mutable_initializer()) {
    const auto found = graph.initializers.find(initializer.name());
    const bool sparse =
        weights.count(initializer.name()) && found != graph.initializers.end() &&
        found->second.dtype() == DType::f32 &&
        sparse_proto_is_smaller(found->second, found->second.numel() - count_zeros(found->second));
    if (sparse) {
      *proto->add_sparse_initializer() = sparse_proto(initializer.name(), found->second);
    } else {
      *dense_initializers.Add() = std::move(initializer);
    }
  }
  proto->mutable_initializer()->Swap(&dense_initializers);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& error) {
    const std::string text = error.what();
    fail("internal error: the onnx-sparse export of graph '{}' fails the ONNX checker: {}",
         graph.name, text.substr(0, text.find('\n')));
  }
  EP_CHECK(model.ByteSizeLong() <= INT_MAX, "graph '{}' is too large for protobuf", graph.name);
  std::string bytes;
  EP_CHECK(model.SerializeToString(&bytes), "graph '{}': protobuf serialization failed",
           graph.name);
  return bytes;
}

}  // namespace

std::string serialize_pruned_model(const graph::Graph& graph,
                                   const std::set<std::string>& sparse_weights,
                                   StorageFormat format) {
  switch (format) {
    case StorageFormat::compressed: {
      graph::Graph encoded = graph;
      encode_sparse_weights(encoded, sparse_weights);
      return onnx_io::serialize_model(encoded);
    }
    case StorageFormat::onnx_sparse:
      return to_onnx_sparse(graph, sparse_weights);
    default:
      return onnx_io::serialize_model(graph);
  }
}

}  // namespace edgeperf::prune
