// Gemm, MatMul, elementwise ops, Softmax, reductions, BatchNormalization, Cast.
#include <gtest/gtest.h>

#include <limits>

#include "edgeperf/core/random.h"
#include "op_tester.h"

namespace edgeperf::runtime::reference_test {
namespace {

TEST(ReferenceGemm, TransposesAlphaBetaAndBroadcastC) {
  const Tensor a = random_tensor(DType::f32, {3, 4}, 1);
  const Tensor b = random_tensor(DType::f32, {4, 5}, 2);
  for (int trans_a : {0, 1}) {
    for (int trans_b : {0, 1}) {
      for (const Shape& c_shape : {Shape{}, Shape{5}, Shape{3, 1}, Shape{3, 5}}) {
        const Tensor c = random_tensor(DType::f32, c_shape, 3);
        // Feed the transposed layouts the kernel is told about.
        Tensor at(DType::f32, trans_a ? Shape{4, 3} : Shape{3, 4});
        Tensor bt(DType::f32, trans_b ? Shape{5, 4} : Shape{4, 5});
        for (int i = 0; i < 3; ++i)
          for (int k = 0; k < 4; ++k)
            at.data<float>()[trans_a ? k * 3 + i : i * 4 + k] = a.data<float>()[i * 4 + k];
        for (int k = 0; k < 4; ++k)
          for (int j = 0; j < 5; ++j)
            bt.data<float>()[trans_b ? j * 4 + k : k * 5 + j] = b.data<float>()[k * 5 + j];
        OpTester tester("Gemm");
        tester.input(at)
            .constant(bt)
            .constant(c)
            .attr("transA", std::int64_t{trans_a})
            .attr("transB", std::int64_t{trans_b})
            .attr("alpha", 0.5f)
            .attr("beta", 2.0f);
        Tensor expected(DType::f32, {3, 5});
        const auto cs = c.to_doubles();
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 5; ++j) {
            double sum = 0;
            for (int k = 0; k < 4; ++k)
              sum += a.data<float>()[i * 4 + k] * b.data<float>()[k * 5 + j];
            double cv = c_shape.empty()       ? cs[0]
                        : c_shape.size() == 1 ? cs[j]
                        : c_shape[1] == 1     ? cs[i]
                                              : cs[i * 5 + j];
            expected.data<float>()[i * 5 + j] = static_cast<float>(0.5 * sum + 2.0 * cv);
          }
        expect_close(tester.run()[0], expected, 1e-5);
      }
    }
  }
  expect_error([&] { OpTester("Gemm").input(a).input(a).infer(); }, "inner dimensions differ");
}

Tensor naive_matmul(const Tensor& a, const Tensor& b) {  // 2-D only
  const std::int64_t m = a.dim(0), k = a.dim(1), n = b.dim(1);
  Tensor y(DType::f32, {m, n});
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (std::int64_t p = 0; p < k; ++p)
        sum += a.data<float>()[i * k + p] * b.data<float>()[p * n + j];
      y.data<float>()[i * n + j] = static_cast<float>(sum);
    }
  return y;
}

TEST(ReferenceMatMul, BatchBroadcastingAndVectors) {
  const Tensor a = random_tensor(DType::f32, {2, 1, 3, 4}, 1);
  const Tensor b = random_tensor(DType::f32, {3, 4, 5}, 2);
  OpTester tester("MatMul");
  tester.input(a).input(b);
  const Tensor y = tester.run()[0];
  ASSERT_EQ(y.shape(), (Shape{2, 3, 3, 5}));
  for (std::int64_t i = 0; i < 2; ++i) {
    for (std::int64_t j = 0; j < 3; ++j) {
      const Tensor am = make_tensor<float>({3, 4}, a.values<float>().subspan(i * 12, 12));
      const Tensor bm = make_tensor<float>({4, 5}, b.values<float>().subspan(j * 20, 20));
      const Tensor expected = naive_matmul(am, bm);
      const Tensor got =
          make_tensor<float>({3, 5}, y.values<float>().subspan((i * 3 + j) * 15, 15));
      expect_close(got, expected, 1e-5);
    }
  }
  // 1-D x 2-D, 2-D x 1-D, 1-D x 1-D.
  EXPECT_EQ(OpTester("MatMul")
                .input(f32({4}, {1, 2, 3, 4}))
                .input(Tensor(DType::f32, {2, 4, 3}))
                .infer()[0]
                .shape,
            (Shape{2, 3}));
  OpTester mv("MatMul");
  mv.input(f32({2, 3}, {1, 2, 3, 4, 5, 6})).input(f32({3}, {1, 0, -1}));
  expect_close(mv.run()[0], f32({2}, {-2, -2}));
  OpTester dot("MatMul");
  dot.input(f32({3}, {1, 2, 3})).input(f32({3}, {4, 5, 6}));
  expect_close(dot.run()[0], f32({}, {32}));
  expect_error(
      [] {
        OpTester("MatMul")
            .input(Tensor(DType::f32, {2, 3}))
            .input(Tensor(DType::f32, {4, 3}))
            .infer();
      },
      "inner dimensions");
  expect_error(
      [] {
        OpTester("MatMul")
            .input(Tensor(DType::f32, {2, 2, 3}))
            .input(Tensor(DType::f32, {3, 3, 4}))
            .infer();
      },
      "not broadcastable");
}

TEST(ReferenceBinary, BroadcastingAcrossDtypes) {
  OpTester add("Add");
  add.input(f32({2, 1, 3}, {1, 2, 3, 4, 5, 6})).input(f32({2, 1}, {10, 20}));
  expect_close(add.run()[0], f32({2, 2, 3}, {11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26}));
  OpTester mul("Mul");
  mul.input(i64({3}, {2, 3, 4})).input(i64({}, {-1}));
  EXPECT_EQ(values_of<std::int64_t>(mul.run()[0]), (std::vector<std::int64_t>{-2, -3, -4}));
  OpTester sub("Sub");
  sub.input(i32({1, 2}, {5, 5})).input(i32({2, 1}, {1, 2}));
  EXPECT_EQ(values_of<std::int32_t>(sub.run()[0]), (std::vector<std::int32_t>{4, 4, 3, 3}));
}

TEST(ReferenceBinary, IntegerDivisionTruncatesAndDivideByZeroIsAnError) {
  OpTester div("Div");
  div.input(i64({4}, {7, -7, 7, -7})).input(i64({4}, {2, 2, -2, -2}));
  EXPECT_EQ(values_of<std::int64_t>(div.run()[0]), (std::vector<std::int64_t>{3, -3, -3, 3}));
  OpTester zero("Div");
  zero.input(i32({2}, {1, 2})).input(i32({2}, {1, 0}));
  expect_error([&] { zero.run(); }, "integer division by zero");
  OpTester min_over_minus_one("Div");
  min_over_minus_one.input(i32({1}, {std::numeric_limits<std::int32_t>::min()}))
      .input(i32({1}, {-1}));
  EXPECT_EQ(values_of<std::int32_t>(min_over_minus_one.run()[0])[0],
            std::numeric_limits<std::int32_t>::min());
  OpTester fdiv("Div");
  fdiv.input(f32({3}, {1, 0, -1})).input(f32({3}, {0, 0, 0}));
  const auto y = fdiv.run()[0].to_doubles();
  EXPECT_TRUE(std::isinf(y[0]) && y[0] > 0);
  EXPECT_TRUE(std::isnan(y[1]));
}

TEST(ReferenceBinary, ModTakesTheDivisorsSignAndFmodTheDividends) {
  // The spec's examples: Mod(-4, 3) = 2 (fmod=0); fmod(-4, 3) = -1.
  OpTester mod("Mod");
  mod.input(i64({6}, {-4, 7, -3, 5, 4, -5})).input(i64({6}, {3, -3, 2, 2, 2, -3}));
  EXPECT_EQ(values_of<std::int64_t>(mod.run()[0]), (std::vector<std::int64_t>{2, -2, 1, 1, 0, -2}));
  OpTester fmod_int("Mod");
  fmod_int.attr("fmod", std::int64_t{1});
  fmod_int.input(i32({3}, {-4, 7, -3})).input(i32({3}, {3, -3, 2}));
  EXPECT_EQ(values_of<std::int32_t>(fmod_int.run()[0]), (std::vector<std::int32_t>{-1, 1, -1}));
  OpTester fmod_float("Mod");
  fmod_float.attr("fmod", std::int64_t{1});
  fmod_float.input(f32({3}, {-4.5f, 7.5f, 5.f})).input(f32({1}, {2.f}));
  expect_close(fmod_float.run()[0], f32({3}, {-0.5f, 1.5f, 1.f}));
  OpTester float_needs_fmod("Mod");
  float_needs_fmod.input(f32({1}, {1.f})).input(f32({1}, {2.f}));
  expect_error([&] { float_needs_fmod.run(); }, "needs fmod=1");
  OpTester zero("Mod");
  zero.input(i64({1}, {3})).input(i64({1}, {0}));
  expect_error([&] { zero.run(); }, "integer modulo by zero");
}

TEST(ReferenceBinary, ComparisonsWhereAndPow) {
  OpTester less("Less");
  less.input(f32({3}, {1, 2, NAN})).input(f32({1}, {2}));
  EXPECT_EQ(values_of<bool>(less.run()[0]), (std::vector<bool>{true, false, false}));
  OpTester equal("Equal");
  equal.input(i64({2}, {3, 4})).input(i64({2}, {3, 5}));
  EXPECT_EQ(values_of<bool>(equal.run()[0]), (std::vector<bool>{true, false}));
  OpTester where("Where");
  where.input(make_tensor<bool>({2, 1}, {true, false})).input(f32({2}, {1, 2})).input(f32({}, {9}));
  expect_close(where.run()[0], f32({2, 2}, {1, 2, 9, 9}));
  OpTester pow("Pow");
  pow.input(f32({3}, {2, 3, -2})).constant(i64({}, {2}));
  expect_close(pow.run()[0], f32({3}, {4, 9, 4}));
}

TEST(ReferenceVariadic, SumMeanMaxMin) {
  OpTester sum("Sum");
  sum.input(f32({2}, {1, 2})).input(f32({}, {10})).input(f32({2, 1}, {100, 200}));
  expect_close(sum.run()[0], f32({2, 2}, {111, 112, 211, 212}));
  OpTester mean("Mean");
  mean.input(f32({2}, {1, 2})).input(f32({2}, {3, 6}));
  expect_close(mean.run()[0], f32({2}, {2, 4}));
  OpTester max("Max");
  max.input(i64({3}, {1, 5, 3})).input(i64({1}, {2})).input(i64({3}, {0, 0, 4}));
  EXPECT_EQ(values_of<std::int64_t>(max.run()[0]), (std::vector<std::int64_t>{2, 5, 4}));
  OpTester single("Min");
  single.input(f32({2}, {3, NAN}));
  const auto y = single.run()[0].to_doubles();
  EXPECT_EQ(y[0], 3);
  EXPECT_TRUE(std::isnan(y[1]));
  expect_error(
      [] {
        OpTester("Sum").input(f32({2}, {1, 2})).input(f32({3}, {1, 2, 3})).infer();
      },
      "not broadcastable");
}

TEST(ReferenceBinary, InferErrors) {
  expect_error(
      [] {
        OpTester("Add").input(f32({2}, {1, 2})).input(f32({3}, {1, 2, 3})).infer();
      },
      "not broadcastable");
  expect_error(
      [] {
        OpTester("Add").input(f32({2}, {1, 2})).input(i64({2}, {1, 2})).infer();
      },
      "different dtypes");
  expect_error(
      [] {
        OpTester("Add").input(f32({2}, {1, 2})).infer();
      },
      "'node' (Add): expects 2 to 2 inputs");
  expect_error(
      [] {
        OpTester("Add")
            .input(make_tensor<bool>({1}, {true}))
            .input(make_tensor<bool>({1}, {true}))
            .infer();
      },
      "unsupported dtype");
}

TEST(ReferenceUnary, Activations) {
  const Tensor x = f32({6}, {-3, -1, 0, 0.5f, 4, NAN});
  auto run = [&](const char* op) {
    OpTester tester(op);
    tester.input(x);
    return tester.run()[0].to_doubles();
  };
  auto relu = run("Relu");
  EXPECT_EQ(relu[0], 0);
  EXPECT_EQ(relu[4], 4);
  EXPECT_TRUE(std::isnan(relu[5]));
  const auto hard_swish = run("HardSwish");
  EXPECT_NEAR(hard_swish[1], -1 * (-1 / 6.0 + 0.5), 1e-6);
  EXPECT_EQ(hard_swish[0], 0);
  EXPECT_NEAR(hard_swish[4], 4, 1e-6);
  const auto sigmoid = run("Sigmoid");
  EXPECT_NEAR(sigmoid[2], 0.5, 1e-7);
  EXPECT_NEAR(run("Tanh")[3], std::tanh(0.5), 1e-6);
  EXPECT_NEAR(run("HardSigmoid")[1], 0.3, 1e-6);
  OpTester leaky("LeakyRelu");
  leaky.input(x).attr("alpha", 0.1f);
  EXPECT_NEAR(leaky.run()[0].to_doubles()[0], -0.3, 1e-6);
  OpTester clip("Clip");
  clip.input(x).constant(f32({}, {-1.5f})).constant(f32({}, {1}));
  const auto clipped = clip.run()[0].to_doubles();
  EXPECT_EQ(clipped[0], -1.5);
  EXPECT_EQ(clipped[4], 1);
  EXPECT_TRUE(std::isnan(clipped[5]));
  OpTester clip_max_only("Clip");
  clip_max_only.input(i64({3}, {-5, 0, 5})).absent().constant(i64({}, {2}));
  EXPECT_EQ(values_of<std::int64_t>(clip_max_only.run()[0]), (std::vector<std::int64_t>{-5, 0, 2}));
  OpTester clip6("Clip");  // opset 6: attributes
  clip6.input(x).attr("min", 0.0f).attr("max", 1.0f);
  EXPECT_EQ(clip6.run()[0].to_doubles()[4], 1.0);
}

TEST(ReferenceSoftmax, Opset13AxisAndOpset11Coercion) {
  const Tensor x = f32({2, 3}, {1, 2, 3, 1, 1, 1});
  OpTester last("Softmax");
  last.input(x);
  const double e = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
  expect_close(last.run()[0], f32({2, 3}, {float(e / (e + e2 + e3)), float(e2 / (e + e2 + e3)),
                                           float(e3 / (e + e2 + e3)), 1 / 3.f, 1 / 3.f, 1 / 3.f}));
  OpTester axis0("Softmax");
  axis0.input(x).attr("axis", std::int64_t{0});
  expect_close(axis0.run()[0],
               f32({2, 3}, {float(e / (e + e)), float(e2 / (e2 + e)), float(e3 / (e3 + e)),
                            float(e / (e + e)), float(e / (e2 + e)), float(e / (e3 + e))}));
  // Opset 11, axis 1 on [1, 2, 2]: normalizes over all 4 trailing values together.
  OpTester coerced("Softmax");
  coerced.input(f32({1, 2, 2}, {0, 0, 0, 0})).opset(11);
  expect_close(coerced.run()[0], f32({1, 2, 2}, {0.25f, 0.25f, 0.25f, 0.25f}));
  OpTester opset13("Softmax");
  opset13.input(f32({1, 2, 2}, {0, 0, 0, 0}));
  expect_close(opset13.run()[0], f32({1, 2, 2}, {0.5f, 0.5f, 0.5f, 0.5f}));
  OpTester big("Softmax");
  big.input(f32({2}, {1000, 1000}));
  expect_close(big.run()[0], f32({2}, {0.5f, 0.5f}));
}

TEST(ReferenceReduce, MeanSumMaxArgMax) {
  const Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  OpTester mean("ReduceMean");
  mean.input(x).attr("axes", std::vector<std::int64_t>{1});
  expect_close(mean.run()[0], f32({2, 1}, {2, 5}));
  OpTester mean_all("ReduceMean");
  mean_all.input(x).attr("keepdims", std::int64_t{0});
  expect_close(mean_all.run()[0], f32({}, {3.5f}));
  OpTester sum("ReduceSum");  // opset 13: axes input
  sum.input(x).constant(i64({1}, {-2})).attr("keepdims", std::int64_t{0});
  expect_close(sum.run()[0], f32({3}, {5, 7, 9}));
  OpTester noop("ReduceSum");
  noop.input(x).constant(i64({0}, {})).attr("noop_with_empty_axes", std::int64_t{1});
  expect_close(noop.run()[0], x);
  OpTester max("ReduceMax");
  max.input(i64({2, 2}, {1, 9, 7, 3})).attr("axes", std::vector<std::int64_t>{0});
  EXPECT_EQ(values_of<std::int64_t>(max.run()[0]), (std::vector<std::int64_t>{7, 9}));
  OpTester argmax("ArgMax");
  argmax.input(f32({2, 3}, {1, 5, 5, 7, 0, 7})).attr("axis", std::int64_t{1});
  EXPECT_EQ(values_of<std::int64_t>(argmax.run()[0]), (std::vector<std::int64_t>{1, 0}));
  OpTester argmax_last("ArgMax");
  argmax_last.input(f32({2, 3}, {1, 5, 5, 7, 0, 7}))
      .attr("axis", std::int64_t{1})
      .attr("select_last_index", std::int64_t{1})
      .attr("keepdims", std::int64_t{0});
  EXPECT_EQ(values_of<std::int64_t>(argmax_last.run()[0]), (std::vector<std::int64_t>{2, 2}));
  expect_error(
      [&] { OpTester("ReduceMean").input(x).attr("axes", std::vector<std::int64_t>{2}).infer(); },
      "out of range");
  expect_error([&] { OpTester("ReduceSum").input(x).input(i64({1}, {0})).infer(); },
               "must be known before the run");
}

TEST(ReferenceBatchNormalization, MatchesFormula) {
  OpTester bn("BatchNormalization");
  bn.input(f32({1, 2, 1, 2}, {1, 2, 3, 4}))
      .constant(f32({2}, {1, 2}))
      .constant(f32({2}, {0, 1}))
      .constant(f32({2}, {1, 3}))
      .constant(f32({2}, {4, 1}))
      .attr("epsilon", 0.0f);
  expect_close(bn.run()[0], f32({1, 2, 1, 2}, {0, 0.5f, 1, 3}));
  expect_error(
      [] {
        OpTester("BatchNormalization")
            .input(f32({1, 2}, {1, 2}))
            .constant(f32({3}, {1, 1, 1}))
            .constant(f32({2}, {0, 0}))
            .constant(f32({2}, {0, 0}))
            .constant(f32({2}, {1, 1}))
            .infer();
      },
      "scale");
}

TEST(ReferenceNormalization, LayerAndInstance) {
  OpTester layer("LayerNormalization");
  layer.input(f32({2, 2}, {1, 3, 2, 4}))
      .constant(f32({2}, {1, 2}))
      .constant(f32({2}, {0, 1}))
      .attr("epsilon", 0.0f);
  expect_close(layer.run()[0], f32({2, 2}, {-1, 3, -1, 3}));
  OpTester instance("InstanceNormalization");
  instance.input(f32({1, 2, 2}, {1, 3, 5, 7}))
      .constant(f32({2}, {2, 1}))
      .constant(f32({2}, {0, 7}))
      .attr("epsilon", 0.0f);
  expect_close(instance.run()[0], f32({1, 2, 2}, {-2, 2, 6, 8}));
}

TEST(ReferenceCast, AllPairsNanAndBool) {
  OpTester to_int("Cast");
  to_int.input(f32({6}, {NAN, INFINITY, -INFINITY, 2.7f, -2.7f, 3e10f}))
      .attr("to", std::int64_t{6});
  EXPECT_EQ(values_of<std::int32_t>(to_int.run()[0]),
            (std::vector<std::int32_t>{0, std::numeric_limits<std::int32_t>::max(),
                                       std::numeric_limits<std::int32_t>::min(), 2, -2,
                                       std::numeric_limits<std::int32_t>::max()}));
  OpTester to_bool("Cast");
  to_bool.input(f32({3}, {0, NAN, -0.5f})).attr("to", std::int64_t{9});
  EXPECT_EQ(values_of<bool>(to_bool.run()[0]), (std::vector<bool>{false, true, true}));
  OpTester to_half("Cast");
  to_half.input(f32({3}, {1.5f, NAN, 65536.0f})).attr("to", std::int64_t{10});
  const Tensor half = to_half.run()[0];
  EXPECT_EQ(half.data<std::uint16_t>()[0], float_to_half(1.5f));
  OpTester back("Cast");
  back.input(half).attr("to", std::int64_t{1});
  const auto floats = back.run()[0].to_doubles();
  EXPECT_EQ(floats[0], 1.5);
  EXPECT_TRUE(std::isnan(floats[1]));
  EXPECT_TRUE(std::isinf(floats[2]));
  OpTester narrow("Cast");
  narrow.input(i64({2}, {300, -1})).attr("to", std::int64_t{2});
  EXPECT_EQ(values_of<std::uint8_t>(narrow.run()[0]), (std::vector<std::uint8_t>{44, 255}));
  OpTester from_bool("Cast");
  from_bool.input(make_tensor<bool>({2}, {true, false})).attr("to", std::int64_t{1});
  expect_close(from_bool.run()[0], f32({2}, {1, 0}));
  // Every dtype pair round-trips small integers.
  const std::int64_t codes[] = {1, 2, 3, 6, 7, 10};
  for (std::int64_t from : codes) {
    for (std::int64_t to : codes) {
      OpTester first("Cast");
      first.input(f32({3}, {0, 1, 100})).attr("to", from);
      OpTester second("Cast");
      second.input(first.run()[0]).attr("to", to);
      OpTester third("Cast");
      third.input(second.run()[0]).attr("to", std::int64_t{1});
      expect_close(third.run()[0], f32({3}, {0, 1, 100}));
    }
  }
  expect_error([] { OpTester("Cast").input(f32({1}, {1})).attr("to", std::int64_t{8}).infer(); },
               "not supported");
}

}  // namespace
}  // namespace edgeperf::runtime::reference_test
