#pragma once
#include <cstdint>
// Shape inference through libonnx with guards against its known crashes on
// inconsistent models (private to ep_onnx).
#include <onnx/onnx_pb.h>

namespace edgeperf::onnx_io::detail {

// Debian's libonnx 1.12 knows the default domain up to opset 17. Its checker would judge
// a newer model by older schemas (ReduceMean's axes are an input from opset 18), so
// above it our own validation and the runtime's shape inference carry the model.
constexpr std::int64_t kMaxLibonnxOpset = 17;

// Runs onnx::shape_inference::InferShapes on `model`. A node whose inputs are
// untyped or inconsistent with its attributes is skipped instead of handed to an
// inference function that would read out of bounds. Returns false when
// inference failed as a whole (the model keeps whatever it had).
bool infer_shapes_guarded(onnx::ModelProto& model);

}  // namespace edgeperf::onnx_io::detail
