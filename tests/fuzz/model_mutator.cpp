// Structure-aware mutations for the model-loader fuzzer. libonnx is not instrumented,
// so coverage cannot guide byte-level mutations into its checker and shape inference;
// this mutator edits parsed models instead (op types, attributes, ranks, constant
// inputs, opsets), then falls back to libFuzzer's byte mutations.
#include <onnx/onnx_pb.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

using Random = std::minstd_rand;

const std::vector<std::string>& op_types() {
  static const std::vector<std::string> ops{"Conv",
                                            "ConvTranspose",
                                            "MaxPool",
                                            "AveragePool",
                                            "GlobalAveragePool",
                                            "LpPool",
                                            "MaxUnpool",
                                            "Transpose",
                                            "Reshape",
                                            "Flatten",
                                            "Squeeze",
                                            "Unsqueeze",
                                            "Concat",
                                            "Split",
                                            "Slice",
                                            "Gather",
                                            "GatherElements",
                                            "GatherND",
                                            "ScatterND",
                                            "Tile",
                                            "Expand",
                                            "Pad",
                                            "Resize",
                                            "MatMul",
                                            "Gemm",
                                            "Einsum",
                                            "BatchNormalization",
                                            "InstanceNormalization",
                                            "LayerNormalization",
                                            "Softmax",
                                            "LogSoftmax",
                                            "ReduceMean",
                                            "ReduceSum",
                                            "ArgMax",
                                            "TopK",
                                            "Cast",
                                            "Shape",
                                            "Size",
                                            "ConstantOfShape",
                                            "Range",
                                            "OneHot",
                                            "Where",
                                            "Add",
                                            "Mul",
                                            "Relu",
                                            "Clip",
                                            "DepthToSpace",
                                            "SpaceToDepth",
                                            "CumSum",
                                            "NonZero",
                                            "Compress",
                                            "Trilu",
                                            "QuantizeLinear",
                                            "DequantizeLinear",
                                            "QLinearConv",
                                            "QLinearMatMul",
                                            "ConvInteger",
                                            "MatMulInteger",
                                            "LRN",
                                            "Upsample",
                                            "RoiAlign",
                                            "GridSample",
                                            "Col2Im",
                                            "ReverseSequence",
                                            "Unique",
                                            "Identity",
                                            "Dropout",
                                            "LSTM",
                                            "GRU",
                                            "RNN",
                                            "Constant",
                                            "EyeLike",
                                            "RandomNormalLike",
                                            "Mod",
                                            "BitShift",
                                            "Hardmax",
                                            "MeanVarianceNormalization"};
  return ops;
}

const std::vector<std::string>& attribute_names() {
  static const std::vector<std::string> names{
      "axis",         "axes",        "perm",       "kernel_shape",
      "strides",      "pads",        "dilations",  "group",
      "split",        "keepdims",    "to",         "output_padding",
      "output_shape", "blocksize",   "k",          "transA",
      "transB",       "num_outputs", "batch_dims", "allowzero",
      "largest",      "sorted",      "exclusive",  "reverse",
      "upper",        "size",        "ceil_mode",  "storage_order",
      "hidden_size",  "direction",   "mode",       "coordinate_transformation_mode",
      "equation",     "auto_pad"};
  return names;
}

std::int64_t interesting_int(Random& random) {
  static const std::int64_t values[] = {0,
                                        1,
                                        2,
                                        3,
                                        4,
                                        -1,
                                        -2,
                                        -3,
                                        7,
                                        64,
                                        255,
                                        1 << 16,
                                        -(std::int64_t{1} << 31),
                                        std::int64_t{1} << 31,
                                        std::int64_t{1} << 40,
                                        INT64_MAX,
                                        INT64_MIN};
  return values[random() % (sizeof values / sizeof values[0])];
}

template <typename T>
T& pick(google::protobuf::RepeatedPtrField<T>& field, Random& random) {
  return field[static_cast<int>(random() % static_cast<unsigned>(field.size()))];
}

void mutate_ints(google::protobuf::RepeatedField<std::int64_t>& ints, Random& random) {
  const unsigned choice = random() % 4;
  if (choice == 0 || ints.empty()) {
    ints.Add(interesting_int(random));
  } else if (choice == 1) {
    ints.RemoveLast();
  } else {
    ints.Set(static_cast<int>(random() % ints.size()), interesting_int(random));
  }
}

void set_random_attribute(onnx::AttributeProto& attribute, Random& random) {
  attribute.clear_i();
  attribute.clear_ints();
  attribute.clear_s();
  switch (random() % 3) {
    case 0:
      attribute.set_type(onnx::AttributeProto_AttributeType_INT);
      attribute.set_i(interesting_int(random));
      break;
    case 1: {
      attribute.set_type(onnx::AttributeProto_AttributeType_INTS);
      const unsigned count = random() % 7;
      for (unsigned i = 0; i < count; ++i) attribute.add_ints(interesting_int(random));
      break;
    }
    default:
      static const char* strings[] = {"SAME_UPPER", "VALID",         "NOTSET",  "ij,jk->ik",
                                      "...i->i",    "linear",        "nearest", "DCR",
                                      "CRD",        "bidirectional", ""};
      attribute.set_type(onnx::AttributeProto_AttributeType_STRING);
      attribute.set_s(strings[random() % (sizeof strings / sizeof strings[0])]);
  }
}

void mutate_node(onnx::GraphProto& graph, Random& random) {
  onnx::NodeProto& node = pick(*graph.mutable_node(), random);
  switch (random() % 6) {
    case 0:
      node.set_op_type(op_types()[random() % op_types().size()]);
      break;
    case 1: {
      onnx::AttributeProto* attribute = node.add_attribute();
      attribute->set_name(attribute_names()[random() % attribute_names().size()]);
      set_random_attribute(*attribute, random);
      break;
    }
    case 2:
      if (node.attribute_size() > 0) {
        onnx::AttributeProto& attribute = pick(*node.mutable_attribute(), random);
        if (attribute.type() == onnx::AttributeProto_AttributeType_INTS) {
          mutate_ints(*attribute.mutable_ints(), random);
        } else {
          set_random_attribute(attribute, random);
        }
      }
      break;
    case 3: {  // rewire an input to another value (or to "absent")
      std::vector<std::string> values{""};
      for (const auto& input : graph.input()) values.push_back(input.name());
      for (const auto& tensor : graph.initializer()) values.push_back(tensor.name());
      for (const auto& other : graph.node())
        values.insert(values.end(), other.output().begin(), other.output().end());
      const std::string& value = values[random() % values.size()];
      if (node.input_size() == 0 || random() % 3 == 0) {
        node.add_input(value);
      } else {
        node.set_input(static_cast<int>(random() % node.input_size()), value);
      }
      break;
    }
    case 4:
      if (node.input_size() > 0) node.mutable_input()->RemoveLast();
      break;
    default:
      if (node.attribute_size() > 0) node.mutable_attribute()->RemoveLast();
  }
}

void mutate_shape(onnx::GraphProto& graph, Random& random) {
  if (graph.input_size() == 0) return;
  onnx::TensorShapeProto* shape =
      pick(*graph.mutable_input(), random).mutable_type()->mutable_tensor_type()->mutable_shape();
  const unsigned choice = random() % 3;
  if (choice == 0 || shape->dim_size() == 0) {
    shape->add_dim()->set_dim_value(random() % 5);
  } else if (choice == 1) {
    shape->mutable_dim()->RemoveLast();
  } else {
    pick(*shape->mutable_dim(), random)
        .set_dim_value(random() % 2 ? random() % 9 : interesting_int(random));
  }
}

void mutate_initializer(onnx::GraphProto& graph, Random& random) {
  if (graph.initializer_size() == 0) return;
  onnx::TensorProto& tensor = pick(*graph.mutable_initializer(), random);
  if (random() % 2 == 0) {  // a small int64 constant: shapes, axes, pads, indices
    const std::string name = tensor.name();
    tensor.Clear();
    tensor.set_name(name);
    tensor.set_data_type(onnx::TensorProto_DataType_INT64);
    const unsigned count = random() % 6;
    tensor.add_dims(count);
    for (unsigned i = 0; i < count; ++i)
      tensor.add_int64_data(random() % 2 ? random() % 5 : interesting_int(random));
  } else {
    mutate_ints(*tensor.mutable_dims(), random);
  }
}

void mutate_model(onnx::ModelProto& model, Random& random) {
  onnx::GraphProto& graph = *model.mutable_graph();
  switch (random() % 6) {
    case 0:
    case 1:
    case 2:
      if (graph.node_size() > 0) mutate_node(graph, random);
      break;
    case 3:
      mutate_shape(graph, random);
      break;
    case 4:
      mutate_initializer(graph, random);
      break;
    default:
      for (onnx::OperatorSetIdProto& opset : *model.mutable_opset_import()) {
        if (opset.domain().empty()) opset.set_version(11 + random() % 7);
      }
  }
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  Random random(seed);
  onnx::ModelProto model;
  if (random() % 4 == 0 || !model.ParseFromArray(data, static_cast<int>(size)) ||
      !model.has_graph()) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  const unsigned rounds = 1 + random() % 3;
  for (unsigned i = 0; i < rounds; ++i) mutate_model(model, random);
  std::string bytes;
  if (!model.SerializeToString(&bytes) || bytes.size() > max_size) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  std::memcpy(data, bytes.data(), bytes.size());
  return bytes.size();
}
