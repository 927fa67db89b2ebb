#include "util.h"

#include <algorithm>

namespace edgeperf::runtime::reference {
namespace {

class FunctionKernel final : public Kernel {
 public:
  FunctionKernel(RunFn run, std::size_t workspace_bytes)
      : run_(std::move(run)), workspace_bytes_(workspace_bytes) {}
  void run(const RunContext&, std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    run_(inputs, outputs);
  }
  std::size_t workspace_bytes() const override { return workspace_bytes_; }

 private:
  RunFn run_;
  std::size_t workspace_bytes_;
};

class ParallelFunctionKernel final : public Kernel {
 public:
  ParallelFunctionKernel(ParallelRunFn run, std::size_t packed_weight_bytes)
      : run_(std::move(run)), packed_weight_bytes_(packed_weight_bytes) {}
  std::size_t packed_weight_bytes() const override { return packed_weight_bytes_; }
  void run(const RunContext& context, std::span<const Tensor> inputs,
           std::span<Tensor> outputs) override {
    run_(std::max(1, context.threads), inputs, outputs);
  }

 private:
  ParallelRunFn run_;
  std::size_t packed_weight_bytes_;
};

template <typename T>
void copy_rows(const std::byte* source, std::int64_t offset,
               const std::vector<std::int64_t>& strides, const Shape& shape,
               std::byte* destination) {
  const T* in = reinterpret_cast<const T*>(source) + offset;
  T* out = reinterpret_cast<T*>(destination);
  const std::int64_t inner_stride = shape.empty() ? 1 : strides.back();
  for_each_row(shape, {strides}, [&](const std::vector<std::int64_t>& offsets, std::int64_t n) {
    const T* row = in + offsets[0];
    if (inner_stride == 1) {
      std::memcpy(out, row, static_cast<std::size_t>(n) * sizeof(T));
    } else {
      for (std::int64_t i = 0; i < n; ++i) out[i] = row[i * inner_stride];
    }
    out += n;
  });
}

}  // namespace

std::unique_ptr<Kernel> make_kernel(RunFn run, std::size_t workspace_bytes) {
  return std::make_unique<FunctionKernel>(std::move(run), workspace_bytes);
}

std::unique_ptr<Kernel> make_parallel_kernel(ParallelRunFn run, std::size_t packed_weight_bytes) {
  return std::make_unique<ParallelFunctionKernel>(std::move(run), packed_weight_bytes);
}

void check_input_count(const PrepareContext& context, std::size_t min, std::size_t max) {
  const std::size_t count = context.inputs.size();
  EP_CHECK(count >= min && count <= max, "node {}: expects {} to {} inputs, got {}",
           context.node.label(), min, max, count);
  for (std::size_t i = 0; i < min; ++i) {
    EP_CHECK(context.inputs[i].present, "node {}: required input {} is missing",
             context.node.label(), i);
  }
}

void prepare_outputs(PrepareContext& context, std::size_t min, std::size_t max) {
  const std::size_t count = context.node.outputs.size();
  EP_CHECK(count >= min && count <= max, "node {}: expects {} to {} outputs, got {}",
           context.node.label(), min, max, count);
  context.outputs.resize(count);
  context.output_values.resize(count);
}

void set_output(PrepareContext& context, std::size_t index, DType dtype, Shape shape) {
  if (context.outputs.size() <= index) context.outputs.resize(index + 1);
  if (context.output_values.size() < context.outputs.size()) {
    context.output_values.resize(context.outputs.size());
  }
  element_count(shape, "output of node " + context.node.label());
  context.outputs[index] = TensorDesc{dtype, std::move(shape), true};
}

bool is_float(DType dtype) { return dtype == DType::f32 || dtype == DType::f16; }
bool is_integer(DType dtype) {
  return dtype == DType::i8 || dtype == DType::u8 || dtype == DType::i32 || dtype == DType::i64;
}

void check_dtype(const PrepareContext& context, std::size_t index,
                 std::initializer_list<DType> allowed, const char* name) {
  const DType dtype = context.inputs.at(index).dtype;
  EP_CHECK(std::find(allowed.begin(), allowed.end(), dtype) != allowed.end(),
           "node {}: input '{}' has unsupported dtype {}", context.node.label(), name,
           dtype_name(dtype));
}

void check_same_dtype(const PrepareContext& context, std::size_t a, std::size_t b) {
  EP_CHECK(context.inputs[a].dtype == context.inputs[b].dtype,
           "node {}: inputs {} and {} have different dtypes ({} vs {})", context.node.label(), a, b,
           dtype_name(context.inputs[a].dtype), dtype_name(context.inputs[b].dtype));
}

std::int64_t normalize_axis(const graph::Node& node, std::int64_t axis, std::int64_t rank) {
  EP_CHECK(axis >= -rank && axis < rank, "node {}: axis {} is out of range for rank {}",
           node.label(), axis, rank);
  return axis < 0 ? axis + rank : axis;
}

std::vector<std::int64_t> normalize_axes(const graph::Node& node, std::vector<std::int64_t> axes,
                                         std::int64_t rank) {
  for (auto& axis : axes) axis = normalize_axis(node, axis, rank);
  std::vector<std::int64_t> sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  EP_CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
           "node {}: axes repeat an axis", node.label());
  return axes;
}

const Tensor& require_constant(const PrepareContext& context, std::size_t index, const char* name) {
  const Tensor* value = context.constant(index);
  if (value == nullptr) {
    throw DataDependentShape(fmt::format("node {}: input '{}' must be known before the run",
                                         context.node.label(), name));
  }
  return *value;
}

bool all_inputs_constant(const PrepareContext& context) {
  for (std::size_t i = 0; i < context.inputs.size(); ++i) {
    if (context.has_input(i) && context.constant(i) == nullptr) return false;
  }
  return true;
}

void require_all_constant(const PrepareContext& context, const char* why) {
  if (all_inputs_constant(context)) return;
  throw DataDependentShape(fmt::format("node {}: {}", context.node.label(), why));
}

std::vector<std::int64_t> constant_ints(const PrepareContext& context, std::size_t index,
                                        const char* name) {
  const Tensor& value = require_constant(context, index, name);
  EP_CHECK(is_integer(value.dtype()), "node {}: input '{}' must be an integer tensor, got {}",
           context.node.label(), name, dtype_name(value.dtype()));
  return value.to_int64s();
}

std::vector<std::int64_t> ints_from_input_or_attr(const PrepareContext& context, std::size_t index,
                                                  const char* attr, bool* found) {
  if (context.has_input(index)) {
    *found = true;
    return constant_ints(context, index, attr);
  }
  *found = context.node.has_attr(attr);
  return context.node.attr_ints(attr);
}

Shape broadcast_shapes(const graph::Node& node, const Shape& a, const Shape& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const std::int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    EP_CHECK(da == db || da == 1 || db == 1, "node {}: shapes {} and {} are not broadcastable",
             node.label(), shape_to_string(a), shape_to_string(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<std::int64_t> broadcast_strides(const Shape& input, const Shape& output) {
  std::vector<std::int64_t> strides(output.size(), 0);
  const std::vector<std::int64_t> dense = contiguous_strides(input);
  const std::size_t shift = output.size() - input.size();
  for (std::size_t i = 0; i < input.size(); ++i) {
    strides[i + shift] = input[i] == 1 ? 0 : dense[i];
  }
  return strides;
}

void copy_strided(const std::byte* source, std::int64_t offset,
                  const std::vector<std::int64_t>& strides, const Shape& shape,
                  std::size_t element_size, std::byte* destination) {
  switch (element_size) {
    case 1:
      copy_rows<std::uint8_t>(source, offset, strides, shape, destination);
      break;
    case 2:
      copy_rows<std::uint16_t>(source, offset, strides, shape, destination);
      break;
    case 4:
      copy_rows<std::uint32_t>(source, offset, strides, shape, destination);
      break;
    case 8:
      copy_rows<std::uint64_t>(source, offset, strides, shape, destination);
      break;
    default:
      fail("copy_strided: unsupported element size {}", element_size);
  }
}

}  // namespace edgeperf::runtime::reference
