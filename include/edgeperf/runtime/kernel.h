#pragma once
// Kernel contract shared by all backends. Lifecycle, in the spirit of XNNPACK and
// TFLite Micro:
//   infer  (shape/dtype inference from input descriptors and known constants)
//   create (build the kernel for these exact shapes: pack weights, make primitives)
//   run    (compute into preallocated outputs; no allocation on this path)
// The op registry is plain data: a table of KernelRegistration.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::runtime {

struct TensorDesc {
  DType dtype = DType::f32;
  Shape shape;
  bool present = true;  // false for an absent optional input ("")
  std::int64_t numel() const { return element_count(shape); }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype); }
  bool operator==(const TensorDesc&) const = default;
};

// What a kernel sees at prepare time.
struct PrepareContext {
  const graph::Node& node;
  std::vector<TensorDesc> inputs;
  // constants[i] is set when input i is known before running (initializer or folded).
  std::vector<const Tensor*> constants;
  // Filled by infer(): one descriptor per node output.
  std::vector<TensorDesc> outputs;
  // infer() may set an output's value when it follows from descriptors alone
  // (Shape does this); the session then treats that output as a constant.
  std::vector<std::optional<Tensor>> output_values;
  // Opset of the default ONNX domain, for ops whose semantics changed (Softmax 11 vs 13).
  std::int64_t opset = 13;

  const Tensor* constant(std::size_t index) const {
    return index < constants.size() ? constants[index] : nullptr;
  }
  bool has_input(std::size_t index) const { return index < inputs.size() && inputs[index].present; }
};

// Where a profiled run records its timings. Plan::run times every step; a kernel that
// runs several ops of its own (a oneDNN region) also records each of its parts.
class ProfileSink {
 public:
  virtual ~ProfileSink() = default;
  // `part` indexes the kernel's parts(); kWholeStep for the step itself. Times are
  // steady_clock nanoseconds.
  static constexpr std::size_t kWholeStep = static_cast<std::size_t>(-1);
  virtual void record(std::size_t step, std::size_t part, std::int64_t start_ns,
                      std::int64_t end_ns) = 0;
};

struct RunContext {
  int threads = 1;
  ProfileSink* profile = nullptr;  // null: not profiling, no timing work at all
  std::size_t step = 0;            // the running step's index, when profiling
};

// One op a composite kernel runs on its own: which of the step's nodes it computes
// (indices into Step::nodes; for a layout reorder, the node it feeds or exports) and
// the implementation that runs it (oneDNN's "brg:avx512_core", or ours).
struct KernelPart {
  std::vector<std::size_t> nodes;
  std::string kind;            // "convolution", "reorder", "inner_product", "custom"...
  std::string implementation;  // "" when not known
  bool int8 = false;           // 8-bit integer sources (the roofline's int8 peak applies)
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // inputs/outputs are dense row-major tensors matching the descriptors given at
  // create time; outputs are preallocated views (never resize them).
  virtual void run(const RunContext& context, std::span<const Tensor> inputs,
                   std::span<Tensor> outputs) = 0;
  // Bytes of memory the kernel holds for intermediates (not weights), reported by the session.
  virtual std::size_t workspace_bytes() const { return 0; }
  // Bytes of packed weights the kernel holds.
  virtual std::size_t packed_weight_bytes() const { return 0; }
  // Of those, the bytes an earlier plan of the session packed and this kernel shares.
  virtual std::size_t reused_weight_bytes() const { return 0; }
  // Scratch the kernel needs only while it runs: nothing in it outlives run(), so the
  // plan gives every step one buffer, sized for the largest, instead of one each.
  virtual std::size_t transient_bytes() const { return 0; }
  // Where run() keeps that scratch from now on: 64-byte aligned, transient_bytes() long.
  virtual void use_transient(std::byte* /*buffer*/) {}
  // The ops it runs on its own and times under profiling (empty: the step is one op).
  virtual std::vector<KernelPart> parts() const { return {}; }
  // What runs the step when it is one op ("" when not known).
  virtual std::string implementation() const { return ""; }
  // From now on part `part` (an index into parts()) runs on `threads` OpenMP threads,
  // fewer than the run's; 0: the run's count. Kernels without parts ignore it.
  virtual void set_part_threads(std::size_t /*part*/, int /*threads*/) {}
};

using InferFn = void (*)(PrepareContext& context);
using CreateFn = std::unique_ptr<Kernel> (*)(const PrepareContext& context);

// Thrown by infer() when an output's shape depends on values not known before the run
// (NonZero, NonMaxSuppression, If on a runtime condition, Reshape to a computed shape).
// The session then runs that node, and everything downstream of it, in the interpreter,
// where every input is known; anything else infer() throws is an error in the model.
class DataDependentShape : public Error {
 public:
  using Error::Error;
};

struct KernelRegistration {
  std::string_view op_type;
  InferFn infer;
  CreateFn create;
};

}  // namespace edgeperf::runtime
