#pragma once
// ONNX import and export through Debian's libonnx (protobuf, checker, shape inference).
// Import accepts opsets 7 to 21 of the default domain, with external-data files.
// Every failure is an edgeperf::Error naming the source and the part at fault.
#include <filesystem>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::onnx_io {

// Loads a model file; external data is resolved relative to the file's directory.
graph::Graph load_model(const std::filesystem::path& path);
// Loads serialized ModelProto bytes. `source` names them in errors. External data
// is resolved against `external_data_dir` (refused when empty).
graph::Graph load_model_from_bytes(const std::string& bytes, const std::string& source = "<bytes>",
                                   const std::filesystem::path& external_data_dir = {});

// Serializes our IR as a ModelProto that passes onnx::checker.
std::string serialize_model(const graph::Graph& graph);
// The graph at default-domain `opset` (>= its own), by ONNX's version converter, whose
// adapters rewrite the ops whose semantics changed. Fails naming what it cannot convert.
graph::Graph convert_opset(const graph::Graph& graph, std::int64_t opset);
// The graph as it is when its opset is `opset` or newer, else convert_opset; a conversion
// is logged as "[opset] A -> B (ONNX version converter): <why>".
graph::Graph at_least_opset(graph::Graph graph, std::int64_t opset, const std::string& why,
                            std::vector<std::string>& log);
// serialize_model + atomic write (temp name, fsync, rename).
void save_model(const graph::Graph& graph, const std::filesystem::path& path);

}  // namespace edgeperf::onnx_io
