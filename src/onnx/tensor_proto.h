#pragma once
// Conversions between onnx::TensorProto and edgeperf::Tensor (private to ep_onnx).
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <optional>
#include <string>

#include "edgeperf/core/dtype.h"
#include "edgeperf/core/tensor.h"

namespace edgeperf::onnx_io::detail {

// ONNX element type -> DType; std::nullopt for types edgeperf does not support.
std::optional<DType> dtype_from_onnx(int elem_type);
int dtype_to_onnx(DType dtype);
// "DOUBLE", "STRING", ... for messages.
std::string onnx_type_name(int elem_type);

// Where external tensor data may be read from; empty dir refuses external data.
struct ExternalDataPolicy {
  std::filesystem::path base_dir;
};

// Decodes a dense tensor. `what` names it in errors ("initializer 'w'").
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what,
                         const ExternalDataPolicy& external);
// Densifies a sparse tensor (flat [NNZ] or coordinate [NNZ, rank] indices).
Tensor tensor_from_sparse_proto(const onnx::SparseTensorProto& proto, const std::string& what,
                                const ExternalDataPolicy& external);

// libonnx 1.12's checker resolves external data against an empty model directory. Once a
// tensor's location is validated, it is rewritten to the resolved absolute path for it.
void point_external_data_at_resolved_path(onnx::TensorProto& proto,
                                          const ExternalDataPolicy& external);

// Encodes a tensor with raw_data (little-endian).
void tensor_to_proto(const Tensor& tensor, const std::string& name, onnx::TensorProto* proto);

}  // namespace edgeperf::onnx_io::detail
