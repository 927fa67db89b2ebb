// ONNX export: IR version 8, raw_data initializers, checked with onnx::checker.
#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/version_converter/convert.h>

#include <climits>
#include <map>
#include <set>

#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/onnx/onnx_io.h"
#include "guarded_inference.h"
#include "tensor_proto.h"

namespace edgeperf::onnx_io {
namespace {

using graph::AttrValue;
using graph::Graph;
using graph::Node;
using graph::ValueInfo;

constexpr std::int64_t kExportIrVersion = 8;

template <typename... Visitors>
struct Overloaded : Visitors... {
  using Visitors::operator()...;
};
template <typename... Visitors>
Overloaded(Visitors...) -> Overloaded<Visitors...>;  // clang 14 lacks aggregate CTAD

void value_info_to_proto(const ValueInfo& value, onnx::ValueInfoProto* proto) {
  proto->set_name(value.name);
  onnx::TypeProto_Tensor* type = proto->mutable_type()->mutable_tensor_type();
  type->set_elem_type(detail::dtype_to_onnx(value.dtype));
  if (!value.has_shape) return;
  onnx::TensorShapeProto* shape = type->mutable_shape();
  for (const graph::Dim& dim : value.dims) {
    onnx::TensorShapeProto_Dimension* out = shape->add_dim();
    if (dim.is_static()) {
      out->set_dim_value(dim.size);
    } else if (!dim.symbol.empty()) {
      out->set_dim_param(dim.symbol);
    }
  }
}

void attribute_to_proto(const std::string& name, const AttrValue& value,
                        onnx::AttributeProto* proto) {
  proto->set_name(name);
  std::visit(Overloaded{
                 [&](std::int64_t v) {
                   proto->set_type(onnx::AttributeProto_AttributeType_INT);
                   proto->set_i(v);
                 },
                 [&](float v) {
                   proto->set_type(onnx::AttributeProto_AttributeType_FLOAT);
                   proto->set_f(v);
                 },
                 [&](const std::string& v) {
                   proto->set_type(onnx::AttributeProto_AttributeType_STRING);
                   proto->set_s(v);
                 },
                 [&](const std::vector<std::int64_t>& v) {
                   proto->set_type(onnx::AttributeProto_AttributeType_INTS);
                   proto->mutable_ints()->Add(v.begin(), v.end());
                 },
                 [&](const std::vector<float>& v) {
                   proto->set_type(onnx::AttributeProto_AttributeType_FLOATS);
                   proto->mutable_floats()->Add(v.begin(), v.end());
                 },
                 [&](const std::vector<std::string>& v) {
                   proto->set_type(onnx::AttributeProto_AttributeType_STRINGS);
                   for (const std::string& s : v) proto->add_strings(s);
                 },
                 [&](const Tensor& v) {
                   proto->set_type(onnx::AttributeProto_AttributeType_TENSOR);
                   detail::tensor_to_proto(v, "", proto->mutable_t());
                 },
                 [&](const graph::SubgraphPtr&) {
                   fail("internal: attribute '{}' is a graph; node_to_proto writes those", name);
                 },
             },
             value);
}

void graph_body_to_proto(const Graph& graph, onnx::GraphProto* proto);

// The subgraph reading `renames`' new names where it read the old ones (a pass renamed
// a captured value in the enclosing graph).
Graph with_renamed_reads(const Graph& subgraph, const std::map<std::string, std::string>& renames) {
  Graph renamed = subgraph;
  const auto rename = [&](std::string& value) {
    if (auto found = renames.find(value); found != renames.end()) value = found->second;
  };
  // A nested node's captures are among its inputs, so renaming them reaches its subgraphs.
  for (Node& node : renamed.nodes) {
    for (std::string& input : node.inputs) rename(input);
  }
  for (ValueInfo& output : renamed.outputs) rename(output.name);
  return renamed;
}

void node_to_proto(const Node& node, onnx::NodeProto* proto) {
  proto->set_name(node.name);
  proto->set_op_type(node.op_type);
  if (!node.domain.empty()) proto->set_domain(node.domain);
  const std::vector<std::string> captures = node.captures();
  const std::size_t own_inputs = node.inputs.size() - captures.size();
  std::map<std::string, std::string> renames;
  for (std::size_t i = 0; i < captures.size(); ++i) {
    if (captures[i] != node.inputs[own_inputs + i]) {
      renames[captures[i]] = node.inputs[own_inputs + i];
    }
  }
  for (std::size_t i = 0; i < own_inputs; ++i) proto->add_input(node.inputs[i]);
  for (const std::string& output : node.outputs) proto->add_output(output);
  for (const auto& [name, value] : node.attrs) {
    if (name == graph::kCapturesAttr) continue;
    onnx::AttributeProto* attribute = proto->add_attribute();
    attribute->set_name(name);
    if (const auto* subgraph = std::get_if<graph::SubgraphPtr>(&value)) {
      attribute->set_type(onnx::AttributeProto_AttributeType_GRAPH);
      graph_body_to_proto(renames.empty() ? **subgraph : with_renamed_reads(**subgraph, renames),
                          attribute->mutable_g());
    } else {
      attribute_to_proto(name, value, attribute);
    }
  }
}

void graph_body_to_proto(const Graph& graph, onnx::GraphProto* proto) {
  proto->set_name(graph.name);
  for (const ValueInfo& input : graph.inputs) value_info_to_proto(input, proto->add_input());
  for (const ValueInfo& output : graph.outputs) value_info_to_proto(output, proto->add_output());
  for (const ValueInfo& value : graph.value_info) {
    value_info_to_proto(value, proto->add_value_info());
  }
  for (const auto& [name, tensor] : graph.initializers) {
    detail::tensor_to_proto(tensor, name, proto->add_initializer());
  }
  for (const Node& node : graph.nodes) node_to_proto(node, proto->add_node());
}

void collect_custom_domains(const Graph& graph, std::set<std::string>& domains) {
  for (const Node& node : graph.nodes) {
    if (!node.domain.empty()) domains.insert(node.domain);
    for (const auto& [name, value] : node.attrs) {
      if (const auto* subgraph = std::get_if<graph::SubgraphPtr>(&value)) {
        collect_custom_domains(**subgraph, domains);
      }
    }
  }
}

void add_opset_imports(const Graph& graph, onnx::ModelProto& model) {
  onnx::OperatorSetIdProto* default_domain = model.add_opset_import();
  default_domain->set_domain("");
  default_domain->set_version(graph.opset);
  std::set<std::string> custom_domains;
  collect_custom_domains(graph, custom_domains);
  for (const std::string& domain : custom_domains) {
    onnx::OperatorSetIdProto* entry = model.add_opset_import();
    entry->set_domain(domain);
    entry->set_version(1);
  }
}

// The IR version that came with the opset: 8 up to opset 18, 9 for 19-20, 10 for 21.
std::int64_t ir_version_for(std::int64_t opset) {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  return kExportIrVersion;
}

onnx::ModelProto model_to_proto(const Graph& graph) {
  onnx::ModelProto model;
  model.set_ir_version(ir_version_for(graph.opset));
  model.set_producer_name("edgeperf");
  add_opset_imports(graph, model);
  for (const auto& [key, value] : graph.metadata) {
    onnx::StringStringEntryProto* entry = model.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  graph_body_to_proto(graph, model.mutable_graph());
  return model;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::string serialize_model(const graph::Graph& graph) {
  const onnx::ModelProto model = model_to_proto(graph);
  const std::size_t size = model.ByteSizeLong();
  EP_CHECK(size <= INT_MAX,
           "graph '{}' serializes to {} bytes; protobuf messages above 2 GB are not supported",
           graph.name, size);
  try {
    if (graph.opset <= detail::kMaxLibonnxOpset) onnx::checker::check_model(model);
  } catch (const std::exception& error) {
    fail("internal error: the ONNX export of graph '{}' fails the ONNX checker: {}", graph.name,
         first_line(error.what()));
  }
  std::string bytes;
  EP_CHECK(model.SerializeToString(&bytes), "graph '{}': protobuf serialization failed",
           graph.name);
  return bytes;
}

graph::Graph convert_opset(const graph::Graph& graph, std::int64_t opset) {
  EP_CHECK(opset >= graph.opset && opset <= detail::kMaxLibonnxOpset,
           "cannot convert graph '{}' from opset {} to opset {} (up to {} only)", graph.name,
           graph.opset, opset, detail::kMaxLibonnxOpset);
  onnx::ModelProto converted;
  try {
    converted =
        onnx::version_conversion::ConvertVersion(model_to_proto(graph), static_cast<int>(opset));
  } catch (const std::exception& error) {
    fail("graph '{}': ONNX's version converter cannot take it from opset {} to {}: {}", graph.name,
         graph.opset, opset, first_line(error.what()));
  }
  std::string bytes;
  EP_CHECK(converted.SerializeToString(&bytes), "graph '{}': protobuf serialization failed",
           graph.name);
  graph::Graph result =
      load_model_from_bytes(bytes, fmt::format("graph '{}' at opset {}", graph.name, opset));
  result.name = graph.name;
  result.producer = graph.producer;
  return result;
}

graph::Graph at_least_opset(graph::Graph graph, std::int64_t opset, const std::string& why,
                            std::vector<std::string>& log) {
  if (graph.opset >= opset) return graph;
  log.push_back(
      fmt::format("[opset] {} -> {} (ONNX version converter): {}", graph.opset, opset, why));
  return convert_opset(graph, opset);
}

void save_model(const graph::Graph& graph, const std::filesystem::path& path) {
  write_file_atomic(path, serialize_model(graph));
}

}  // namespace edgeperf::onnx_io
