#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/graph/ops/constant.h"
#include "edgeperf/onnx/onnx_io.h"

namespace edgeperf::onnx_io {
namespace {

namespace fs = std::filesystem;
using graph::AttrValue;
using graph::Dim;
using graph::Graph;
using ::testing::HasSubstr;

// --- Building ModelProtos by hand ------------------------------------------------------

onnx::ModelProto base_model(std::int64_t opset = 13) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("test");
  onnx::OperatorSetIdProto* import = model.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  model.mutable_graph()->set_name("g");
  return model;
}

void add_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
               const std::string& name, int elem_type, const std::vector<std::int64_t>& dims) {
  onnx::ValueInfoProto* value = list->Add();
  value->set_name(name);
  onnx::TypeProto_Tensor* type = value->mutable_type()->mutable_tensor_type();
  type->set_elem_type(elem_type);
  onnx::TensorShapeProto* shape = type->mutable_shape();
  for (std::int64_t dim : dims) {
    if (dim < 0) {
      shape->add_dim()->set_dim_param("batch");
    } else {
      shape->add_dim()->set_dim_value(dim);
    }
  }
}

onnx::NodeProto* add_node(onnx::GraphProto* graph, const std::string& op, const std::string& name,
                          std::vector<std::string> inputs, std::vector<std::string> outputs) {
  onnx::NodeProto* node = graph->add_node();
  node->set_op_type(op);
  node->set_name(name);
  for (const std::string& input : inputs) node->add_input(input);
  for (const std::string& output : outputs) node->add_output(output);
  return node;
}

onnx::TensorProto* add_float_initializer(onnx::GraphProto* graph, const std::string& name,
                                         std::vector<std::int64_t> dims,
                                         std::vector<float> values) {
  onnx::TensorProto* tensor = graph->add_initializer();
  tensor->set_name(name);
  tensor->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (std::int64_t dim : dims) tensor->add_dims(dim);
  for (float value : values) tensor->add_float_data(value);
  return tensor;
}

// x[batch, 4] -> Add(x, w) -> Relu -> y
onnx::ModelProto add_relu_model(std::int64_t opset = 13) {
  onnx::ModelProto model = base_model(opset);
  onnx::GraphProto* graph = model.mutable_graph();
  add_value(graph->mutable_input(), "x", onnx::TensorProto_DataType_FLOAT, {-1, 4});
  add_value(graph->mutable_output(), "y", onnx::TensorProto_DataType_FLOAT, {-1, 4});
  add_float_initializer(graph, "w", {4}, {1.f, 2.f, 3.f, 4.f});
  add_node(graph, "Add", "add", {"x", "w"}, {"sum"});
  add_node(graph, "Relu", "relu", {"sum"}, {"y"});
  return model;
}

std::string bytes_of(const onnx::ModelProto& model) {
  std::string bytes;
  EXPECT_TRUE(model.SerializeToString(&bytes));
  return bytes;
}

std::string load_error(const std::string& bytes, const fs::path& dir = {}) {
  try {
    load_model_from_bytes(bytes, "model.onnx", dir);
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "expected an Error";
  return {};
}

std::string load_error(const onnx::ModelProto& model, const fs::path& dir = {}) {
  return load_error(bytes_of(model), dir);
}

class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = fs::temp_directory_path() / ("ep_onnx_test_" + std::to_string(seed()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// --- Round trips -------------------------------------------------------------------------

template <typename T>
Tensor filled(DType dtype, Shape shape, T first) {
  Tensor tensor(dtype, std::move(shape));
  auto* data = static_cast<T*>(tensor.raw());
  for (std::int64_t i = 0; i < tensor.numel(); ++i) data[i] = static_cast<T>(first + i);
  return tensor;
}

Graph every_kind_graph() {
  graph::GraphBuilder builder("every_kind", 13);
  const std::string x = builder.input("x", DType::f32, {Dim::named("batch"), Dim::fixed(4)});
  builder.initializer("w_f32", filled<float>(DType::f32, {4}, 0.5f));
  builder.initializer("w_f16", filled<std::uint16_t>(DType::f16, {2, 2}, 0x3c00));
  builder.initializer("w_i8", filled<std::int8_t>(DType::i8, {3}, -1));
  builder.initializer("w_u8", filled<std::uint8_t>(DType::u8, {3}, 250));
  builder.initializer("w_i32", filled<std::int32_t>(DType::i32, {2}, -7));
  builder.initializer("w_i64", filled<std::int64_t>(DType::i64, {2}, std::int64_t{1} << 40));
  Tensor flags(DType::boolean, {3});
  static_cast<std::uint8_t*>(flags.raw())[1] = 1;
  builder.initializer("w_bool", flags);
  builder.initializer("w_empty", Tensor(DType::f32, {0, 3}));
  const std::string sum = builder.node("Add", {x, "w_f32"}, {}, "add");
  const std::string constant =
      builder.node("Constant", {}, {{"value", filled<float>(DType::f32, {2}, 3.f)}}, "const");
  std::map<std::string, AttrValue> attrs{
      {"i", std::int64_t{-3}},
      {"f", 2.5f},
      {"s", std::string("hello")},
      {"ints", std::vector<std::int64_t>{1, -2, 3}},
      {"floats", std::vector<float>{0.25f, -1.f}},
      {"strings", std::vector<std::string>{"a", "bc"}},
      {"t", filled<std::int32_t>(DType::i32, {2, 1}, 9)},
  };
  const std::vector<std::string> custom = builder.node_multi(
      "AllAttrs", {sum, constant, "w_f16", "w_i8", "w_u8", "w_i32", "w_i64", "w_bool", "w_empty"},
      1, attrs, "custom");
  builder.output(custom[0], DType::f32, {Dim::named("batch"), Dim{}});
  Graph graph = builder.build();
  for (graph::Node& node : graph.nodes) {
    if (node.op_type == "AllAttrs") node.domain = "com.edgeperf.test";
  }
  return graph;
}

void expect_same_tensor(const Tensor& a, const Tensor& b, const std::string& what) {
  EXPECT_EQ(a.dtype(), b.dtype()) << what;
  EXPECT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.nbytes(), b.nbytes()) << what;
  EXPECT_EQ(0, a.nbytes() == 0 ? 0 : std::memcmp(a.raw(), b.raw(), a.nbytes())) << what;
}

void expect_same_attr(const AttrValue& a, const AttrValue& b, const std::string& what) {
  ASSERT_EQ(a.index(), b.index()) << what;
  std::visit(
      [&](const auto& left) {
        using T = std::decay_t<decltype(left)>;
        if constexpr (std::is_same_v<T, Tensor>) {
          expect_same_tensor(left, std::get<Tensor>(b), what);
        } else if constexpr (std::is_same_v<T, graph::SubgraphPtr>) {
          EXPECT_EQ(left->nodes.size(), std::get<T>(b)->nodes.size()) << what;
        } else {
          EXPECT_EQ(left, std::get<T>(b)) << what;
        }
      },
      a);
}

void expect_same_values(const std::vector<graph::ValueInfo>& a,
                        const std::vector<graph::ValueInfo>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].dtype, b[i].dtype) << a[i].name;
    EXPECT_EQ(a[i].dims, b[i].dims) << a[i].name;
    EXPECT_EQ(a[i].has_shape, b[i].has_shape) << a[i].name;
  }
}

void expect_same_graph(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.opset, b.opset);
  expect_same_values(a.inputs, b.inputs);
  expect_same_values(a.outputs, b.outputs);
  ASSERT_EQ(a.initializers.size(), b.initializers.size());
  for (const auto& [name, tensor] : a.initializers) {
    ASSERT_TRUE(b.initializers.count(name)) << name;
    expect_same_tensor(tensor, b.initializers.at(name), name);
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (std::size_t i = 0; i < a.nodes.size(); ++i) {
    const graph::Node& x = a.nodes[i];
    const graph::Node& y = b.nodes[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op_type, y.op_type);
    EXPECT_EQ(x.domain, y.domain);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.outputs, y.outputs);
    ASSERT_EQ(x.attrs.size(), y.attrs.size()) << x.name;
    for (const auto& [key, value] : x.attrs) {
      ASSERT_TRUE(y.attrs.count(key)) << x.name << "." << key;
      expect_same_attr(value, y.attrs.at(key), x.name + "." + key);
    }
  }
}

TEST(OnnxRoundTrip, EveryAttributeKindAndDtype) {
  const Graph original = every_kind_graph();
  const Graph loaded = load_model_from_bytes(serialize_model(original));
  Graph expected = original;
  EXPECT_EQ(graph::ops::hoist_constant_nodes(expected), 1u);  // import does the same
  expect_same_graph(expected, loaded);
  EXPECT_EQ(loaded.producer, "edgeperf");
  const graph::Node& custom = loaded.nodes.back();
  EXPECT_EQ(custom.attr_int("i"), -3);
  EXPECT_EQ(custom.attr_string("s", ""), "hello");
  EXPECT_EQ(custom.attr_tensor("t").to_int64s(), (std::vector<std::int64_t>{9, 10}));
  EXPECT_EQ(loaded.initializers.at("w_bool").to_int64s(), (std::vector<std::int64_t>{0, 1, 0}));
}

TEST(OnnxRoundTrip, ExportedModelDeclaresOpsetsAndIrVersion) {
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(serialize_model(every_kind_graph())));
  EXPECT_EQ(model.ir_version(), 8);
  EXPECT_EQ(model.producer_name(), "edgeperf");
  ASSERT_EQ(model.opset_import_size(), 2);
  EXPECT_EQ(model.opset_import(0).domain(), "");
  EXPECT_EQ(model.opset_import(0).version(), 13);
  EXPECT_EQ(model.opset_import(1).domain(), "com.edgeperf.test");
  for (const onnx::TensorProto& tensor : model.graph().initializer()) {
    EXPECT_TRUE(tensor.has_raw_data()) << tensor.name();
  }
}

TEST(OnnxRoundTrip, HandBuiltModelIsStable) {
  onnx::ModelProto model = add_relu_model(17);
  onnx::NodeProto* relu = model.mutable_graph()->mutable_node(1);
  relu->set_name("");  // unnamed nodes get a stable generated name
  const Graph first = load_model_from_bytes(bytes_of(model));
  ASSERT_EQ(first.nodes.size(), 2u);
  EXPECT_EQ(first.nodes[1].name, "Relu_1");
  EXPECT_EQ(first.opset, 17);
  ASSERT_EQ(first.inputs.size(), 1u);
  EXPECT_EQ(first.inputs[0].dims, (std::vector<Dim>{Dim::named("batch"), Dim::fixed(4)}));
  const std::string exported = serialize_model(first);
  const Graph second = load_model_from_bytes(exported);
  expect_same_graph(first, second);
  EXPECT_EQ(serialize_model(second), exported);
}

TEST(OnnxImport, ShapeInferenceFillsValueInfo) {
  const Graph graph = load_model_from_bytes(bytes_of(add_relu_model()));
  ASSERT_EQ(graph.value_info.size(), 1u);
  EXPECT_EQ(graph.value_info[0].name, "sum");
  EXPECT_EQ(graph.value_info[0].dims, (std::vector<Dim>{Dim::named("batch"), Dim::fixed(4)}));
}

TEST(OnnxImport, OldIrInitializersListedAsInputsAreNotRuntimeInputs) {
  onnx::ModelProto model = add_relu_model();
  model.set_ir_version(3);
  add_value(model.mutable_graph()->mutable_input(), "w", onnx::TensorProto_DataType_FLOAT, {4});
  const Graph graph = load_model_from_bytes(bytes_of(model));
  ASSERT_EQ(graph.inputs.size(), 1u);
  EXPECT_EQ(graph.inputs[0].name, "x");
  EXPECT_TRUE(graph.initializers.count("w"));
}

// x[batch, 1024] -> MatMul(x, w[1024, 8]) -> Reshape to [-1, 2, 4]: a weight large enough
// that its raw bytes leave the message while loading, and a shape that inference needs.
onnx::ModelProto large_weight_model(const std::string& op = "MatMul") {
  onnx::ModelProto model = base_model();
  onnx::GraphProto* graph = model.mutable_graph();
  add_value(graph->mutable_input(), "x", onnx::TensorProto_DataType_FLOAT, {-1, 1024});
  add_value(graph->mutable_output(), "y", onnx::TensorProto_DataType_FLOAT, {-1, 2, 4});
  onnx::TensorProto* w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto_DataType_FLOAT);
  w->add_dims(1024);
  w->add_dims(8);
  std::vector<float> values(1024 * 8);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i) * 0.5f;
  w->set_raw_data(values.data(), values.size() * sizeof(float));
  onnx::TensorProto* shape = graph->add_initializer();
  shape->set_name("shape");
  shape->set_data_type(onnx::TensorProto_DataType_INT64);
  shape->add_dims(3);
  for (std::int64_t dim : {-1, 2, 4}) shape->add_int64_data(dim);
  add_node(graph, op, "matmul", {"x", "w"}, {"product"});
  add_node(graph, "Reshape", "reshape", {"product", "shape"}, {"y"});
  return model;
}

TEST(OnnxImport, LargeWeightsKeepTheirValuesAndTheCheckerStillRuns) {
  const Graph graph = load_model_from_bytes(bytes_of(large_weight_model()));
  const std::span<const float> w = graph.initializers.at("w").values<float>();
  ASSERT_EQ(w.size(), 1024u * 8);
  for (std::size_t i = 0; i < w.size(); ++i) ASSERT_EQ(w[i], static_cast<float>(i) * 0.5f) << i;
  ASSERT_EQ(graph.value_info.size(), 1u);  // inference saw the weight's dims
  EXPECT_EQ(graph.value_info[0].name, "product");
  EXPECT_EQ(graph.value_info[0].dims, (std::vector<Dim>{Dim::named("batch"), Dim::fixed(8)}));
  EXPECT_THAT(load_error(large_weight_model("NoSuchOp")), HasSubstr("ONNX checker:"));
}

TEST(OnnxOpsetConversion, RaisesTheOpsetAndRefusesToLowerIt) {
  const Graph old = load_model_from_bytes(bytes_of(add_relu_model(11)));
  const Graph converted = convert_opset(old, 13);
  EXPECT_EQ(converted.opset, 13);
  ASSERT_EQ(converted.nodes.size(), old.nodes.size());
  for (std::size_t i = 0; i < old.nodes.size(); ++i) {
    EXPECT_EQ(converted.nodes[i].op_type, old.nodes[i].op_type);
  }
  expect_same_tensor(converted.initializers.at("w"), old.initializers.at("w"), "w");
  try {
    convert_opset(converted, 11);
    ADD_FAILURE() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_THAT(std::string(error.what()), HasSubstr("from opset 13 to opset 11"));
  }
}

TEST(OnnxImport, TypedFieldsAndConstantAttributes) {
  onnx::ModelProto model = base_model();
  onnx::GraphProto* graph = model.mutable_graph();
  add_value(graph->mutable_output(), "c", onnx::TensorProto_DataType_INT64, {2});
  add_value(graph->mutable_output(), "d", onnx::TensorProto_DataType_FLOAT, {});
  onnx::NodeProto* constant = add_node(graph, "Constant", "const_ints", {}, {"c"});
  onnx::AttributeProto* attr = constant->add_attribute();
  attr->set_name("value_ints");
  attr->set_type(onnx::AttributeProto_AttributeType_INTS);
  attr->add_ints(5);
  attr->add_ints(6);
  onnx::NodeProto* scalar = add_node(graph, "Constant", "const_float", {}, {"d"});
  onnx::AttributeProto* value = scalar->add_attribute();
  value->set_name("value_float");
  value->set_type(onnx::AttributeProto_AttributeType_FLOAT);
  value->set_f(1.5f);
  onnx::TensorProto* f16 = graph->add_initializer();
  f16->set_name("half");
  f16->set_data_type(onnx::TensorProto_DataType_FLOAT16);
  f16->add_dims(1);
  f16->add_int32_data(0x3c00);
  onnx::TensorProto* i64 = graph->add_initializer();
  i64->set_name("longs");
  i64->set_data_type(onnx::TensorProto_DataType_INT64);
  i64->add_dims(2);
  i64->add_int64_data(-1);
  i64->add_int64_data(std::int64_t{1} << 50);
  const Graph loaded = load_model_from_bytes(bytes_of(model));
  EXPECT_EQ(loaded.nodes[0].attr_ints("value_ints"), (std::vector<std::int64_t>{5, 6}));
  EXPECT_FLOAT_EQ(loaded.nodes[1].attr_float("value_float", 0.f), 1.5f);
  EXPECT_EQ(loaded.initializers.at("half").values<std::uint16_t>()[0], 0x3c00);
  EXPECT_EQ(loaded.initializers.at("longs").to_int64s(),
            (std::vector<std::int64_t>{-1, std::int64_t{1} << 50}));
}

// --- Sparse initializers -------------------------------------------------------------------

onnx::ModelProto sparse_model(bool coordinate_indices) {
  onnx::ModelProto model = base_model();
  onnx::GraphProto* graph = model.mutable_graph();
  add_value(graph->mutable_input(), "x", onnx::TensorProto_DataType_FLOAT, {2, 3});
  add_value(graph->mutable_output(), "y", onnx::TensorProto_DataType_FLOAT, {2, 3});
  add_node(graph, "Add", "add", {"x", "s"}, {"y"});
  onnx::SparseTensorProto* sparse = graph->add_sparse_initializer();
  sparse->add_dims(2);
  sparse->add_dims(3);
  onnx::TensorProto* values = sparse->mutable_values();
  values->set_name("s");
  values->set_data_type(onnx::TensorProto_DataType_FLOAT);
  values->add_dims(2);
  values->add_float_data(7.f);
  values->add_float_data(8.f);
  onnx::TensorProto* indices = sparse->mutable_indices();
  indices->set_data_type(onnx::TensorProto_DataType_INT64);
  if (coordinate_indices) {
    indices->add_dims(2);
    indices->add_dims(2);
    for (std::int64_t v : {0, 1, 1, 2}) indices->add_int64_data(v);  // (0,1) and (1,2)
  } else {
    indices->add_dims(2);
    for (std::int64_t v : {1, 5}) indices->add_int64_data(v);
  }
  return model;
}

TEST(OnnxSparse, FlatAndCoordinateIndicesDensify) {
  const std::vector<double> expected{0, 7, 0, 0, 0, 8};
  for (bool coordinates : {false, true}) {
    const Graph graph = load_model_from_bytes(bytes_of(sparse_model(coordinates)));
    ASSERT_TRUE(graph.initializers.count("s"));
    EXPECT_EQ(graph.initializers.at("s").shape(), (Shape{2, 3}));
    EXPECT_EQ(graph.initializers.at("s").to_doubles(), expected) << coordinates;
  }
}

TEST(OnnxSparse, OutOfRangeIndexIsAnError) {
  onnx::ModelProto model = sparse_model(false);
  model.mutable_graph()->mutable_sparse_initializer(0)->mutable_indices()->set_int64_data(1, 6);
  const std::string message = load_error(model);
  EXPECT_THAT(message, HasSubstr("sparse initializer 's'"));
  EXPECT_THAT(message, HasSubstr("out of range"));
}

TEST(OnnxSparse, DensifiedSizeIsCapped) {
  onnx::ModelProto model = sparse_model(false);
  onnx::SparseTensorProto* sparse = model.mutable_graph()->mutable_sparse_initializer(0);
  sparse->set_dims(0, std::int64_t{1} << 16);
  sparse->set_dims(1, std::int64_t{1} << 16);  // 16 GiB of f32 from a few bytes
  const std::string message = load_error(model);
  EXPECT_THAT(message, HasSubstr("sparse initializer 's'"));
  EXPECT_THAT(message, HasSubstr("exceeds the 256 MiB limit"));
}

// --- External data -----------------------------------------------------------------------

onnx::ModelProto external_model(const std::string& location, std::int64_t offset = 0) {
  onnx::ModelProto model = add_relu_model();
  onnx::TensorProto* w = model.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  onnx::StringStringEntryProto* entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value(location);
  entry = w->add_external_data();
  entry->set_key("offset");
  entry->set_value(std::to_string(offset));
  entry = w->add_external_data();
  entry->set_key("length");
  entry->set_value("16");
  return model;
}

void write_weights(const fs::path& path, std::size_t leading_bytes, std::size_t float_count) {
  std::string bytes(leading_bytes, 'z');
  for (std::size_t i = 0; i < float_count; ++i) {
    const float value = 10.f + static_cast<float>(i);
    bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  write_file_atomic(path, bytes);
}

TEST(OnnxExternalData, LoadsRelativeToTheModelFile) {
  TempDir dir;
  fs::create_directories(dir.path() / "weights");
  write_weights(dir.path() / "weights" / "w.bin", 8, 4);
  write_file_atomic(dir.path() / "model.onnx", bytes_of(external_model("weights/w.bin", 8)));
  const Graph graph = load_model(dir.path() / "model.onnx");
  EXPECT_EQ(graph.initializers.at("w").to_doubles(), (std::vector<double>{10, 11, 12, 13}));
}

TEST(OnnxExternalData, EscapesAndShortFilesAreRefused) {
  TempDir dir;
  fs::create_directories(dir.path() / "sub");
  write_weights(dir.path() / "w.bin", 0, 4);
  write_weights(dir.path() / "short.bin", 0, 3);
  const fs::path model_dir = dir.path() / "sub";

  std::string message = load_error(external_model("../w.bin"), model_dir);
  EXPECT_THAT(message, HasSubstr("initializer 'w'"));
  EXPECT_THAT(message, HasSubstr("'../w.bin' escapes the model directory"));

  const std::string absolute = (dir.path() / "w.bin").string();
  message = load_error(external_model(absolute), model_dir);
  EXPECT_THAT(message, HasSubstr("initializer 'w'"));
  EXPECT_THAT(message, HasSubstr("absolute path"));

  fs::create_symlink(dir.path() / "w.bin", model_dir / "link.bin");
  message = load_error(external_model("link.bin"), model_dir);
  EXPECT_THAT(message, HasSubstr("'link.bin' escapes the model directory"));

  message = load_error(external_model("short.bin"), dir.path());
  EXPECT_THAT(message, HasSubstr("initializer 'w'"));
  EXPECT_THAT(message, HasSubstr("'short.bin' is too short"));

  message = load_error(external_model("missing.bin"), dir.path());
  EXPECT_THAT(message, HasSubstr("'missing.bin' does not exist"));

  message = load_error(external_model("w.bin"));  // in-memory bytes without a directory
  EXPECT_THAT(message, HasSubstr("initializer 'w'"));
  EXPECT_THAT(message, HasSubstr("'w.bin' cannot be read"));
}

// --- Bad input ---------------------------------------------------------------------------

TEST(OnnxBadInput, TruncatedBytes) {
  const std::string bytes = bytes_of(add_relu_model());
  for (std::size_t length : {bytes.size() / 3, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_THAT(load_error(bytes.substr(0, length)), HasSubstr("model.onnx: ")) << length;
  }
  EXPECT_THAT(load_error(bytes.substr(0, bytes.size() - 1)),
              HasSubstr("not a valid ONNX model (protobuf parse failed)"));
}

TEST(OnnxBadInput, RandomBytes) {
  std::mt19937 generator(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(1 + generator() % 512, '\0');
    for (char& c : bytes) c = static_cast<char>(generator());
    EXPECT_THAT(load_error(bytes), HasSubstr("model.onnx: ")) << trial;
  }
  EXPECT_THAT(load_error(std::string("\xff\xff\xff\xff", 4)),
              HasSubstr("not a valid ONNX model (protobuf parse failed)"));
  EXPECT_THAT(load_error(std::string()), HasSubstr("model has no graph"));
}

TEST(OnnxBadInput, Cycle) {
  onnx::ModelProto model = add_relu_model();
  onnx::GraphProto* graph = model.mutable_graph();
  graph->mutable_node(0)->set_input(1, "back");
  add_node(graph, "Relu", "loop", {"y"}, {"back"});
  const std::string message = load_error(model);
  EXPECT_THAT(message, HasSubstr("has a cycle through node 'add' (Add)"));
}

TEST(OnnxBadInput, MissingInitializer) {
  onnx::ModelProto model = add_relu_model();
  model.mutable_graph()->clear_initializer();
  const std::string message = load_error(model);
  EXPECT_THAT(message, HasSubstr("'add' (Add) reads 'w'"));
}

TEST(OnnxBadInput, DimensionProductOverflow) {
  const std::int64_t big = std::int64_t{1} << 20;
  onnx::ModelProto model = add_relu_model();
  onnx::TensorProto* w = model.mutable_graph()->mutable_initializer(0);
  w->clear_dims();
  for (int i = 0; i < 3; ++i) w->add_dims(big);
  std::string message = load_error(model);
  EXPECT_THAT(message, HasSubstr("initializer 'w'"));
  EXPECT_THAT(message, HasSubstr("too many elements"));

  model = add_relu_model();
  onnx::TensorShapeProto* shape = model.mutable_graph()
                                      ->mutable_input(0)
                                      ->mutable_type()
                                      ->mutable_tensor_type()
                                      ->mutable_shape();
  shape->clear_dim();
  for (int i = 0; i < 3; ++i) shape->add_dim()->set_dim_value(big);
  message = load_error(model);
  EXPECT_THAT(message, HasSubstr("graph input 'x'"));
  EXPECT_THAT(message, HasSubstr("too many elements"));
}

TEST(OnnxBadInput, InitializerByteCountMismatch) {
  onnx::ModelProto model = add_relu_model();
  onnx::TensorProto* w = model.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_raw_data(std::string(15, '\0'));
  EXPECT_THAT(load_error(model),
              HasSubstr("initializer 'w' has 15 bytes of raw_data, expected 16"));
}

TEST(OnnxBadInput, UnsupportedOpsets) {
  EXPECT_THAT(load_error(add_relu_model(6)), HasSubstr("opset 6 is not supported"));
  EXPECT_THAT(load_error(add_relu_model(22)), HasSubstr("opset 22 is not supported"));
  onnx::ModelProto model = add_relu_model();
  model.clear_opset_import();
  EXPECT_THAT(load_error(model), HasSubstr("default ONNX domain"));
}

TEST(OnnxImport, AcceptsOpsetsSevenToTwentyOne) {
  for (std::int64_t opset : {7, 9, 10, 13, 17, 18, 20, 21}) {
    EXPECT_EQ(load_model_from_bytes(bytes_of(add_relu_model(opset))).opset, opset) << opset;
  }
}

TEST(OnnxBadInput, UnknownElementTypes) {
  onnx::ModelProto model = add_relu_model();
  model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto_DataType_DOUBLE);
  EXPECT_THAT(load_error(model), HasSubstr("graph input 'x' has unsupported element type DOUBLE"));

  model = add_relu_model();
  model.mutable_graph()->mutable_initializer(0)->set_data_type(99);
  EXPECT_THAT(load_error(model), HasSubstr("initializer 'w' has unsupported element type 99"));
}

TEST(OnnxBadInput, UnsupportedAttributeKind) {
  onnx::ModelProto model = add_relu_model();
  onnx::AttributeProto* attr = model.mutable_graph()->mutable_node(1)->add_attribute();
  attr->set_name("bodies");
  attr->set_type(onnx::AttributeProto_AttributeType_GRAPHS);
  attr->add_graphs()->set_name("sub");
  EXPECT_THAT(load_error(model),
              HasSubstr("node 'relu' (Relu): attribute 'bodies' has unsupported type GRAPHS"));
}

// x[2] -> Relu -> r; If(Greater(ReduceSum(x), 0)): then r * scale, else Neg(r).
// Both branches read `r` (and `then` also `scale`) from the enclosing graph.
onnx::ModelProto if_model() {
  onnx::ModelProto model = base_model();
  onnx::GraphProto* graph = model.mutable_graph();
  add_value(graph->mutable_input(), "x", onnx::TensorProto_DataType_FLOAT, {2});
  add_value(graph->mutable_output(), "y", onnx::TensorProto_DataType_FLOAT, {2});
  add_float_initializer(graph, "zero", {}, {0.f});
  add_float_initializer(graph, "scale", {}, {3.f});
  add_node(graph, "Relu", "relu", {"x"}, {"r"});
  add_node(graph, "ReduceSum", "sum", {"x"}, {"s"})->add_attribute()->set_name("keepdims");
  graph->mutable_node(1)->mutable_attribute(0)->set_type(onnx::AttributeProto_AttributeType_INT);
  graph->mutable_node(1)->mutable_attribute(0)->set_i(0);
  add_node(graph, "Greater", "greater", {"s", "zero"}, {"c"});
  onnx::NodeProto* branch = add_node(graph, "If", "if", {"c"}, {"y"});
  const auto add_branch = [&](const char* name, const char* op, std::vector<std::string> inputs) {
    onnx::AttributeProto* attr = branch->add_attribute();
    attr->set_name(name);
    attr->set_type(onnx::AttributeProto_AttributeType_GRAPH);
    onnx::GraphProto* body = attr->mutable_g();
    body->set_name(name);
    add_value(body->mutable_output(), std::string(name) + "_y", onnx::TensorProto_DataType_FLOAT,
              {2});
    add_node(body, op, std::string(name) + "_op", std::move(inputs), {std::string(name) + "_y"});
  };
  add_branch("then_branch", "Mul", {"r", "scale"});
  add_branch("else_branch", "Neg", {"r"});
  return model;
}

TEST(OnnxSubgraphs, CapturedValuesBecomeInputs) {
  const Graph graph = load_model_from_bytes(bytes_of(if_model()), "if.onnx");
  const graph::Node& node = graph.nodes.back();
  ASSERT_EQ(node.op_type, "If");
  EXPECT_EQ(node.inputs, (std::vector<std::string>{"c", "r", "scale"}));
  EXPECT_EQ(node.captures(), (std::vector<std::string>{"r", "scale"}));
  EXPECT_EQ(node.own_input_count(), 1u);
  EXPECT_EQ(node.attr_graph("then_branch").nodes.at(0).op_type, "Mul");
  EXPECT_EQ(graph::free_values(node.attr_graph("else_branch")), (std::vector<std::string>{"r"}));
}

TEST(OnnxSubgraphs, ExportRestoresTheOwnInputsAndRenamesCaptures) {
  Graph graph = load_model_from_bytes(bytes_of(if_model()), "if.onnx");
  graph::Node& node = graph.nodes.back();
  // A pass renamed the captured value `r` in the enclosing graph.
  for (graph::Node& other : graph.nodes) {
    for (std::string& output : other.outputs) output = output == "r" ? "r2" : output;
  }
  node.inputs[1] = "r2";
  onnx::ModelProto exported;
  ASSERT_TRUE(exported.ParseFromString(serialize_model(graph)));
  const onnx::NodeProto& proto = exported.graph().node(3);
  ASSERT_EQ(proto.input_size(), 1);
  EXPECT_EQ(proto.input(0), "c");
  for (const onnx::AttributeProto& attr : proto.attribute()) {
    EXPECT_NE(attr.name(), graph::kCapturesAttr);
    ASSERT_EQ(attr.type(), onnx::AttributeProto_AttributeType_GRAPH) << attr.name();
    EXPECT_EQ(attr.g().node(0).input(0), "r2") << attr.name();
  }
  const Graph reloaded = load_model_from_bytes(serialize_model(graph), "if2.onnx");
  EXPECT_EQ(reloaded.nodes.back().inputs, (std::vector<std::string>{"c", "r2", "scale"}));
}

TEST(OnnxBadInput, SubgraphsNestedTooDeep) {
  onnx::ModelProto model = add_relu_model();
  onnx::NodeProto* node = model.mutable_graph()->mutable_node(1);
  for (int depth = 0; depth < 20; ++depth) {  // protobuf itself stops at ~33
    onnx::AttributeProto* attr = node->add_attribute();
    attr->set_name("then_branch");
    attr->set_type(onnx::AttributeProto_AttributeType_GRAPH);
    node = attr->mutable_g()->add_node();
    node->set_op_type("If");
  }
  EXPECT_THAT(load_error(model), HasSubstr("subgraphs nest deeper than 16"));
}

TEST(OnnxBadInput, ReservedAttributeName) {
  onnx::ModelProto model = add_relu_model();
  onnx::AttributeProto* attr = model.mutable_graph()->mutable_node(1)->add_attribute();
  attr->set_name(graph::kCapturesAttr);
  attr->set_type(onnx::AttributeProto_AttributeType_STRINGS);
  attr->add_strings("w");
  EXPECT_THAT(load_error(model), HasSubstr("is reserved"));
}

TEST(OnnxBadInput, CheckerFailureIsAnError) {
  onnx::ModelProto model = add_relu_model();
  model.mutable_graph()->mutable_node(1)->set_op_type("NoSuchOp");
  const std::string message = load_error(model);
  EXPECT_THAT(message, HasSubstr("ONNX checker:"));
  EXPECT_THAT(message, HasSubstr("NoSuchOp"));
  EXPECT_THAT(message, HasSubstr("relu"));  // from libonnx's context line
}

// libonnx 1.12's Conv inference indexes past `dilations` when the input and weight
// ranks differ (found by the fuzzer); the node is loaded without a shape hint.
TEST(OnnxBadInput, ConvWithMismatchedRanksSkipsShapeInference) {
  onnx::ModelProto model = base_model();
  onnx::GraphProto* graph = model.mutable_graph();
  add_value(graph->mutable_input(), "x", onnx::TensorProto_DataType_FLOAT, {1, 2, 4});
  add_value(graph->mutable_output(), "y", onnx::TensorProto_DataType_FLOAT, {});
  add_float_initializer(graph, "w", {1, 2, 1, 1}, {1.f, 1.f});
  add_node(graph, "Conv", "conv", {"x", "w"}, {"c"});
  add_node(graph, "Relu", "relu", {"c"}, {"y"});
  for (const auto& [strides, pads] :
       std::vector<std::pair<std::vector<std::int64_t>, int>>{{{1, 1}, 4}, {{0}, 2}, {{1}, 2}}) {
    onnx::NodeProto* conv = graph->mutable_node(0);
    conv->clear_attribute();
    onnx::AttributeProto* attr = conv->add_attribute();
    attr->set_name("strides");
    attr->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (std::int64_t stride : strides) attr->add_ints(stride);
    attr = conv->add_attribute();
    attr->set_name("pads");
    attr->set_type(onnx::AttributeProto_AttributeType_INTS);
    for (int i = 0; i < pads; ++i) attr->add_ints(0);
    const Graph loaded = load_model_from_bytes(bytes_of(model));
    EXPECT_TRUE(loaded.value_info.empty());
  }
}

// ConstantOfShape's inference gives its output one dimension per element of the
// shape input; a declared length of 2^31 must not make libonnx allocate 2^31 dims.
TEST(OnnxBadInput, HugeShapeInputSkipsShapeInference) {
  for (const std::string op : {"ConstantOfShape", "Expand", "Reshape"}) {
    onnx::ModelProto model = base_model();
    onnx::GraphProto* graph = model.mutable_graph();
    add_value(graph->mutable_input(), "x", onnx::TensorProto_DataType_FLOAT, {2});
    add_value(graph->mutable_input(), "s", onnx::TensorProto_DataType_INT64,
              {std::int64_t{1} << 31});
    add_value(graph->mutable_output(), "y", onnx::TensorProto_DataType_FLOAT, {});
    if (op == "ConstantOfShape") {
      add_node(graph, op, "n", {"s"}, {"y"});
    } else {
      add_node(graph, op, "n", {"x", "s"}, {"y"});
    }
    const Graph loaded = load_model_from_bytes(bytes_of(model));
    EXPECT_EQ(loaded.nodes.at(0).op_type, op);
  }
}

TEST(OnnxBadInput, CustomDomainIsKept) {
  onnx::ModelProto model = add_relu_model();
  model.mutable_graph()->mutable_node(1)->set_domain("com.vendor");
  onnx::OperatorSetIdProto* import = model.add_opset_import();
  import->set_domain("com.vendor");
  import->set_version(1);
  const Graph graph = load_model_from_bytes(bytes_of(model));
  EXPECT_EQ(graph.nodes[1].domain, "com.vendor");
}

// --- Seed corpus of the fuzzer -------------------------------------------------------------

// Shape-manipulating ops whose libonnx inference reads attributes and constant inputs.
Graph ops_mix_graph() {
  graph::GraphBuilder builder("ops_mix", 13);
  const std::string x =
      builder.input("x", DType::f32, {Dim::fixed(2), Dim::fixed(3), Dim::fixed(4)});
  const auto i64 = [&](const std::string& name, std::initializer_list<std::int64_t> values) {
    return builder.initializer(
        name, make_tensor<std::int64_t>({static_cast<std::int64_t>(values.size())}, values));
  };
  const std::string t =
      builder.node("Transpose", {x}, {{"perm", std::vector<std::int64_t>{2, 0, 1}}});
  const std::string g =
      builder.node("Gather", {t, i64("idx", {0, 3})}, {{"axis", std::int64_t{0}}});
  const std::string s =
      builder.node("Slice", {g, i64("starts", {0}), i64("ends", {1}), i64("axes", {2})});
  const std::string u = builder.node("Unsqueeze", {s, i64("uaxes", {0})});
  const std::string sq = builder.node("Squeeze", {u, i64("saxes", {0})});
  const std::string c = builder.node("Concat", {sq, sq}, {{"axis", std::int64_t{-1}}});
  const std::vector<std::string> parts =
      builder.node_multi("Split", {c, i64("split", {1, 1})}, 2, {{"axis", std::int64_t{2}}});
  const std::string w = builder.initializer("w", Tensor(DType::f32, {1, 5}));
  const std::string m = builder.node("MatMul", {parts[0], w});
  const std::string r = builder.node("ReduceMean", {m}, {{"axes", std::vector<std::int64_t>{1}}});
  const std::string f = builder.node("Flatten", {r}, {{"axis", std::int64_t{1}}});
  builder.output(f, DType::f32, {Dim::fixed(2), Dim::fixed(5)});
  return builder.build();
}

// Every seed must be a valid model (otherwise the fuzzer starts from rejected input).
// EP_WRITE_FUZZ_CORPUS=<dir> regenerates them.
std::map<std::string, std::string> seed_models() {
  std::map<std::string, std::string> seeds;
  seeds["add_relu.onnx"] = bytes_of(add_relu_model());
  seeds["sparse_coo.onnx"] = bytes_of(sparse_model(true));
  seeds["sparse_flat.onnx"] = bytes_of(sparse_model(false));
  onnx::ModelProto old_ir = add_relu_model(11);
  old_ir.set_ir_version(3);
  add_value(old_ir.mutable_graph()->mutable_input(), "w", onnx::TensorProto_DataType_FLOAT, {4});
  seeds["old_ir.onnx"] = bytes_of(old_ir);
  graph::GraphBuilder builder("conv", 13);
  const std::string x = builder.input(
      "x", DType::f32, {Dim::named("n"), Dim::fixed(2), Dim::fixed(4), Dim::fixed(4)});
  const std::string w = builder.initializer("w", filled<float>(DType::f32, {2, 2, 3, 3}, 0.f));
  const std::string b = builder.initializer("b", filled<float>(DType::f32, {2}, 1.f));
  const std::string shape = builder.initializer("shape", make_tensor<std::int64_t>({2}, {0, -1}));
  const std::string conv =
      builder.node("Conv", {x, w, b},
                   {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}, {"group", std::int64_t{1}}});
  const std::string pool = builder.node("MaxPool", {conv},
                                        {{"kernel_shape", std::vector<std::int64_t>{2, 2}},
                                         {"strides", std::vector<std::int64_t>{2, 2}}});
  const std::string flat = builder.node("Reshape", {pool, shape});
  const std::string soft = builder.node("Softmax", {flat}, {{"axis", std::int64_t{-1}}});
  builder.output(soft, DType::f32, {Dim::named("n"), Dim::fixed(8)});
  seeds["conv_pool.onnx"] = serialize_model(builder.build());
  seeds["every_kind.onnx"] = serialize_model(every_kind_graph());
  seeds["ops_mix.onnx"] = serialize_model(ops_mix_graph());
  return seeds;
}

TEST(OnnxFuzzCorpus, SeedsAreValidModels) {
  const std::map<std::string, std::string> seeds = seed_models();
  if (const char* dir = std::getenv("EP_WRITE_FUZZ_CORPUS")) {
    for (const auto& [name, bytes] : seeds) write_file_atomic(fs::path(dir) / name, bytes);
  }
  for (const auto& [name, bytes] : seeds) EXPECT_NO_THROW(load_model_from_bytes(bytes, name));
  const fs::path corpus = fs::path(EP_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
  for (const fs::directory_entry& entry : fs::directory_iterator(corpus)) {
    EXPECT_NO_THROW(load_model_from_bytes(read_file(entry.path()), entry.path().string()));
  }
}

}  // namespace
}  // namespace edgeperf::onnx_io
