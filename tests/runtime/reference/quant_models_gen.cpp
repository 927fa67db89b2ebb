// Writes small quantized ONNX models (QDQ, QOperator, dynamic, com.microsoft.MatMulNBits)
// with seeded inputs, runs each through edgeperf's reference backend and writes our outputs,
// for quant_ort_parity.py to compare with ONNX Runtime.
//
//   quant_models_gen OUT_DIR [--s8-weight-bits 7]
// --s8-weight-bits 7 draws the s8 weights of u8 x s8 products from [-64, 63]: on CPUs
// without VNNI, ONNX Runtime's u8 x s8 kernels sum pairs of products in saturating
// int16 (vpmaddubsw), exact only for 7-bit weights.
// writes OUT_DIR/<model>.onnx, OUT_DIR/<model>.in/<input>.npy, OUT_DIR/<model>.edgeperf/
// <output>.npy and OUT_DIR/manifest.txt (one line per model: name, then each input name).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

#include "edgeperf/core/npy.h"
#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf {
namespace {

using graph::Dim;
using graph::GraphBuilder;

struct TestModel {
  std::string name;
  graph::Graph graph;
  std::map<std::string, Tensor> inputs;
};

std::vector<Dim> dims_of(const Shape& shape) {
  std::vector<Dim> dims;
  for (std::int64_t d : shape) dims.push_back(Dim::fixed(d));
  return dims;
}

Tensor scalar_f32(float value) { return make_tensor<float>({}, {value}); }
template <typename T>
Tensor scalar(T value) {
  return make_tensor<T>({}, {value});
}

// Random integers in [low, high) as a tensor of dtype T.
Tensor random_ints(DType dtype, const Shape& shape, std::uint64_t seed, double low, double high) {
  return random_tensor(dtype, shape, seed, low, high);
}

// s8 weights of u8 x s8 products, `bits` wide (8: [-127, 127]; 7: [-64, 63]).
Tensor s8_weights(const Shape& shape, std::uint64_t seed, int bits) {
  return bits == 7 ? random_ints(DType::i8, shape, seed, -64, 64)
                   : random_ints(DType::i8, shape, seed, -127, 128);
}

// x f32 -> Q -> DQ -> Conv (per-channel int8 weights through DQ, f32 bias) -> Relu -> Q -> DQ.
TestModel qdq_conv(int s8_bits) {
  GraphBuilder b("qdq_conv");
  const Shape x_shape{1, 3, 10, 10};
  const std::string x = b.input("x", DType::f32, dims_of(x_shape));
  const std::string xs = b.initializer("x_scale", scalar_f32(0.02f));
  const std::string xz = b.initializer("x_zero", scalar<std::uint8_t>(128));
  const std::string xq = b.node("QuantizeLinear", {x, xs, xz});
  const std::string xd = b.node("DequantizeLinear", {xq, xs, xz});
  const std::string w = b.initializer("w", s8_weights({8, 3, 3, 3}, 3, s8_bits));
  const std::string ws = b.initializer("w_scale", random_tensor(DType::f32, {8}, 4, 0.002, 0.01));
  const std::string wz = b.initializer("w_zero", Tensor(DType::i8, {8}));
  const std::string wd = b.node("DequantizeLinear", {w, ws, wz}, {{"axis", std::int64_t{0}}});
  const std::string bias = b.initializer("bias", random_tensor(DType::f32, {8}, 5, -0.1, 0.1));
  const std::string conv = b.node("Conv", {xd, wd, bias},
                                  {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}},
                                   {"strides", std::vector<std::int64_t>{2, 2}}});
  const std::string relu = b.node("Relu", {conv});
  const std::string ys = b.initializer("y_scale", scalar_f32(0.01f));
  const std::string yz = b.initializer("y_zero", scalar<std::uint8_t>(0));
  const std::string yq = b.node("QuantizeLinear", {relu, ys, yz});
  const std::string y = b.node("DequantizeLinear", {yq, ys, yz}, {}, "y");
  b.output(y, DType::f32, dims_of({1, 8, 5, 5}));
  return {"qdq_conv", b.build(), {{"x", random_tensor(DType::f32, x_shape, 6, -2.0, 2.0)}}};
}

// QLinearConv: groups, strides, pads, per-channel weight scales, int32 bias.
TestModel qlinear_conv(const std::string& name, DType data_type, std::int64_t group,
                       std::int64_t dilation, int s8_bits) {
  GraphBuilder b(name);
  const std::int64_t channels = 8, out_channels = group == channels ? 8 : 6;
  const Shape x_shape{2, channels, 9, 9};
  const bool is_u8 = data_type == DType::u8;
  const std::string x = b.input("x", data_type, dims_of(x_shape));
  const Tensor zero = is_u8 ? scalar<std::uint8_t>(125) : scalar<std::int8_t>(-3);
  const std::string xs = b.initializer("x_scale", scalar_f32(0.02f));
  const std::string xz = b.initializer("x_zero", zero);
  const Shape w_shape{out_channels, channels / group, 3, 3};
  const std::string w = b.initializer("w", s8_weights(w_shape, 11, s8_bits));
  const std::string ws =
      b.initializer("w_scale", random_tensor(DType::f32, {out_channels}, 12, 0.002, 0.01));
  const std::string wz = b.initializer("w_zero", Tensor(DType::i8, {out_channels}));
  const std::string ys = b.initializer("y_scale", scalar_f32(group == channels ? 0.01f : 0.05f));
  const std::string yz = b.initializer("y_zero", zero);
  const std::string bias =
      b.initializer("bias", random_ints(DType::i32, {out_channels}, 13, -3000, 3000));
  const std::int64_t stride = group == channels ? 1 : 2;
  const std::string y = b.node("QLinearConv", {x, xs, xz, w, ws, wz, ys, yz, bias},
                               {{"group", group},
                                {"pads", std::vector<std::int64_t>{1, 2, 2, 1}},
                                {"strides", std::vector<std::int64_t>{stride, stride}},
                                {"dilations", std::vector<std::int64_t>{dilation, dilation}}},
                               "y");
  const std::int64_t extent = 2 * dilation + 1;
  const std::int64_t out = (9 + 3 - extent) / stride + 1;
  b.output(y, data_type, dims_of({2, out_channels, out, out}));
  const double low = is_u8 ? 0 : -128;
  return {name, b.build(), {{"x", random_ints(data_type, x_shape, 14, low, low + 256)}}};
}

// QLinearMatMul with batch broadcasting; b per tensor or per column.
TestModel qlinear_matmul(const std::string& name, bool per_column, int s8_bits) {
  GraphBuilder b(name);
  const Shape a_shape{2, 3, 32};
  const std::string a = b.input("a", DType::u8, dims_of(a_shape));
  const std::string as = b.initializer("a_scale", scalar_f32(0.03f));
  const std::string az = b.initializer("a_zero", scalar<std::uint8_t>(130));
  const std::string bw = b.initializer("b", s8_weights({32, 5}, 21, s8_bits));
  const std::string bs = b.initializer(
      "b_scale", per_column ? random_tensor(DType::f32, {5}, 22, 0.002, 0.01) : scalar_f32(0.005f));
  const std::string bz =
      b.initializer("b_zero", per_column ? Tensor(DType::i8, {5}) : scalar<std::int8_t>(0));
  const std::string ys = b.initializer("y_scale", scalar_f32(0.04f));
  const std::string yz = b.initializer("y_zero", scalar<std::uint8_t>(128));
  const std::string y = b.node("QLinearMatMul", {a, as, az, bw, bs, bz, ys, yz}, {}, "y");
  b.output(y, DType::u8, dims_of({2, 3, 5}));
  return {name, b.build(), {{"a", random_ints(DType::u8, a_shape, 23, 0, 256)}}};
}

TestModel matmul_integer() {
  GraphBuilder b("matmul_integer");
  const std::string a = b.input("a", DType::u8, dims_of({4, 16}));
  const std::string bw = b.initializer("b", random_ints(DType::u8, {16, 6}, 31, 0, 256));
  const std::string az = b.initializer("a_zero", scalar<std::uint8_t>(100));
  const std::string bz = b.initializer("b_zero", scalar<std::uint8_t>(140));
  const std::string y = b.node("MatMulInteger", {a, bw, az, bz}, {}, "y");
  b.output(y, DType::i32, dims_of({4, 6}));
  return {"matmul_integer", b.build(), {{"a", random_ints(DType::u8, {4, 16}, 32, 0, 256)}}};
}

TestModel conv_integer() {
  GraphBuilder b("conv_integer");
  const Shape x_shape{1, 3, 7, 7};
  const std::string x = b.input("x", DType::u8, dims_of(x_shape));
  const std::string w = b.initializer("w", random_ints(DType::u8, {4, 3, 3, 3}, 41, 0, 256));
  const std::string xz = b.initializer("x_zero", scalar<std::uint8_t>(120));
  const std::string wz = b.initializer("w_zero", scalar<std::uint8_t>(128));
  const std::string y =
      b.node("ConvInteger", {x, w, xz, wz}, {{"pads", std::vector<std::int64_t>{1, 1, 1, 1}}}, "y");
  b.output(y, DType::i32, dims_of({1, 4, 7, 7}));
  return {"conv_integer", b.build(), {{"x", random_ints(DType::u8, x_shape, 42, 0, 256)}}};
}

// DynamicQuantizeLinear alone, on random data or on all-zero data.
TestModel dynamic_quantize(const std::string& name, bool zeros) {
  GraphBuilder b(name);
  const Shape shape{4, 10};
  const std::string x = b.input("x", DType::f32, dims_of(shape));
  const auto outs = b.node_multi("DynamicQuantizeLinear", {x}, 3);
  b.output(outs[0], DType::u8, dims_of(shape));
  b.output(outs[1], DType::f32, {});
  b.output(outs[2], DType::u8, {});
  const Tensor data =
      zeros ? Tensor(DType::f32, shape) : random_tensor(DType::f32, shape, 51, -3, 5);
  return {name, b.build(), {{"x", data}}};
}

// The dynamic-quantization pattern of a linear layer: DynamicQuantizeLinear -> MatMulInteger
// (int8 weights) -> Cast -> Mul by a_scale * b_scale -> Add bias.
TestModel dynamic_linear(int s8_bits) {
  GraphBuilder b("dynamic_linear");
  const std::string x = b.input("x", DType::f32, dims_of({3, 24}));
  const auto q = b.node_multi("DynamicQuantizeLinear", {x}, 3);
  const std::string w = b.initializer("w", s8_weights({24, 7}, 61, s8_bits));
  const std::string wz = b.initializer("w_zero", scalar<std::int8_t>(0));
  const std::string acc = b.node("MatMulInteger", {q[0], w, q[2], wz});
  const std::string accf = b.node("Cast", {acc}, {{"to", std::int64_t{1}}});
  const std::string ws = b.initializer("w_scale", scalar_f32(0.01f));
  const std::string scale = b.node("Mul", {q[1], ws});
  const std::string scaled = b.node("Mul", {accf, scale});
  const std::string bias = b.initializer("bias", random_tensor(DType::f32, {7}, 62));
  const std::string y = b.node("Add", {scaled, bias}, {}, "y");
  b.output(y, DType::f32, dims_of({3, 7}));
  return {"dynamic_linear", b.build(), {{"x", random_tensor(DType::f32, {3, 24}, 63, -2, 2)}}};
}

// Per-axis QuantizeLinear (int8) and its DequantizeLinear, on data with exact ties.
TestModel quantize_per_axis() {
  GraphBuilder b("quantize_per_axis");
  const Shape shape{2, 4, 6};
  const std::string x = b.input("x", DType::f32, dims_of(shape));
  const std::string s = b.initializer("scale", make_tensor<float>({4}, {0.25f, 0.5f, 1.0f, 2.0f}));
  const std::string z = b.initializer("zero", make_tensor<std::int8_t>({4}, {0, -3, 7, 100}));
  const std::string q = b.node("QuantizeLinear", {x, s, z}, {{"axis", std::int64_t{1}}}, "q");
  const std::string d = b.node("DequantizeLinear", {q, s, z}, {{"axis", std::int64_t{1}}}, "d");
  b.output(q, DType::i8, dims_of(shape));
  b.output(d, DType::f32, dims_of(shape));
  // Multiples of 1/8 in [-40, 40): many exact halves of every scale, some saturating.
  Tensor data = random_ints(DType::i32, shape, 71, -320, 320);
  Tensor values(DType::f32, shape);
  for (std::int64_t i = 0; i < data.numel(); ++i) {
    values.data<float>()[i] = static_cast<float>(data.data<std::int32_t>()[i]) / 8.0f;
  }
  return {"quantize_per_axis", b.build(), {{"x", values}}};
}

// com.microsoft MatMulNBits: B's codes, scales, optional zero points (packed uint8 or float)
// and bias.
enum class NBitsZeroPoints { none, packed, floats };
struct NBitsSpec {
  std::string name;
  std::int64_t k = 64, block_size = 32, bits = 4;
  NBitsZeroPoints zero_points = NBitsZeroPoints::none;
  bool bias = false;
};

TestModel matmul_nbits(const NBitsSpec& spec) {
  GraphBuilder b(spec.name);
  const std::int64_t n = 8, k = spec.k, bits = spec.bits;
  const std::int64_t blocks = (k + spec.block_size - 1) / spec.block_size;
  const std::int64_t blob = spec.block_size * bits / 8;
  const std::string a = b.input("a", DType::f32, dims_of({3, k}));
  std::vector<std::string> inputs{
      a, b.initializer("b", random_ints(DType::u8, {n, blocks, blob}, 81, 0, 256)),
      b.initializer("scales", random_tensor(DType::f32, {n * blocks}, 82, 0.01, 0.1))};
  if (spec.zero_points == NBitsZeroPoints::packed) {
    const std::int64_t row_bytes = (blocks * bits + 7) / 8;
    inputs.push_back(
        b.initializer("zero_points", random_ints(DType::u8, {n * row_bytes}, 83, 0, 256)));
  } else if (spec.zero_points == NBitsZeroPoints::floats) {
    inputs.push_back(b.initializer("zero_points", random_tensor(DType::f32, {n * blocks}, 83, 0.0,
                                                                static_cast<double>(1 << bits))));
  }
  if (spec.bias) {
    if (spec.zero_points == NBitsZeroPoints::none) inputs.push_back("");
    inputs.push_back("");  // g_idx
    inputs.push_back(b.initializer("bias", random_tensor(DType::f32, {n}, 84)));
  }
  const std::string y =
      b.node("MatMulNBits", inputs,
             {{"K", k}, {"N", n}, {"bits", bits}, {"block_size", spec.block_size}}, "y");
  b.output(y, DType::f32, dims_of({3, n}));
  graph::Graph graph = b.build();
  for (graph::Node& node : graph.nodes) node.domain = "com.microsoft";
  return {spec.name, std::move(graph), {{"a", random_tensor(DType::f32, {3, k}, 85)}}};
}

// com.microsoft QLinearAdd (broadcast) feeding QLinearGlobalAveragePool.
TestModel qlinear_add_pool() {
  GraphBuilder b("qlinear_add_pool");
  const Shape x_shape{2, 6, 5, 5};
  const std::string x = b.input("x", DType::u8, dims_of(x_shape));
  const std::string xs = b.initializer("x_scale", scalar_f32(0.05f));
  const std::string xz = b.initializer("x_zero", scalar<std::uint8_t>(120));
  const std::string c = b.initializer("c", random_ints(DType::u8, {6, 1, 1}, 91, 0, 256));
  const std::string cs = b.initializer("c_scale", scalar_f32(0.03f));
  const std::string cz = b.initializer("c_zero", scalar<std::uint8_t>(128));
  const std::string ss = b.initializer("sum_scale", scalar_f32(0.07f));
  const std::string sz = b.initializer("sum_zero", scalar<std::uint8_t>(125));
  const std::string sum = b.node("QLinearAdd", {x, xs, xz, c, cs, cz, ss, sz}, {}, "sum");
  const std::string ps = b.initializer("pool_scale", scalar_f32(0.01f));
  const std::string pz = b.initializer("pool_zero", scalar<std::uint8_t>(128));
  const std::string pool = b.node("QLinearGlobalAveragePool", {sum, ss, sz, ps, pz}, {}, "pool");
  b.output(sum, DType::u8, dims_of(x_shape));
  b.output(pool, DType::u8, dims_of({2, 6, 1, 1}));
  graph::Graph graph = b.build();
  for (graph::Node& node : graph.nodes) node.domain = "com.microsoft";
  return {
      "qlinear_add_pool", std::move(graph), {{"x", random_ints(DType::u8, x_shape, 92, 0, 256)}}};
}

std::vector<TestModel> all_models(int s8_bits) {
  std::vector<TestModel> models;
  models.push_back(qdq_conv(s8_bits));
  models.push_back(qlinear_conv("qlinear_conv_u8", DType::u8, 2, 1, s8_bits));
  models.push_back(qlinear_conv("qlinear_conv_i8_depthwise", DType::i8, 8, 2, 8));
  models.push_back(qlinear_matmul("qlinear_matmul", false, s8_bits));
  models.push_back(qlinear_matmul("qlinear_matmul_per_column", true, s8_bits));
  models.push_back(matmul_integer());
  models.push_back(conv_integer());
  models.push_back(dynamic_quantize("dynamic_quantize", false));
  models.push_back(dynamic_quantize("dynamic_quantize_zeros", true));
  models.push_back(dynamic_linear(s8_bits));
  models.push_back(quantize_per_axis());
  models.push_back(matmul_nbits({"matmul_nbits", 64, 32, 4, NBitsZeroPoints::packed, false}));
  models.push_back(
      matmul_nbits({"matmul_nbits_partial_block_bias", 40, 16, 4, NBitsZeroPoints::none, true}));
  models.push_back(
      matmul_nbits({"matmul_nbits_float_zero_points", 64, 16, 4, NBitsZeroPoints::floats, false}));
  models.push_back(matmul_nbits({"matmul_nbits_8bit", 64, 32, 8, NBitsZeroPoints::packed, true}));
  models.push_back(matmul_nbits({"matmul_nbits_2bit", 64, 16, 2, NBitsZeroPoints::packed, false}));
  models.push_back(qlinear_add_pool());
  return models;
}

void write_model(const TestModel& model, const std::filesystem::path& dir, std::ostream& manifest) {
  const std::filesystem::path file = dir / (model.name + ".onnx");
  onnx_io::save_model(model.graph, file);
  std::filesystem::create_directories(dir / (model.name + ".in"));
  manifest << model.name;
  for (const auto& [name, tensor] : model.inputs) {
    write_npy(dir / (model.name + ".in") / (name + ".npy"), tensor);
    manifest << ' ' << name;
  }
  manifest << '\n';
  // Loaded back from the file, so that ONNX import is part of what is tested.
  runtime::SessionOptions options;
  options.backend = runtime::BackendKind::reference;
  options.threads = 1;
  runtime::Session session(onnx_io::load_model(file), options);
  const std::filesystem::path out_dir = dir / (model.name + ".edgeperf");
  std::filesystem::create_directories(out_dir);
  for (const auto& [name, tensor] : session.run(model.inputs)) {
    write_npy(out_dir / (name + ".npy"), tensor);
  }
}

}  // namespace
}  // namespace edgeperf

int main(int argc, char** argv) {
  const bool seven_bits =
      argc == 4 && std::string(argv[2]) == "--s8-weight-bits" && std::string(argv[3]) == "7";
  if (argc != 2 && !seven_bits) {
    std::cerr << "usage: quant_models_gen OUT_DIR [--s8-weight-bits 7]\n";
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    std::ofstream manifest(dir / "manifest.txt");
    for (const edgeperf::TestModel& model : edgeperf::all_models(seven_bits ? 7 : 8)) {
      edgeperf::with_error_context(model.name,
                                   [&] { edgeperf::write_model(model, dir, manifest); });
    }
  } catch (const std::exception& error) {
    std::cerr << "error: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
