// Transpose in the oneDNN region (ops/transpose.cpp) against the reference backend. A
// Transpose whose input, read in the output's axis order, is plain or channels-last is a
// view of the same bytes: ConvNeXt's NHWC <-> NCHW permutes around its MatMuls cost no
// copy, in f32 and on dequantized int8 values. Other orders are one reorder.
#include "qdq_builder.h"

namespace edgeperf::runtime {
namespace {

using namespace qdq_test;  // NOLINT(google-build-using-namespace)

using Ints = std::vector<std::int64_t>;

// The largest difference relative to the reference's largest magnitude.
double relative_diff(const RunResult& result) {
  return compare(result.onednn, result.reference, max_abs(result.reference)).max_lsb;
}

constexpr std::int64_t kChannels = 16, kHidden = 24, kHeight = 5, kWidth = 6;

// Reorders made for Transpose nodes (a reorder is attributed to the node that needs it).
std::size_t transpose_reorders(const RunResult& result) {
  std::size_t count = 0;
  for (const StepInfo& step : result.steps) {
    for (const KernelPart& part : step.parts) {
      if (part.kind != "reorder") continue;
      for (std::size_t node : part.nodes) count += step.ops.at(node) == "Transpose";
    }
  }
  return count;
}

std::string transpose(QdqBuilder& model, const std::string& x, const Ints& perm) {
  return model.node("Transpose", {x}, {{"perm", perm}});
}

// ConvNeXt's block in f32: NCHW -> NHWC, MatMul over channels, back to NCHW, a
// per-channel scale, NHWC again, MatMul. The first permute reads the plain input
// (a copy); the other two are views.
graph::Graph f32_model(std::int64_t batch) {
  QdqBuilder model(3);
  const std::string x = model.input({batch, kChannels, kHeight, kWidth});
  const std::string rows = transpose(model, x, {0, 2, 3, 1});
  const std::string hidden =
      model.node("MatMul", {rows, model.constant({kChannels, kHidden}, -0.3f, 0.3f)});
  const std::string planes = transpose(model, hidden, {0, 3, 1, 2});
  const std::string scaled =
      model.node("Mul", {planes, model.constant({kHidden, 1, 1}, 0.5f, 1.5f)});
  const std::string back = transpose(model, scaled, {0, 2, 3, 1});
  const std::string y =
      model.node("MatMul", {back, model.constant({kHidden, kChannels}, -0.3f, 0.3f)});
  return model.finish(y, DType::f32);
}

TEST(OnednnTranspose, PermutesAroundMatMulsAreViews) {
  for (std::int64_t batch : {1, 2}) {
    for (int threads : {1, 2}) {
      const graph::Graph graph = f32_model(batch);
      const RunResult result = run_both(graph, threads);
      SCOPED_TRACE(::testing::Message() << batch << " images, " << threads << " threads");
      EXPECT_TRUE(all_onednn(result));
      EXPECT_LE(relative_diff(result), 1e-5);
      EXPECT_EQ(transpose_reorders(result), 1u);
    }
  }
}

// Orders whose view would be neither plain nor channels-last are copied (one reorder).
TEST(OnednnTranspose, OtherOrdersAreOneReorder) {
  for (const Ints& perm : {Ints{0, 3, 2, 1}, Ints{2, 0, 1, 3}, Ints{3, 2, 1, 0}}) {
    QdqBuilder model(5);
    const std::string x = model.input({2, kChannels, kHeight, kWidth});
    const std::string hidden =
        model.node("MatMul", {x, model.constant({kWidth, kWidth}, -0.3f, 0.3f)});
    const std::string y = model.node("Relu", {transpose(model, hidden, perm)});
    const graph::Graph graph = model.finish(y, DType::f32);
    const RunResult result = run_both(graph);
    SCOPED_TRACE(::testing::PrintToString(perm));
    EXPECT_LE(relative_diff(result), 1e-5);
    EXPECT_EQ(transpose_reorders(result), 1u);
  }
}

// The same block quantized as `edgeperf quantize` writes it: the int8 conv's output is
// transposed as bytes (QuantizeLinear after it with the same parameters is free), the
// int8 MatMul reads them, and its quantized output is transposed back the same way.
graph::Graph int8_model(DType type, std::int64_t batch, bool view_escapes) {
  QdqBuilder model(7);
  const bool u8 = type == DType::u8;
  const std::string x = model.input({batch, kChannels, kHeight, kWidth});
  const auto input = model.qdq(x, kInputScale, u8 ? 128 : 0, type);
  const std::string conv = model.conv(input, kChannels, kChannels, 3, 1, 1, kChannels, true);
  const auto conv_q = model.qdq(conv, 3.0f / 255.0f, u8 ? 120 : -8, type);
  const std::string rows = transpose(model, conv_q.name, {0, 2, 3, 1});
  const auto rows_q = model.qdq(rows, conv_q.scale, conv_q.zero_point, type);
  const std::string hidden = model.matmul(rows_q, kChannels, kHidden, true, false);
  const auto hidden_q = model.qdq(hidden, 4.0f / 255.0f, u8 ? 100 : -20, type);
  const std::string planes = transpose(model, hidden_q.name, {0, 3, 1, 2});
  std::string y = model.qdq(planes, hidden_q.scale, hidden_q.zero_point, type).name;
  // A reader of the transposed rows in f32 needs their values: from the int8 view.
  if (view_escapes)
    y = model.node("Add", {y, model.node("ReduceMean", {rows}, {{"axes", Ints{1, 2, 3}}})});
  return model.finish(y, DType::f32);
}

TEST(OnednnTranspose, DequantizedValuesAreTransposedAsBytes) {
  for (DType type : {DType::u8, DType::i8}) {
    for (std::int64_t batch : {1, 2}) {
      for (bool view_escapes : {false, true}) {
        for (int threads : {1, 2}) {
          const graph::Graph graph = int8_model(type, batch, view_escapes);
          const RunResult result = run_both(graph, threads);
          SCOPED_TRACE(::testing::Message()
                       << dtype_name(type) << " " << batch << " images, "
                       << (view_escapes ? "escaping view, " : "") << threads << " threads");
          const Comparison diff = compare(result.onednn, result.reference, 4.0 / 255.0);
          EXPECT_LE(diff.max_lsb, 1.0 + 1e-3);
          // An escaping view leaves the region in f32: one dequantizing reorder.
          if (x86_onednn()) {
            EXPECT_EQ(transpose_reorders(result), view_escapes ? 1u : 0u);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace edgeperf::runtime
