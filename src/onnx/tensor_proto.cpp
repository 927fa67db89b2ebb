#include "tensor_proto.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <span>

#include "edgeperf/core/error.h"
#include "edgeperf/core/shape.h"

namespace edgeperf::onnx_io::detail {
namespace {

static_assert(std::endian::native == std::endian::little,
              "raw_data is little-endian; edgeperf targets little-endian CPUs");

using onnx::TensorProto_DataType;

// Densifying a sparse initializer allocates memory the file does not contain; cap it.
constexpr std::size_t kMaxDensifiedBytes = std::size_t{256} << 20;

Shape shape_of(const google::protobuf::RepeatedField<std::int64_t>& dims, const std::string& what) {
  Shape shape(dims.begin(), dims.end());
  element_count(shape, what);  // rejects negative dimensions and overflow
  return shape;
}

DType supported_dtype(const onnx::TensorProto& proto, const std::string& what) {
  const std::optional<DType> dtype = dtype_from_onnx(proto.data_type());
  EP_CHECK(dtype.has_value(), "{} has unsupported element type {}", what,
           onnx_type_name(proto.data_type()));
  return *dtype;
}

void normalize_bools(Tensor& tensor) {
  if (tensor.dtype() != DType::boolean) return;
  for (std::byte& value : tensor.bytes())
    value = value == std::byte{0} ? std::byte{0} : std::byte{1};
}

Tensor from_raw(const std::string& raw, DType dtype, const Shape& shape, const std::string& what) {
  const std::size_t expected = static_cast<std::size_t>(element_count(shape)) * dtype_size(dtype);
  EP_CHECK(raw.size() == expected, "{} has {} bytes of raw_data, expected {} for {} {}", what,
           raw.size(), expected, dtype_name(dtype), shape_to_string(shape));
  Tensor tensor(dtype, shape);
  if (expected != 0) std::memcpy(tensor.raw(), raw.data(), expected);
  normalize_bools(tensor);
  return tensor;
}

template <typename Target, typename Source>
Tensor from_typed(const google::protobuf::RepeatedField<Source>& values, DType dtype,
                  const Shape& shape, const std::string& what, const char* field) {
  const std::int64_t count = element_count(shape);
  EP_CHECK(static_cast<std::int64_t>(values.size()) == count,
           "{} has {} values in {}, expected {} for {} {}", what, values.size(), field, count,
           dtype_name(dtype), shape_to_string(shape));
  Tensor tensor(dtype, shape);
  auto* out = static_cast<Target*>(tensor.raw());
  for (int i = 0; i < values.size(); ++i) out[i] = static_cast<Target>(values.Get(i));
  return tensor;
}

Tensor from_typed_fields(const onnx::TensorProto& proto, DType dtype, const Shape& shape,
                         const std::string& what) {
  switch (dtype) {
    case DType::f32:
      return from_typed<float>(proto.float_data(), dtype, shape, what, "float_data");
    case DType::f16:
      return from_typed<std::uint16_t>(proto.int32_data(), dtype, shape, what, "int32_data");
    case DType::i8:
      return from_typed<std::int8_t>(proto.int32_data(), dtype, shape, what, "int32_data");
    case DType::u8:
      return from_typed<std::uint8_t>(proto.int32_data(), dtype, shape, what, "int32_data");
    case DType::i32:
      return from_typed<std::int32_t>(proto.int32_data(), dtype, shape, what, "int32_data");
    case DType::i64:
      return from_typed<std::int64_t>(proto.int64_data(), dtype, shape, what, "int64_data");
    case DType::boolean: {
      Tensor tensor =
          from_typed<std::uint8_t>(proto.int32_data(), dtype, shape, what, "int32_data");
      normalize_bools(tensor);
      return tensor;
    }
  }
  fail("{} has an unknown element type", what);
}

struct ExternalLocation {
  std::string location;
  std::int64_t offset = 0;
  std::int64_t length = -1;  // -1: to the end of the file
};

std::int64_t parse_external_number(const std::string& text, const std::string& key,
                                   const std::string& what) {
  EP_CHECK(!text.empty() && text.size() <= 18 &&
               text.find_first_not_of("0123456789") == std::string::npos,
           "{}: external data {} '{}' is not a non-negative integer", what, key, text);
  return std::stoll(text);
}

ExternalLocation parse_external_location(const onnx::TensorProto& proto, const std::string& what) {
  ExternalLocation result;
  bool has_location = false;
  for (const onnx::StringStringEntryProto& entry : proto.external_data()) {
    if (entry.key() == "location") {
      result.location = entry.value();
      has_location = true;
    } else if (entry.key() == "offset") {
      result.offset = parse_external_number(entry.value(), "offset", what);
    } else if (entry.key() == "length") {
      result.length = parse_external_number(entry.value(), "length", what);
    }
  }
  EP_CHECK(has_location && !result.location.empty(), "{}: external data has no location", what);
  return result;
}

bool is_inside(const std::filesystem::path& child, const std::filesystem::path& parent) {
  auto child_it = child.begin();
  for (auto parent_it = parent.begin(); parent_it != parent.end(); ++parent_it, ++child_it) {
    if (parent_it->empty()) continue;  // trailing separator
    if (child_it == child.end() || *child_it != *parent_it) return false;
  }
  return true;
}

// Resolves `location` inside `base_dir`, refusing absolute paths, ".." and symlinks out.
std::filesystem::path resolve_external_path(const std::string& location,
                                            const std::filesystem::path& base_dir,
                                            const std::string& what) {
  namespace fs = std::filesystem;
  EP_CHECK(location.find('\0') == std::string::npos,
           "{}: external data location contains a NUL byte", what);
  const fs::path relative(location);
  EP_CHECK(!relative.is_absolute() && !relative.has_root_path(),
           "{}: external data file '{}' is an absolute path (only paths relative to the model "
           "directory are allowed)",
           what, location);
  for (const fs::path& part : relative) {
    EP_CHECK(part != "..", "{}: external data file '{}' escapes the model directory", what,
             location);
  }
  std::error_code error;
  const fs::path base = fs::weakly_canonical(base_dir, error);
  EP_CHECK(!error, "{}: model directory '{}' cannot be resolved: {}", what, base_dir.string(),
           error.message());
  const fs::path resolved = fs::weakly_canonical(base / relative, error);
  EP_CHECK(!error, "{}: external data file '{}' cannot be resolved: {}", what, location,
           error.message());
  EP_CHECK(is_inside(resolved, base), "{}: external data file '{}' escapes the model directory",
           what, location);
  return resolved;
}

Tensor from_external(const onnx::TensorProto& proto, DType dtype, const Shape& shape,
                     const std::string& what, const ExternalDataPolicy& external) {
  const ExternalLocation location = parse_external_location(proto, what);
  EP_CHECK(!external.base_dir.empty(),
           "{}: external data file '{}' cannot be read (no model directory for in-memory bytes)",
           what, location.location);
  const std::filesystem::path path =
      resolve_external_path(location.location, external.base_dir, what);
  std::error_code error;
  EP_CHECK(std::filesystem::is_regular_file(path, error),
           "{}: external data file '{}' does not exist or is not a regular file", what,
           location.location);
  const auto file_size = static_cast<std::int64_t>(std::filesystem::file_size(path, error));
  EP_CHECK(!error, "{}: external data file '{}' cannot be read: {}", what, location.location,
           error.message());
  const std::int64_t expected = element_count(shape) * static_cast<std::int64_t>(dtype_size(dtype));
  const std::int64_t length = location.length >= 0 ? location.length : file_size - location.offset;
  EP_CHECK(length == expected, "{}: external data file '{}' gives {} bytes, expected {} for {} {}",
           what, location.location, length, expected, dtype_name(dtype), shape_to_string(shape));
  EP_CHECK(location.offset <= file_size && expected <= file_size - location.offset,
           "{}: external data file '{}' is too short ({} bytes, need {} from offset {})", what,
           location.location, file_size, expected, location.offset);
  Tensor tensor(dtype, shape);
  std::ifstream stream(path, std::ios::binary);
  stream.seekg(location.offset);
  stream.read(static_cast<char*>(tensor.raw()), static_cast<std::streamsize>(expected));
  EP_CHECK(stream.good() || (expected == 0),
           "{}: external data file '{}' could not be read ({} bytes from offset {})", what,
           location.location, expected, location.offset);
  normalize_bools(tensor);
  return tensor;
}

template <typename T>
void scatter_values(const Tensor& values, const std::vector<std::int64_t>& flat_indices,
                    Tensor& dense) {
  const T* source = static_cast<const T*>(values.raw());
  T* target = static_cast<T*>(dense.raw());
  for (std::size_t i = 0; i < flat_indices.size(); ++i) target[flat_indices[i]] = source[i];
}

std::vector<std::int64_t> flat_sparse_indices(const Tensor& indices, const Shape& dense_shape,
                                              std::int64_t nnz, const std::string& what) {
  const std::int64_t dense_count = element_count(dense_shape);
  const std::vector<std::int64_t> raw = indices.to_int64s();
  std::vector<std::int64_t> flat(static_cast<std::size_t>(nnz));
  const auto rank = static_cast<std::int64_t>(dense_shape.size());
  if (indices.rank() == 1) {
    EP_CHECK(indices.dim(0) == nnz, "{}: {} indices for {} values", what, indices.dim(0), nnz);
    for (std::int64_t i = 0; i < nnz; ++i) {
      EP_CHECK(raw[i] >= 0 && raw[i] < dense_count, "{}: index {} out of range for shape {}", what,
               raw[i], shape_to_string(dense_shape));
      flat[i] = raw[i];
    }
    return flat;
  }
  EP_CHECK(indices.rank() == 2 && indices.dim(0) == nnz && indices.dim(1) == rank,
           "{}: indices shape {} is neither [{}] nor [{}, {}]", what,
           shape_to_string(indices.shape()), nnz, nnz, rank);
  const std::vector<std::int64_t> strides = contiguous_strides(dense_shape);
  for (std::int64_t i = 0; i < nnz; ++i) {
    std::int64_t offset = 0;
    for (std::int64_t axis = 0; axis < rank; ++axis) {
      const std::int64_t coordinate = raw[i * rank + axis];
      EP_CHECK(coordinate >= 0 && coordinate < dense_shape[axis],
               "{}: index {} out of range for axis {} of shape {}", what, coordinate, axis,
               shape_to_string(dense_shape));
      offset += coordinate * strides[axis];
    }
    flat[i] = offset;
  }
  return flat;
}

}  // namespace

std::optional<DType> dtype_from_onnx(int elem_type) {
  switch (elem_type) {
    case onnx::TensorProto_DataType_FLOAT:
      return DType::f32;
    case onnx::TensorProto_DataType_FLOAT16:
      return DType::f16;
    case onnx::TensorProto_DataType_INT8:
      return DType::i8;
    case onnx::TensorProto_DataType_UINT8:
      return DType::u8;
    case onnx::TensorProto_DataType_INT32:
      return DType::i32;
    case onnx::TensorProto_DataType_INT64:
      return DType::i64;
    case onnx::TensorProto_DataType_BOOL:
      return DType::boolean;
    default:
      return std::nullopt;
  }
}

int dtype_to_onnx(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return onnx::TensorProto_DataType_FLOAT;
    case DType::f16:
      return onnx::TensorProto_DataType_FLOAT16;
    case DType::i8:
      return onnx::TensorProto_DataType_INT8;
    case DType::u8:
      return onnx::TensorProto_DataType_UINT8;
    case DType::i32:
      return onnx::TensorProto_DataType_INT32;
    case DType::i64:
      return onnx::TensorProto_DataType_INT64;
    case DType::boolean:
      return onnx::TensorProto_DataType_BOOL;
  }
  fail("dtype {} has no ONNX element type", static_cast<int>(dtype));
}

std::string onnx_type_name(int elem_type) {
  if (onnx::TensorProto_DataType_IsValid(elem_type)) {
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(elem_type));
  }
  return fmt::format("{} (unknown)", elem_type);
}

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what,
                         const ExternalDataPolicy& external) {
  const DType dtype = supported_dtype(proto, what);
  const Shape shape = shape_of(proto.dims(), what);
  EP_CHECK(!proto.has_segment(), "{} is segmented, which is not supported", what);
  if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
    return from_external(proto, dtype, shape, what, external);
  }
  if (proto.has_raw_data()) return from_raw(proto.raw_data(), dtype, shape, what);
  return from_typed_fields(proto, dtype, shape, what);
}

Tensor tensor_from_sparse_proto(const onnx::SparseTensorProto& proto, const std::string& what,
                                const ExternalDataPolicy& external) {
  const Shape dense_shape = shape_of(proto.dims(), what);
  const Tensor values = tensor_from_proto(proto.values(), what + " values", external);
  EP_CHECK(values.rank() == 1, "{}: values must be 1-D, got shape {}", what,
           shape_to_string(values.shape()));
  const Tensor indices = tensor_from_proto(proto.indices(), what + " indices", external);
  EP_CHECK(indices.dtype() == DType::i64, "{}: indices must be INT64, got {}", what,
           dtype_name(indices.dtype()));
  const std::size_t dense_bytes =
      static_cast<std::size_t>(element_count(dense_shape)) * dtype_size(values.dtype());
  EP_CHECK(dense_bytes <= kMaxDensifiedBytes,
           "{}: densified size {} bytes exceeds the {} MiB limit", what, dense_bytes,
           kMaxDensifiedBytes >> 20);
  const std::vector<std::int64_t> flat =
      flat_sparse_indices(indices, dense_shape, values.dim(0), what);
  Tensor dense(values.dtype(), dense_shape);
  switch (dtype_size(values.dtype())) {
    case 1:
      scatter_values<std::uint8_t>(values, flat, dense);
      break;
    case 2:
      scatter_values<std::uint16_t>(values, flat, dense);
      break;
    case 4:
      scatter_values<std::uint32_t>(values, flat, dense);
      break;
    case 8:
      scatter_values<std::uint64_t>(values, flat, dense);
      break;
    default:
      fail("{}: unsupported element size", what);
  }
  return dense;
}

void point_external_data_at_resolved_path(onnx::TensorProto& proto,
                                          const ExternalDataPolicy& external) {
  if (proto.data_location() != onnx::TensorProto_DataLocation_EXTERNAL) return;
  const std::string what = fmt::format("tensor '{}'", proto.name());
  const ExternalLocation location = parse_external_location(proto, what);
  const std::filesystem::path path =
      resolve_external_path(location.location, external.base_dir, what);
  for (onnx::StringStringEntryProto& entry : *proto.mutable_external_data()) {
    if (entry.key() == "location") entry.set_value(path.string());
  }
}

void tensor_to_proto(const Tensor& tensor, const std::string& name, onnx::TensorProto* proto) {
  proto->set_name(name);
  proto->set_data_type(dtype_to_onnx(tensor.dtype()));
  for (std::int64_t dim : tensor.shape()) proto->add_dims(dim);
  if (tensor.nbytes() != 0) {
    proto->set_raw_data(tensor.raw(), tensor.nbytes());
  } else {
    proto->set_raw_data(std::string());
  }
}

}  // namespace edgeperf::onnx_io::detail
