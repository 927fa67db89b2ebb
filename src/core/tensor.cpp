#include "edgeperf/core/tensor.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace edgeperf {
namespace {

std::shared_ptr<std::byte[]> allocate_zeroed(std::size_t bytes) {
  constexpr std::align_val_t kAlignment{64};
  const std::size_t rounded = (bytes + 63) / 64 * 64;
  auto* memory = static_cast<std::byte*>(::operator new[](rounded == 0 ? 64 : rounded, kAlignment));
  std::memset(memory, 0, rounded == 0 ? 64 : rounded);
  return std::shared_ptr<std::byte[]>(
      memory, [](std::byte* pointer) { ::operator delete[](pointer, std::align_val_t{64}); });
}

template <typename Out>
std::vector<Out> convert_all(const Tensor& tensor) {
  std::vector<Out> out(static_cast<std::size_t>(tensor.numel()));
  const void* raw = tensor.raw();
  for (std::size_t i = 0; i < out.size(); ++i) {
    switch (tensor.dtype()) {
      case DType::f32:
        out[i] = static_cast<Out>(static_cast<const float*>(raw)[i]);
        break;
      case DType::f16:
        out[i] = static_cast<Out>(half_to_float(static_cast<const std::uint16_t*>(raw)[i]));
        break;
      case DType::i8:
        out[i] = static_cast<Out>(static_cast<const std::int8_t*>(raw)[i]);
        break;
      case DType::u8:
        out[i] = static_cast<Out>(static_cast<const std::uint8_t*>(raw)[i]);
        break;
      case DType::i32:
        out[i] = static_cast<Out>(static_cast<const std::int32_t*>(raw)[i]);
        break;
      case DType::i64:
        out[i] = static_cast<Out>(static_cast<const std::int64_t*>(raw)[i]);
        break;
      case DType::boolean:
        out[i] = static_cast<Out>(static_cast<const bool*>(raw)[i]);
        break;
    }
  }
  return out;
}

}  // namespace

Tensor::Tensor(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), numel_(element_count(shape_)) {
  storage_ = allocate_zeroed(nbytes());
  data_ = storage_.get();
}

Tensor Tensor::view(DType dtype, Shape shape, void* data) {
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.shape_ = std::move(shape);
  tensor.numel_ = element_count(tensor.shape_);
  tensor.data_ = data;
  return tensor;
}

Tensor Tensor::read_only_zeros(DType dtype, Shape shape) {
  Tensor tensor = view(dtype, std::move(shape), nullptr);
  const std::size_t bytes = std::max<std::size_t>(tensor.nbytes(), 1);
  void* pages = mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  EP_CHECK(pages != MAP_FAILED, "read_only_zeros: cannot map {} bytes", bytes);
  tensor.storage_ = std::shared_ptr<std::byte[]>(
      static_cast<std::byte*>(pages), [bytes](std::byte* pointer) { munmap(pointer, bytes); });
  tensor.data_ = pages;
  return tensor;
}

Tensor Tensor::clone() const {
  Tensor copy(dtype_, shape_);
  if (nbytes() > 0) std::memcpy(copy.data_, data_, nbytes());
  return copy;
}

Tensor Tensor::reshaped(Shape shape) const {
  Tensor tensor = *this;
  const std::int64_t count = element_count(shape);
  EP_CHECK(count == numel_, "cannot reshape {} to {}", shape_to_string(shape_),
           shape_to_string(shape));
  tensor.shape_ = std::move(shape);
  return tensor;
}

std::vector<double> Tensor::to_doubles() const { return convert_all<double>(*this); }
std::vector<std::int64_t> Tensor::to_int64s() const { return convert_all<std::int64_t>(*this); }

void Tensor::check_type(DType requested) const {
  EP_CHECK(requested == dtype_, "tensor of dtype {} accessed as {}", dtype_name(dtype_),
           dtype_name(requested));
}

}  // namespace edgeperf
