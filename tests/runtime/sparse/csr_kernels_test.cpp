// The CSR kernels against plain loops over the dense weights.
#include "csr_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sparse_test_util.h"

namespace edgeperf::runtime::sparse {
namespace {

using testing::sparse_weights;

struct Case {
  std::int64_t rows, columns, pixels;
  double density;
};

std::vector<float> to_vector(const Tensor& tensor) {
  return {tensor.values<float>().begin(), tensor.values<float>().end()};
}

// out[i, r, p] = act(bias[r] + sum_c w[r, c] * in[i, c, p]), in double.
std::vector<float> naive_conv(const std::vector<float>& w, const std::vector<float>& bias,
                              const std::vector<float>& in, std::int64_t images, std::int64_t rows,
                              std::int64_t columns, std::int64_t pixels, bool relu) {
  std::vector<float> out(static_cast<std::size_t>(images * rows * pixels));
  for (std::int64_t i = 0; i < images; ++i) {
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t p = 0; p < pixels; ++p) {
        double sum = bias.empty() ? 0.0 : bias[r];
        for (std::int64_t c = 0; c < columns; ++c) {
          sum += static_cast<double>(w[r * columns + c]) * in[(i * columns + c) * pixels + p];
        }
        out[(i * rows + r) * pixels + p] = static_cast<float>(relu ? std::max(sum, 0.0) : sum);
      }
    }
  }
  return out;
}

void expect_near_all(const std::vector<float>& actual, const std::vector<float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_NEAR(actual[i], expected[i], 1e-4) << "at element " << i;
  }
}

class ConvSweep : public ::testing::TestWithParam<Case> {};

TEST_P(ConvSweep, MatchesDenseLoops) {
  const Case c = GetParam();
  const std::int64_t images = 2;
  const std::vector<float> w =
      to_vector(sparse_weights({c.rows, c.columns}, c.density, 11, c.columns, {0, c.rows - 1}));
  const std::vector<float> bias = to_vector(random_tensor(DType::f32, {c.rows}, 5));
  const std::vector<float> in =
      to_vector(random_tensor(DType::f32, {images, c.columns, c.pixels}, 3));
  for (bool relu : {false, true}) {
    for (int threads : {1, 2, 3}) {
      const CsrWeights csr =
          make_csr(w, c.rows, c.columns, relu ? bias : std::vector<float>{}, relu);
      std::vector<float> out(static_cast<std::size_t>(images * c.rows * c.pixels), -7.0f);
      conv1x1_nchw(csr, in.data(), out.data(), images, c.pixels, threads);
      SCOPED_TRACE(::testing::Message() << "relu " << relu << " threads " << threads);
      expect_near_all(out, naive_conv(w, relu ? bias : std::vector<float>{}, in, images, c.rows,
                                      c.columns, c.pixels, relu));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ShapesAndDensities, ConvSweep,
                         ::testing::Values(Case{8, 16, 64, 0.0}, Case{8, 16, 64, 0.05},
                                           Case{13, 17, 1, 0.2}, Case{13, 17, 15, 0.5},
                                           Case{13, 17, 17, 1.0}, Case{5, 3, 49, 0.2},
                                           Case{32, 64, 196, 0.2}, Case{7, 9, 130, 0.5},
                                           Case{3, 1, 200, 1.0}, Case{64, 32, 784, 0.05}));

class FullyConnectedSweep : public ::testing::TestWithParam<Case> {};

// Case::pixels is the batch here.
TEST_P(FullyConnectedSweep, MatchesDenseLoops) {
  const Case c = GetParam();
  const std::vector<float> w =
      to_vector(sparse_weights({c.rows, c.columns}, c.density, 21, c.columns, {c.rows / 2}));
  const std::vector<float> bias = to_vector(random_tensor(DType::f32, {c.rows}, 6));
  const std::vector<float> a = to_vector(random_tensor(DType::f32, {c.pixels, c.columns}, 4));
  for (bool relu : {false, true}) {
    for (int threads : {1, 2}) {
      const CsrWeights csr = make_csr(w, c.rows, c.columns, bias, relu);
      std::vector<float> out(static_cast<std::size_t>(c.pixels * c.rows), -7.0f);
      std::vector<float> padded(static_cast<std::size_t>(c.pixels * csr.padded_columns()), -3.0f);
      fully_connected(csr, a.data(), out.data(), c.pixels, padded.data(), threads);
      std::vector<float> expected(out.size());
      for (std::int64_t m = 0; m < c.pixels; ++m) {
        for (std::int64_t r = 0; r < c.rows; ++r) {
          double sum = bias[r];
          for (std::int64_t k = 0; k < c.columns; ++k) {
            sum += static_cast<double>(w[r * c.columns + k]) * a[m * c.columns + k];
          }
          expected[m * c.rows + r] = static_cast<float>(relu ? std::max(sum, 0.0) : sum);
        }
      }
      SCOPED_TRACE(::testing::Message() << "relu " << relu << " threads " << threads);
      expect_near_all(out, expected);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ShapesAndDensities, FullyConnectedSweep,
                         ::testing::Values(Case{10, 7, 1, 0.0}, Case{10, 7, 1, 0.05},
                                           Case{100, 51, 1, 0.2}, Case{33, 130, 3, 0.5},
                                           Case{9, 5, 2, 1.0}, Case{1000, 512, 1, 0.2}));

TEST(CsrWeights, DropsZerosAndCountsThem) {
  const std::vector<float> dense = {0, 2, 0, 0, 0, 0, -1, 0, 3};
  const CsrWeights csr = make_csr(dense, 3, 3, {}, false);
  EXPECT_EQ(csr.nonzeros(), 3u);
  EXPECT_NEAR(csr.density(), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(csr.row_begin, (std::vector<std::uint32_t>{0, 1, 1, 3}));
  EXPECT_EQ(csr.column, (std::vector<std::uint32_t>{1, 0, 2}));
}

TEST(CsrWeights, RejectsMismatchedSizes) {
  const std::vector<float> dense(6, 1.0f);
  EXPECT_THROW(make_csr(dense, 4, 2, {}, false), Error);
  EXPECT_THROW(make_csr(dense, 3, 2, {1.0f}, false), Error);
}

TEST(Subsample, TakesEveryStridedPixel) {
  // One 3x5 plane, strides 2 x 2 -> 2 x 3.
  std::vector<float> in(15);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i);
  std::vector<float> out(6, -1.0f);
  subsample(in.data(), out.data(), 1, 3, 5, 2, 2, 1);
  EXPECT_EQ(out, (std::vector<float>{0, 2, 4, 10, 12, 14}));
}

}  // namespace
}  // namespace edgeperf::runtime::sparse
