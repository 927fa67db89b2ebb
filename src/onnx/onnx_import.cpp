// ONNX import: protobuf -> own sanity checks -> IR -> graph::validate -> onnx checker ->
// shape inference (optional hints). Our own checks run first so that malformed input
// is rejected before libonnx sees it.
#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <fstream>
#include <set>

#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/core/shape.h"
#include "edgeperf/graph/ops/constant.h"
#include "edgeperf/onnx/onnx_io.h"
#include "guarded_inference.h"
#include "tensor_proto.h"

namespace edgeperf::onnx_io {
namespace {

using detail::ExternalDataPolicy;
using graph::AttrValue;
using graph::Dim;
using graph::Graph;
using graph::Node;
using graph::ValueInfo;

constexpr std::int64_t kMinOpset = 7;
constexpr std::int64_t kMaxOpset = 21;
using detail::kMaxLibonnxOpset;
constexpr std::size_t kMaxProtobufBytes = INT_MAX;
constexpr int kMaxSubgraphDepth = 16;

// libonnx puts the node's name on a later line ("==> Context: Bad node spec for node.
// Name: relu ..."), so its message is folded into one line rather than cut.
std::string one_line(const std::string& text) {
  constexpr std::size_t kMaxLength = 400;
  std::string line;
  for (char c : text) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (line.empty() || line.back() == ' ')) continue;
    line.push_back(space ? ' ' : c);
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  if (line.size() > kMaxLength) line = line.substr(0, kMaxLength) + "...";
  return line.empty() ? "(no message)" : line;
}

bool is_default_domain(const std::string& domain) { return domain.empty() || domain == "ai.onnx"; }

std::int64_t default_opset(const onnx::ModelProto& model) {
  std::optional<std::int64_t> opset;
  for (const onnx::OperatorSetIdProto& entry : model.opset_import()) {
    if (!is_default_domain(entry.domain())) continue;
    EP_CHECK(!opset.has_value(), "the default ONNX domain is imported twice (opset_import)");
    opset = entry.version();
  }
  EP_CHECK(opset.has_value(), "model does not import the default ONNX domain (no opset_import)");
  EP_CHECK(*opset >= kMinOpset && *opset <= kMaxOpset,
           "default-domain opset {} is not supported (edgeperf accepts opsets {} to {})", *opset,
           kMinOpset, kMaxOpset);
  return *opset;
}

Dim dim_from_proto(const onnx::TensorShapeProto_Dimension& dim, const std::string& what) {
  if (dim.has_dim_value()) {
    EP_CHECK(dim.dim_value() >= 0, "{} has a negative dimension {}", what, dim.dim_value());
    return Dim::fixed(dim.dim_value());
  }
  if (dim.has_dim_param() && !dim.dim_param().empty()) return Dim::named(dim.dim_param());
  return Dim{};
}

// Parses a value's tensor type; std::nullopt (when `lenient`) for what edgeperf cannot represent.
std::optional<ValueInfo> value_info_from_proto(const onnx::ValueInfoProto& proto,
                                               const std::string& role, bool lenient) {
  const std::string what = fmt::format("{} '{}'", role, proto.name());
  EP_CHECK(!proto.name().empty(), "a {} has an empty name", role);
  if (!proto.type().has_tensor_type()) {
    if (lenient) return std::nullopt;
    fail("{} is not a tensor (or has no type)", what);
  }
  const onnx::TypeProto_Tensor& type = proto.type().tensor_type();
  const std::optional<DType> dtype = detail::dtype_from_onnx(type.elem_type());
  if (!dtype.has_value()) {
    if (lenient) return std::nullopt;
    fail("{} has unsupported element type {}", what, detail::onnx_type_name(type.elem_type()));
  }
  ValueInfo info{proto.name(), *dtype, {}, type.has_shape()};
  Shape static_dims;
  for (const onnx::TensorShapeProto_Dimension& dim : type.shape().dim()) {
    info.dims.push_back(dim_from_proto(dim, what));
    if (info.dims.back().is_static()) static_dims.push_back(info.dims.back().size);
  }
  element_count(static_dims, what);  // rejects shapes whose static part overflows
  return info;
}

std::string attribute_type_name(int type) {
  if (onnx::AttributeProto_AttributeType_IsValid(type)) {
    return onnx::AttributeProto_AttributeType_Name(
        static_cast<onnx::AttributeProto_AttributeType>(type));
  }
  return fmt::format("{} (unknown)", type);
}

// Old files may leave `type` unset; the populated field tells it.
int attribute_type(const onnx::AttributeProto& proto) {
  if (proto.type() != onnx::AttributeProto_AttributeType_UNDEFINED) return proto.type();
  if (proto.has_f()) return onnx::AttributeProto_AttributeType_FLOAT;
  if (proto.has_i()) return onnx::AttributeProto_AttributeType_INT;
  if (proto.has_s()) return onnx::AttributeProto_AttributeType_STRING;
  if (proto.has_t()) return onnx::AttributeProto_AttributeType_TENSOR;
  if (proto.floats_size() > 0) return onnx::AttributeProto_AttributeType_FLOATS;
  if (proto.ints_size() > 0) return onnx::AttributeProto_AttributeType_INTS;
  if (proto.strings_size() > 0) return onnx::AttributeProto_AttributeType_STRINGS;
  return onnx::AttributeProto_AttributeType_UNDEFINED;
}

Graph graph_body_from_proto(const onnx::GraphProto& proto, std::int64_t opset,
                            const ExternalDataPolicy& external, int depth);

AttrValue attribute_from_proto(const onnx::AttributeProto& proto, const Node& node,
                               const ExternalDataPolicy& external, std::int64_t opset, int depth) {
  const int type = attribute_type(proto);
  switch (type) {
    case onnx::AttributeProto_AttributeType_GRAPH:
      EP_CHECK(depth < kMaxSubgraphDepth, "node {}: attribute '{}': subgraphs nest deeper than {}",
               node.label(), proto.name(), kMaxSubgraphDepth);
      return with_error_context(
          fmt::format("node {} attribute '{}'", node.label(), proto.name()), [&] {
            return graph::SubgraphPtr(std::make_shared<const Graph>(
                graph_body_from_proto(proto.g(), opset, external, depth + 1)));
          });
    case onnx::AttributeProto_AttributeType_FLOAT:
      return proto.f();
    case onnx::AttributeProto_AttributeType_INT:
      return proto.i();
    case onnx::AttributeProto_AttributeType_STRING:
      return proto.s();
    case onnx::AttributeProto_AttributeType_TENSOR:
      return detail::tensor_from_proto(
          proto.t(), fmt::format("node {} attribute '{}'", node.label(), proto.name()), external);
    case onnx::AttributeProto_AttributeType_FLOATS:
      return std::vector<float>(proto.floats().begin(), proto.floats().end());
    case onnx::AttributeProto_AttributeType_INTS:
      return std::vector<std::int64_t>(proto.ints().begin(), proto.ints().end());
    case onnx::AttributeProto_AttributeType_STRINGS:
      return std::vector<std::string>(proto.strings().begin(), proto.strings().end());
    default:
      fail("node {}: attribute '{}' has unsupported type {}", node.label(), proto.name(),
           attribute_type_name(type));
  }
}

// Appends the values the node's subgraphs read from enclosing graphs to its inputs
// (see graph::kCapturesAttr).
void capture_outer_values(Node& node) {
  std::vector<std::string> captures;
  for (const auto& [key, value] : node.attrs) {
    const auto* subgraph = std::get_if<graph::SubgraphPtr>(&value);
    if (subgraph == nullptr) continue;
    for (const std::string& name : graph::free_values(**subgraph)) {
      if (std::find(captures.begin(), captures.end(), name) == captures.end()) {
        captures.push_back(name);
      }
    }
  }
  if (captures.empty()) return;
  node.inputs.insert(node.inputs.end(), captures.begin(), captures.end());
  node.attrs[graph::kCapturesAttr] = captures;
}

Node node_from_proto(const onnx::NodeProto& proto, std::size_t index,
                     const ExternalDataPolicy& external, std::int64_t opset, int depth) {
  Node node;
  node.op_type = proto.op_type();
  node.name = proto.name().empty() ? fmt::format("{}_{}", proto.op_type(), index) : proto.name();
  EP_CHECK(!node.op_type.empty(), "node #{} ('{}') has no op_type", index, node.name);
  node.domain = is_default_domain(proto.domain()) ? std::string() : proto.domain();
  node.inputs.assign(proto.input().begin(), proto.input().end());
  node.outputs.assign(proto.output().begin(), proto.output().end());
  for (const onnx::AttributeProto& attribute : proto.attribute()) {
    EP_CHECK(!attribute.name().empty(), "node {} has an attribute with an empty name",
             node.label());
    EP_CHECK(attribute.ref_attr_name().empty(),
             "node {}: attribute '{}' refers to a function attribute outside a function",
             node.label(), attribute.name());
    EP_CHECK(attribute.name() != graph::kCapturesAttr, "node {}: attribute name '{}' is reserved",
             node.label(), attribute.name());
    AttrValue value = attribute_from_proto(attribute, node, external, opset, depth);
    EP_CHECK(node.attrs.emplace(attribute.name(), std::move(value)).second,
             "node {}: attribute '{}' is given twice", node.label(), attribute.name());
  }
  capture_outer_values(node);
  return node;
}

void add_initializer(Graph& graph, const std::string& name, Tensor tensor) {
  EP_CHECK(!name.empty(), "an initializer has an empty name");
  EP_CHECK(graph.initializers.emplace(name, std::move(tensor)).second,
           "initializer '{}' is defined twice", name);
}

// A subgraph's outputs may leave their type to inference.
ValueInfo subgraph_output_from_proto(const onnx::ValueInfoProto& proto) {
  std::optional<ValueInfo> info = value_info_from_proto(proto, "subgraph output", true);
  return info.has_value() ? *info : ValueInfo{proto.name(), DType::f32, {}, false};
}

void add_sparse_initializers(const onnx::GraphProto& proto, Graph& graph,
                             const ExternalDataPolicy& external) {
  for (const onnx::SparseTensorProto& sparse : proto.sparse_initializer()) {
    const std::string& name = sparse.values().name();
    const std::string what = fmt::format("sparse initializer '{}'", name);
    add_initializer(graph, name, detail::tensor_from_sparse_proto(sparse, what, external));
  }
}

void add_initializers(const onnx::GraphProto& proto, Graph& graph,
                      const ExternalDataPolicy& external) {
  for (const onnx::TensorProto& tensor : proto.initializer()) {
    const std::string what = fmt::format("initializer '{}'", tensor.name());
    add_initializer(graph, tensor.name(), detail::tensor_from_proto(tensor, what, external));
  }
  add_sparse_initializers(proto, graph, external);
}

// Weight-sized raw data that neither the checker nor shape inference reads as values:
// shape inference reads only shape-like operands (int64/int32, or a few floats of scales).
bool releasable_raw_data(const onnx::TensorProto& tensor) {
  constexpr std::size_t kMinReleasableBytes = 4096;
  return tensor.has_raw_data() && tensor.raw_data().size() >= kMinReleasableBytes &&
         tensor.data_type() != onnx::TensorProto_DataType_INT64 &&
         tensor.data_type() != onnx::TensorProto_DataType_INT32;
}

// Like add_initializers, but each weight's bytes leave the message as soon as the graph
// has its copy, so a large model's weights are not held twice while it loads. The
// message keeps a one-byte stand-in: ONNX 1.12's checker wants a non-empty value field
// and does not compare its size with the dims.
void take_initializers(onnx::GraphProto& proto, Graph& graph, const ExternalDataPolicy& external) {
  for (onnx::TensorProto& tensor : *proto.mutable_initializer()) {
    const std::string what = fmt::format("initializer '{}'", tensor.name());
    add_initializer(graph, tensor.name(), detail::tensor_from_proto(tensor, what, external));
    if (!releasable_raw_data(tensor)) continue;
    std::string stand_in(1, '\0');
    tensor.mutable_raw_data()->swap(stand_in);  // swap, so the old buffer is freed
  }
  add_sparse_initializers(proto, graph, external);
}

// The nodes, inputs and outputs; the caller has added the initializers.
void add_graph_body(const onnx::GraphProto& proto, Graph& graph, std::int64_t opset,
                    const ExternalDataPolicy& external, int depth) {
  graph.name = proto.name().empty() ? "graph" : proto.name();
  graph.opset = opset;
  for (const onnx::ValueInfoProto& input : proto.input()) {
    if (graph.initializers.count(input.name())) continue;  // IR < 4 lists initializers as inputs
    graph.inputs.push_back(*value_info_from_proto(input, "graph input", false));
  }
  for (const onnx::ValueInfoProto& output : proto.output()) {
    graph.outputs.push_back(depth == 0 ? *value_info_from_proto(output, "graph output", false)
                                       : subgraph_output_from_proto(output));
  }
  for (int i = 0; i < proto.node_size(); ++i) {
    graph.nodes.push_back(
        node_from_proto(proto.node(i), static_cast<std::size_t>(i), external, opset, depth));
  }
}

Graph graph_body_from_proto(const onnx::GraphProto& proto, std::int64_t opset,
                            const ExternalDataPolicy& external, int depth) {
  Graph graph;
  add_initializers(proto, graph, external);
  add_graph_body(proto, graph, opset, external, depth);
  return graph;
}

// Takes the top-level weights out of `model` (see take_initializers).
Graph graph_from_proto(onnx::ModelProto& model, std::int64_t opset,
                       const ExternalDataPolicy& external) {
  Graph graph;
  take_initializers(*model.mutable_graph(), graph, external);
  add_graph_body(model.graph(), graph, opset, external, 0);
  graph.producer = model.producer_name();
  for (const onnx::StringStringEntryProto& entry : model.metadata_props()) {
    graph.metadata[entry.key()] = entry.value();
  }
  return graph;
}

void point_external_data_at_resolved_paths(onnx::GraphProto& graph,
                                           const ExternalDataPolicy& external) {
  if (external.base_dir.empty()) return;  // nothing external was accepted
  for (onnx::TensorProto& tensor : *graph.mutable_initializer()) {
    detail::point_external_data_at_resolved_path(tensor, external);
  }
  for (onnx::SparseTensorProto& sparse : *graph.mutable_sparse_initializer()) {
    detail::point_external_data_at_resolved_path(*sparse.mutable_values(), external);
    detail::point_external_data_at_resolved_path(*sparse.mutable_indices(), external);
  }
  for (onnx::NodeProto& node : *graph.mutable_node()) {
    for (onnx::AttributeProto& attribute : *node.mutable_attribute()) {
      if (attribute.has_t()) {
        detail::point_external_data_at_resolved_path(*attribute.mutable_t(), external);
      }
      if (attribute.has_g())
        point_external_data_at_resolved_paths(*attribute.mutable_g(), external);
    }
  }
}

// Checks for what libonnx must never see: unsupported containers, recursion into functions.
void check_model_envelope(const onnx::ModelProto& model) {
  EP_CHECK(model.has_graph(), "model has no graph");
  EP_CHECK(model.functions_size() == 0, "model-local functions are not supported ({} defined)",
           model.functions_size());
  EP_CHECK(model.ir_version() >= 3, "IR version {} is not supported (need 3 or later)",
           model.ir_version());
}

void run_onnx_checker(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& error) {
    fail("ONNX checker: {}", one_line(error.what()));
  }
}

// Shape hints are optional: a model whose shapes libonnx cannot infer still loads.
void add_inferred_value_info(onnx::ModelProto& model, Graph& graph) {
  if (!detail::infer_shapes_guarded(model)) return;
  std::set<std::string> known;
  for (const ValueInfo& value : graph.inputs) known.insert(value.name);
  for (const ValueInfo& value : graph.outputs) known.insert(value.name);
  for (const auto& [name, tensor] : graph.initializers) known.insert(name);
  for (const onnx::ValueInfoProto& proto : model.graph().value_info()) {
    if (proto.name().empty() || !known.insert(proto.name()).second) continue;
    try {
      std::optional<ValueInfo> info = value_info_from_proto(proto, "value", true);
      if (info.has_value()) graph.value_info.push_back(std::move(*info));
    } catch (const Error&) {
      // An inferred shape we cannot represent is only a missing hint.
    }
  }
}

Graph import_model(onnx::ModelProto model, const ExternalDataPolicy& external) {
  check_model_envelope(model);
  const std::int64_t opset = default_opset(model);
  model.clear_training_info();
  Graph graph = graph_from_proto(model, opset, external);
  graph::validate(graph);
  graph::ops::hoist_constant_nodes(graph);  // Constant-node weights count as weights
  if (opset > kMaxLibonnxOpset) return graph;
  point_external_data_at_resolved_paths(*model.mutable_graph(), external);
  run_onnx_checker(model);
  add_inferred_value_info(model, graph);
  return graph;
}

}  // namespace

graph::Graph load_model_from_bytes(const std::string& bytes, const std::string& source,
                                   const std::filesystem::path& external_data_dir) {
  return with_error_context(source, [&] {
    EP_CHECK(bytes.size() <= kMaxProtobufBytes,
             "model is {} bytes; protobuf messages above 2 GB are not supported", bytes.size());
    onnx::ModelProto model;
    EP_CHECK(model.ParseFromString(bytes), "not a valid ONNX model (protobuf parse failed)");
    return import_model(std::move(model), ExternalDataPolicy{external_data_dir});
  });
}

graph::Graph load_model(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  EP_CHECK(error || size <= kMaxProtobufBytes,
           "{}: model is {} bytes; protobuf messages above 2 GB are not supported", path.string(),
           size);
  std::filesystem::path directory = path.parent_path();
  if (directory.empty()) directory = ".";
  // Parsed straight from the file, so its bytes are not held twice (a 350 MB model
  // would otherwise peak at the file, the message and the graph at once).
  std::ifstream stream = open_for_reading(path);
  return with_error_context(path.string(), [&] {
    onnx::ModelProto model;
    EP_CHECK(model.ParseFromIstream(&stream) && !stream.bad(),
             "not a valid ONNX model (protobuf parse failed)");
    return import_model(std::move(model), ExternalDataPolicy{directory});
  });
}

}  // namespace edgeperf::onnx_io
