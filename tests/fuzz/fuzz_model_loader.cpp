// libFuzzer target: arbitrary bytes into the ONNX loader. Rejection must be an
// edgeperf::Error; anything else (crash, sanitizer report, other exception, leak,
// hang, huge allocation) is a finding. A model that loads is exported again, which
// must also succeed or fail with an Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "edgeperf/core/error.h"
#include "edgeperf/onnx/onnx_io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const edgeperf::graph::Graph graph = edgeperf::onnx_io::load_model_from_bytes(bytes, "fuzz");
    edgeperf::onnx_io::serialize_model(graph);
  } catch (const edgeperf::Error&) {
    // Rejected with a message: the expected outcome for most inputs.
  }
  return 0;
}
