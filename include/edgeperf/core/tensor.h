#pragma once
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "edgeperf/core/dtype.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/shape.h"

namespace edgeperf {

// A dense row-major tensor. Either owns its (64-byte aligned, zeroed) storage
// or is a view over memory owned elsewhere (an arena slot). Copies share storage;
// clone() copies the bytes.
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Shape shape);
  static Tensor view(DType dtype, Shape shape, void* data);
  // An owning tensor over fresh read-only pages: every element reads 0, the pages cost no
  // resident memory (they all map the kernel's zero page), and a write faults. A
  // placeholder for values not computed yet.
  static Tensor read_only_zeros(DType dtype, Shape shape);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::int64_t rank() const { return static_cast<std::int64_t>(shape_.size()); }
  std::int64_t dim(std::int64_t axis) const { return shape_.at(static_cast<std::size_t>(axis)); }
  std::int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  bool empty() const { return data_ == nullptr && numel_ == 0 && shape_.empty(); }
  // This tensor owns its bytes and no other Tensor shares them (copies share; views own none).
  bool sole_owner() const { return storage_ != nullptr && storage_.use_count() == 1; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  std::span<std::byte> bytes() { return {static_cast<std::byte*>(data_), nbytes()}; }
  std::span<const std::byte> bytes() const {
    return {static_cast<const std::byte*>(data_), nbytes()};
  }

  template <typename T>
  T* data() {
    check_type(dtype_of<T>());
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    check_type(dtype_of<T>());
    return static_cast<const T*>(data_);
  }
  template <typename T>
  std::span<T> values() {
    return {data<T>(), static_cast<std::size_t>(numel_)};
  }
  template <typename T>
  std::span<const T> values() const {
    return {data<T>(), static_cast<std::size_t>(numel_)};
  }

  Tensor clone() const;
  // Same storage, new shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // Values converted to double / int64, whatever the dtype (for shape tensors, printing).
  std::vector<double> to_doubles() const;
  std::vector<std::int64_t> to_int64s() const;

 private:
  void check_type(DType requested) const;

  DType dtype_ = DType::f32;
  Shape shape_;
  std::int64_t numel_ = 0;
  std::shared_ptr<std::byte[]> storage_;
  void* data_ = nullptr;
};

// Builds an owning tensor from values.
template <typename T>
Tensor make_tensor(Shape shape, std::span<const T> values) {
  Tensor tensor(dtype_of<T>(), std::move(shape));
  EP_CHECK(static_cast<std::size_t>(tensor.numel()) == values.size(),
           "make_tensor: {} values for a shape of {} elements", values.size(), tensor.numel());
  std::copy(values.begin(), values.end(), tensor.data<T>());
  return tensor;
}

template <typename T>
Tensor make_tensor(Shape shape, std::initializer_list<T> values) {
  return make_tensor<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
}

}  // namespace edgeperf
