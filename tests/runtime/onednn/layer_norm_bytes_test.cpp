// LayerNormBytes (the version this CPU runs, or the one EDGEPERF_MAX_ISA leaves) against
// the scalar oracle: row sizes around the vector widths, rows around the row blocks, u8
// and s8 on either side, zero points, several threads. Float against the oracle's double
// may round a level differently, never by more than one.
#include "layer_norm_bytes.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace edgeperf::runtime::onednn {
namespace {

LayerNormBytesParams make_params(std::int64_t rows, std::int64_t size, bool in_signed,
                                 bool out_signed, std::mt19937& rng) {
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  LayerNormBytesParams params;
  params.rows = rows;
  params.size = size;
  params.epsilon = 1e-6f;
  params.in = {0.02f, in_signed ? 3 : 121, in_signed};
  params.out = {0.03f, out_signed ? -2 : 128, out_signed};
  for (std::int64_t i = 0; i < size; ++i) {
    params.gamma.push_back(1.0f + 0.5f * unit(rng));
    params.beta.push_back(0.3f * unit(rng));
  }
  return params;
}

TEST(LayerNormBytes, MatchesTheScalarOracleWithinOneLevel) {
  std::mt19937 rng(3);
  std::printf("layer norm ISA: %s\n", LayerNormBytes(make_params(1, 4, false, false, rng)).isa());
  int cases = 0;
  for (std::int64_t size : {1, 2, 15, 16, 17, 31, 32, 33, 96, 100, 384}) {
    for (std::int64_t rows : {1, 5, 33, 70}) {
      for (int types = 0; types < 4; ++types) {
        const LayerNormBytesParams params = make_params(rows, size, types & 1, types & 2, rng);
        std::vector<std::uint8_t> src(static_cast<std::size_t>(rows * size));
        for (std::uint8_t& byte : src) byte = static_cast<std::uint8_t>(rng());
        std::vector<std::uint8_t> expected(src.size()), actual(src.size(), 0xAB);
        layer_norm_bytes_scalar(params, src.data(), expected.data());
        LayerNormBytes(params).run(src.data(), actual.data(), 1 + cases++ % 3);
        int off_by_one = 0;
        for (std::size_t i = 0; i < src.size(); ++i) {
          const int a = types & 2 ? static_cast<std::int8_t>(actual[i]) : actual[i];
          const int e = types & 2 ? static_cast<std::int8_t>(expected[i]) : expected[i];
          ASSERT_LE(std::abs(a - e), 1)
              << size << " x " << rows << ", types " << types << ", element " << i;
          off_by_one += a != e;
        }
        EXPECT_LE(off_by_one, static_cast<int>(src.size()) / 100 + 1)
            << size << " x " << rows << ", types " << types;
      }
    }
  }
}

// A row of one repeated value has no variance: every output is beta, quantized.
TEST(LayerNormBytes, ConstantRowsGiveBeta) {
  std::mt19937 rng(4);
  LayerNormBytesParams params = make_params(3, 40, false, false, rng);
  const std::vector<std::uint8_t> src(3 * 40, 200);
  std::vector<std::uint8_t> actual(src.size());
  LayerNormBytes(params).run(src.data(), actual.data(), 2);
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const float beta = params.beta[i % 40];
    EXPECT_NEAR(actual[i], std::nearbyint(beta / params.out.scale) + params.out.zero_point, 1.0)
        << i;
  }
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
