// GatherElements, CumSum and Einsum: the ONNX spec's examples, edge cases and errors
// (ORT parity of the same ops is in tests/e2e/ops_parity.py).
#include <gtest/gtest.h>

#include "op_tester.h"

namespace edgeperf::runtime::reference_test {
namespace {

TEST(ReferenceGatherElements, SpecExamplesAndErrors) {
  OpTester axis1("GatherElements");
  axis1.input(i64({2, 2}, {1, 2, 3, 4}))
      .input(i64({2, 2}, {0, 0, 1, 0}))
      .attr("axis", std::int64_t{1});
  EXPECT_EQ(values_of<std::int64_t>(axis1.run()[0]), (std::vector<std::int64_t>{1, 1, 4, 3}));
  OpTester axis0("GatherElements");
  axis0.input(f32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9})).input(i32({2, 3}, {1, 2, 0, 2, 0, -3}));
  expect_close(axis0.run()[0], f32({2, 3}, {4, 8, 3, 7, 2, 3}));
  expect_error(
      [] {
        OpTester("GatherElements").input(f32({2}, {1, 2})).input(i64({1}, {2})).run();
      },
      "index 2 is out of range for axis 0 of size 2");
  expect_error(
      [] {
        OpTester("GatherElements").input(f32({2}, {1, 2})).input(i64({1, 1}, {0})).infer();
      },
      "need the same rank");
}

TEST(ReferenceCumSum, ExclusiveAndReverse) {
  const Tensor x = f32({5}, {1, 2, 3, 4, 5});
  const auto cumsum = [&](std::int64_t exclusive, std::int64_t reverse) {
    OpTester op("CumSum");
    op.input(x).constant(i64({}, {0})).attr("exclusive", exclusive).attr("reverse", reverse);
    return op.run()[0];
  };
  expect_close(cumsum(0, 0), f32({5}, {1, 3, 6, 10, 15}));
  expect_close(cumsum(1, 0), f32({5}, {0, 1, 3, 6, 10}));
  expect_close(cumsum(0, 1), f32({5}, {15, 14, 12, 9, 5}));
  expect_close(cumsum(1, 1), f32({5}, {14, 12, 9, 5, 0}));
  OpTester rows("CumSum");
  rows.input(i64({2, 3}, {1, 2, 3, 4, 5, 6})).constant(i32({1}, {-1}));
  EXPECT_EQ(values_of<std::int64_t>(rows.run()[0]), (std::vector<std::int64_t>{1, 3, 6, 4, 9, 15}));
  EXPECT_THROW(OpTester("CumSum").input(x).input(i64({}, {0})).infer(), DataDependentShape);
}

Tensor einsum(const std::string& equation, std::vector<Tensor> inputs) {
  OpTester op("Einsum");
  for (Tensor& input : inputs) op.input(std::move(input));
  op.attr("equation", equation);
  return op.run()[0];
}

TEST(ReferenceEinsum, ContractionsDiagonalsAndBroadcast) {
  const Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = f32({3, 2}, {1, 0, 0, 1, 1, 1});
  expect_close(einsum("ij,jk->ik", {a, b}), f32({2, 2}, {4, 5, 10, 11}));
  expect_close(einsum("ij,jk", {a, b}), f32({2, 2}, {4, 5, 10, 11}));  // implicit output ik
  expect_close(einsum("ij->ji", {a}), f32({3, 2}, {1, 4, 2, 5, 3, 6}));
  expect_close(einsum("ij->", {a}), f32({}, {21}));
  const Tensor square = f32({2, 2}, {1, 2, 3, 4});
  expect_close(einsum("ii->i", {square}), f32({2}, {1, 4}));
  expect_close(einsum("ii", {square}), f32({}, {5}));
  // "..." broadcasts a size-1 leading dim against 2.
  const Tensor batch1 = f32({1, 2, 2}, {1, 0, 0, 1});
  const Tensor batch2 = f32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  expect_close(einsum("...ij,...jk->...ik", {batch1, batch2}), batch2);
}

TEST(ReferenceEinsum, Errors) {
  const Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_error([&] { einsum("ij,jk->ik", {a}); }, "has 2 terms for 1 inputs");
  expect_error(
      [&] {
        einsum("ij,ij->i", {a, f32({3, 2}, {0, 0, 0, 0, 0, 0})});
      },
      "label 'i' has size 3 in input 1 but 2 elsewhere");
  expect_error([&] { einsum("ijk->i", {a}); }, "does not match an operand of rank 2");
  expect_error([&] { einsum("i1->i", {a}); }, "'1' is not a label letter");
  expect_error([&] { einsum("ij->iz", {a}); }, "output label 'z' is in no input");
}

}  // namespace
}  // namespace edgeperf::runtime::reference_test
