#pragma once
// Shape inference through libonnx with guards against its known crashes on
// inconsistent models (private to ep_onnx).
#include <onnx/onnx_pb.h>

namespace edgeperf::onnx_io::detail {

// Runs onnx::shape_inference::InferShapes on `model`. A node whose inputs are
// untyped or inconsistent with its attributes is skipped instead of handed to an
// inference function that would read out of bounds. Returns false when
// inference failed as a whole (the model keeps whatever it had).
bool infer_shapes_guarded(onnx::ModelProto& model);

}  // namespace edgeperf::onnx_io::detail
