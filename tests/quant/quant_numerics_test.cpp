// Numerics of quantization: method parsing, streaming statistics, range methods,
// quantization parameters and the calibration loop.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>

#include "edgeperf/core/random.h"
#include "edgeperf/graph/builder.h"
#include "edgeperf/quant/calibration.h"
#include "edgeperf/quant/qparams.h"

namespace edgeperf::quant {
namespace {

using graph::Dim;

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

Tensor gaussian_with_outliers(std::size_t count, std::size_t outliers, float outlier_value) {
  std::mt19937 generator(7);
  std::normal_distribution<float> normal(0.0F, 1.0F);
  Tensor x(DType::f32, {static_cast<std::int64_t>(count + outliers)});
  float* values = x.data<float>();
  for (std::size_t i = 0; i < count; ++i) values[i] = normal(generator);
  for (std::size_t i = 0; i < outliers; ++i) {
    values[count + i] = i % 2 == 0 ? outlier_value : -outlier_value;
  }
  return x;
}

ValueStatistics observed(const Tensor& x) {
  ValueStatistics stats;
  stats.observe(x, "test value");
  return stats;
}

TEST(ParseMethod, KnownNamesRoundTrip) {
  for (const char* name : {"minmax", "entropy", "mse", "percentile:99.99"}) {
    EXPECT_EQ(method_name(parse_method(name)), name);
  }
  EXPECT_DOUBLE_EQ(parse_method("percentile:99.9").percentile, 99.9);
  EXPECT_EQ(parse_method("percentile").method, CalibrationMethod::percentile);
}

TEST(ParseMethod, RejectsUnknownAndBadPercentiles) {
  EXPECT_NE(error_of([] { parse_method("kl"); }).find("unknown calibration method 'kl'"),
            std::string::npos);
  EXPECT_THROW(parse_method("percentile:abc"), Error);
  EXPECT_THROW(parse_method("percentile:20"), Error);
  EXPECT_THROW(parse_method("percentile:"), Error);
  EXPECT_THROW(parse_quant_type("int4"), Error);
  EXPECT_EQ(quant_type_name(parse_quant_type("uint8-asym")), "uint8-asym");
}

TEST(ValueStatistics, RebinKeepsTotalCountAndBoundedSize) {
  ValueStatistics stats(8);
  stats.observe(make_tensor<float>({4}, {0.1F, -0.2F, 0.3F, 0.0F}), "a");
  stats.observe(make_tensor<float>({3}, {10.0F, -7.0F, 0.05F}), "b");
  stats.observe(make_tensor<float>({2}, {1000.0F, 2.0F}), "c");
  const std::vector<double>& histogram = stats.histogram();
  EXPECT_EQ(histogram.size(), 16u);
  EXPECT_DOUBLE_EQ(std::accumulate(histogram.begin(), histogram.end(), 0.0), 9.0);
  EXPECT_EQ(stats.count(), 9u);
  EXPECT_GE(stats.histogram_max_abs(), 1000.0F);
  EXPECT_FLOAT_EQ(stats.min(), -7.0F);
  EXPECT_FLOAT_EQ(stats.max(), 1000.0F);
}

TEST(ValueStatistics, RebinKeepsValuesOnTheirSide) {
  ValueStatistics stats(4);
  stats.observe(make_tensor<float>({2}, {-1.0F, 1.0F}), "a");
  stats.observe(make_tensor<float>({1}, {3.0F}), "b");
  const std::vector<double>& h = stats.histogram();
  const double negative = h[0] + h[1] + h[2] + h[3];
  const double positive = h[4] + h[5] + h[6] + h[7];
  EXPECT_DOUBLE_EQ(negative, 1.0);
  EXPECT_DOUBLE_EQ(positive, 2.0);
}

TEST(ValueStatistics, ChannelMeansAlongAxisOne) {
  ValueStatistics stats;
  // [batch 2, channels 2, 2]: channel 0 holds 1, 3, 5, 7; channel 1 holds 10s.
  stats.observe(make_tensor<float>({2, 2, 2}, {1, 3, 10, 10, 5, 7, 10, 10}), "x");
  ASSERT_EQ(stats.channel_means().size(), 2u);
  EXPECT_DOUBLE_EQ(stats.channel_means()[0], 4.0);
  EXPECT_DOUBLE_EQ(stats.channel_means()[1], 10.0);
  EXPECT_THROW(stats.observe(Tensor(DType::f32, {1, 3}), "x"), Error);
}

TEST(ValueStatistics, NaNAndInfAreErrorsNamingTheValue) {
  ValueStatistics stats;
  const std::string nan_error = error_of([&] {
    stats.observe(make_tensor<float>({3}, {1.0F, NAN, 2.0F}), "value 'h' in calibration sample 4");
  });
  EXPECT_NE(nan_error.find("value 'h' in calibration sample 4: NaN at element 1"),
            std::string::npos)
      << nan_error;
  EXPECT_NE(error_of([&] { stats.observe(make_tensor<float>({1}, {-INFINITY}), "v"); }).find("Inf"),
            std::string::npos);
  EXPECT_EQ(stats.count(), 0u);  // a rejected sample leaves nothing behind
  EXPECT_THROW(ValueStatistics(7), Error);
}

TEST(ChooseRange, UniformDataKeepsNearlyTheFullRange) {
  const ValueStatistics stats = observed(random_tensor(DType::f32, {100000}, 3, -1.0, 1.0));
  for (const char* method : {"minmax", "percentile:99.99", "entropy", "mse"}) {
    const Range range = choose_range(stats, parse_method(method), QuantType::int8_sym);
    EXPECT_GT(range.max, 0.85F) << method;
    EXPECT_LT(range.min, -0.85F) << method;
    EXPECT_LE(range.max, 1.0F) << method;
  }
}

TEST(ChooseRange, HistogramMethodsClipOutliersMinmaxDoesNot) {
  // Two outliers in a million: rare enough that clipping them costs less squared error
  // than the rounding noise of a step stretched to cover them (so MSE clips too).
  const ValueStatistics stats = observed(gaussian_with_outliers(1000000, 2, 100.0F));
  const Range minmax = choose_range(stats, parse_method("minmax"), QuantType::int8_sym);
  EXPECT_FLOAT_EQ(minmax.max, 100.0F);
  EXPECT_FLOAT_EQ(minmax.min, -100.0F);
  for (const char* method : {"percentile:99.99", "entropy", "mse"}) {
    for (QuantType type : {QuantType::int8_sym, QuantType::uint8_asym}) {
      const Range range = choose_range(stats, parse_method(method), type);
      EXPECT_LT(range.max, 30.0F) << method << " " << quant_type_name(type);
      EXPECT_GT(range.max, 2.0F) << method << " " << quant_type_name(type);
      EXPECT_LT(range.min, -2.0F) << method << " " << quant_type_name(type);
      EXPECT_GT(range.min, -30.0F) << method << " " << quant_type_name(type);
    }
  }
}

TEST(ChooseRange, OneSidedDataGivesAZeroLowerBound) {
  Tensor x = gaussian_with_outliers(50000, 4, 40.0F);
  for (float& value : x.values<float>()) value = std::fabs(value);
  const ValueStatistics stats = observed(x);
  for (const char* method : {"minmax", "percentile:99.9", "entropy", "mse"}) {
    const Range range = choose_range(stats, parse_method(method), QuantType::uint8_asym);
    EXPECT_EQ(range.min, 0.0F) << method;
    EXPECT_GT(range.max, 2.0F) << method;
  }
  EXPECT_LT(choose_range(stats, parse_method("entropy"), QuantType::uint8_asym).max, 20.0F);
}

TEST(ChooseRange, AllZeroValuesGiveAZeroRange) {
  const ValueStatistics stats = observed(Tensor(DType::f32, {64}));
  for (const char* method : {"minmax", "percentile:99", "entropy", "mse"}) {
    const Range range = choose_range(stats, parse_method(method), QuantType::uint8_asym);
    EXPECT_EQ(range.min, 0.0F);
    EXPECT_EQ(range.max, 0.0F);
  }
  EXPECT_THROW(choose_range(ValueStatistics(), parse_method("minmax"), QuantType::int8_sym), Error);
}

TEST(ChooseRange, DegenerateHistogramsGiveFiniteRangesContainingZero) {
  std::vector<ValueStatistics> cases;
  cases.push_back(observed(make_tensor<float>({4}, {5.0F, 5.0F, 5.0F, 5.0F})));
  cases.push_back(observed(make_tensor<float>({3}, {-1e-30F, -2.0F, -0.5F})));
  cases.push_back(observed(make_tensor<float>({2}, {3e37F, -1.0F})));
  ValueStatistics coarse(4);  // fewer bins than quantization levels
  coarse.observe(random_tensor(DType::f32, {100}, 4, -2.0, 1.0), "coarse");
  cases.push_back(coarse);
  for (const ValueStatistics& stats : cases) {
    for (const char* method : {"minmax", "percentile:99.9", "entropy", "mse"}) {
      for (QuantType type : {QuantType::int8_sym, QuantType::uint8_asym, QuantType::int8_asym}) {
        const Range range = choose_range(stats, parse_method(method), type);
        EXPECT_TRUE(std::isfinite(range.min) && std::isfinite(range.max)) << method;
        EXPECT_LE(range.min, 0.0F) << method;
        EXPECT_GE(range.max, 0.0F) << method;
        EXPECT_GE(range.min, std::min(stats.min(), 0.0F)) << method;
        EXPECT_LE(range.max, std::max(stats.max(), 0.0F)) << method;
        const QuantParams params = params_for_range(range, type);
        EXPECT_GT(params.scale[0], 0.0F);
        EXPECT_TRUE(std::isfinite(params.scale[0]));
      }
    }
  }
  EXPECT_EQ(choose_range(cases[1], parse_method("entropy"), QuantType::uint8_asym).max, 0.0F);
}

TEST(QuantParams, FromRangeFollowTheAffineDefinitions) {
  const QuantParams u8 = params_for_range({-1.0F, 3.0F}, QuantType::uint8_asym);
  EXPECT_EQ(u8.dtype, DType::u8);
  EXPECT_FLOAT_EQ(u8.scale[0], 4.0F / 255.0F);
  EXPECT_EQ(u8.zero_point[0], 64);  // round(1 / (4/255)) = round(63.75)
  const QuantParams s8 = params_for_range({-2.0F, 1.0F}, QuantType::int8_sym);
  EXPECT_EQ(s8.dtype, DType::i8);
  EXPECT_FLOAT_EQ(s8.scale[0], 2.0F / 127.0F);
  EXPECT_EQ(s8.zero_point[0], 0);
  const QuantParams a8 = params_for_range({-1.0F, 3.0F}, QuantType::int8_asym);
  EXPECT_EQ(a8.zero_point[0], -64);
  const QuantParams positive = params_for_range({2.0F, 5.0F}, QuantType::uint8_asym);
  EXPECT_EQ(positive.zero_point[0], 0);  // the range is extended to contain 0
  EXPECT_FLOAT_EQ(positive.scale[0], 5.0F / 255.0F);
  for (QuantType type : {QuantType::int8_sym, QuantType::uint8_asym, QuantType::int8_asym}) {
    const QuantParams zero = params_for_range({0.0F, 0.0F}, type);
    EXPECT_GT(zero.scale[0], 0.0F);
    EXPECT_TRUE(std::isfinite(zero.scale[0]));
  }
  EXPECT_THROW(params_for_range({0.0F, NAN}, QuantType::int8_sym), Error);
}

TEST(QuantParams, RoundTripErrorIsAtMostHalfAStep) {
  const Tensor x = random_tensor(DType::f32, {4096}, 11, -3.0, 5.0);
  for (QuantType type : {QuantType::int8_sym, QuantType::uint8_asym, QuantType::int8_asym}) {
    const QuantParams params = params_for_range({-3.0F, 5.0F}, type);
    const Tensor back = dequantize_tensor(quantize_tensor(x, params), params);
    const float half_step = params.scale[0] / 2.0F;
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      ASSERT_LE(std::fabs(back.values<float>()[i] - x.values<float>()[i]), half_step * 1.0001F)
          << quant_type_name(type) << " element " << i;
    }
  }
}

TEST(QuantParams, RoundsHalfToEvenAndSaturates) {
  QuantParams params;
  params.dtype = DType::i8;
  params.scale = {1.0F};
  params.zero_point = {0};
  const Tensor q = quantize_tensor(
      make_tensor<float>({7}, {0.5F, 1.5F, 2.5F, -0.5F, -1.5F, 1000.0F, -1000.0F}), params);
  const std::vector<std::int8_t> expected = {0, 2, 2, 0, -2, 127, -128};
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(q.values<std::int8_t>()[i], expected[i]);
  EXPECT_THROW(quantize_tensor(make_tensor<float>({1}, {NAN}), params), Error);
}

TEST(QuantParams, PerChannelWeightsWithAnAllZeroChannelHaveNoNaN) {
  // [3 output channels, 2, 2]; channel 1 is all zero.
  const Tensor w = make_tensor<float>({3, 2, 2}, {1, -2, 3, 0.5F, 0, 0, 0, 0, -0.01F, 0.02F, 0, 0});
  const QuantParams params = weight_params(w, 0, QuantType::int8_sym);
  ASSERT_EQ(params.scale.size(), 3u);
  EXPECT_EQ(params.axis, 0);
  for (const float scale : params.scale) {
    EXPECT_GT(scale, 0.0F);
    EXPECT_TRUE(std::isfinite(scale));
  }
  EXPECT_FLOAT_EQ(params.scale[0], 3.0F / 127.0F);
  EXPECT_FLOAT_EQ(params.scale[2], 0.02F / 127.0F);
  const Tensor back = dequantize_tensor(quantize_tensor(w, params), params);
  for (std::int64_t i = 0; i < w.numel(); ++i) {
    EXPECT_TRUE(std::isfinite(back.values<float>()[i]));
    EXPECT_NEAR(back.values<float>()[i], w.values<float>()[i],
                params.scale[static_cast<std::size_t>(i / 4)] / 2.0F + 1e-9F);
  }
  const QuantParams all_zero = weight_params(Tensor(DType::f32, {2, 3}), -1, QuantType::uint8_asym);
  EXPECT_GT(all_zero.scale[0], 0.0F);
  EXPECT_THROW(weight_params(w, 3, QuantType::int8_sym), Error);
}

TEST(QuantParams, ReducedRangeWeightsStayWithinSevenBits) {
  const Tensor w = random_tensor(DType::f32, {8, 3, 3, 3}, 5, -2.0, 2.0);
  for (std::int64_t axis : {-1, 0}) {
    const QuantParams params = weight_params(w, axis, QuantType::int8_sym, 7);
    const Tensor q = quantize_tensor(w, params);
    int largest = 0;
    for (std::int8_t value : q.values<std::int8_t>())
      largest = std::max(largest, std::abs(int(value)));
    EXPECT_EQ(largest, 63) << "axis " << axis;  // the channel extremes land on +-63
    const QuantParams full = weight_params(w, axis, QuantType::int8_sym);
    EXPECT_NEAR(params.scale[0], full.scale[0] * 127.0F / 63.0F, full.scale[0] * 1e-5F);
  }
  EXPECT_THROW(weight_params(w, 0, QuantType::uint8_asym, 7), Error);
  // 4-bit weights: the grid [-7, 7], each channel's largest magnitude at 7.
  for (std::int64_t axis : {std::int64_t{-1}, std::int64_t{0}}) {
    const QuantParams four = weight_params(w, axis, QuantType::int8_sym, 4);
    const Tensor q = quantize_tensor(w, four);
    const auto values = q.values<std::int8_t>();
    for (std::int8_t v : values) EXPECT_LE(std::abs(v), 7);
    EXPECT_TRUE(
        std::any_of(values.begin(), values.end(), [](std::int8_t v) { return std::abs(v) == 7; }));
  }
  EXPECT_THROW(weight_params(w, 0, QuantType::int8_sym, 1), Error);
}

TEST(QuantParams, BiasIsInt32AtInputTimesWeightScale) {
  QuantParams weight;
  weight.dtype = DType::i8;
  weight.scale = {0.05F, 0.5F};
  weight.zero_point = {0, 0};
  weight.axis = 0;
  const Tensor q = quantize_bias(make_tensor<float>({2}, {0.5F, -1.0F}), 0.1F, weight);
  EXPECT_EQ(q.dtype(), DType::i32);
  EXPECT_EQ(q.values<std::int32_t>()[0], 100);
  EXPECT_EQ(q.values<std::int32_t>()[1], -20);
  EXPECT_THROW(quantize_bias(make_tensor<float>({3}, {1, 2, 3}), 0.1F, weight), Error);
}

// h = 2 * x; y = Relu(h).
graph::Graph doubling_model() {
  graph::GraphBuilder builder("doubling");
  const std::string x = builder.input("x", DType::f32, {Dim::named("batch"), Dim::fixed(4)});
  const std::string two = builder.initializer("two", make_tensor<float>({1}, {2.0F}));
  const std::string h = builder.node("Mul", {x, two}, {}, "double");
  const std::string y = builder.node("Relu", {h}, {}, "relu");
  builder.output(y, DType::f32, {Dim::named("batch"), Dim::fixed(4)});
  return builder.build();
}

std::vector<std::map<std::string, Tensor>> samples(std::size_t count) {
  std::vector<std::map<std::string, Tensor>> result;
  for (std::size_t i = 0; i < count; ++i) {
    result.push_back({{"x", random_tensor(DType::f32, {2, 4}, 100 + i, -1.0, 3.0)}});
  }
  return result;
}

TEST(Calibrate, ObservesInputsAndIntermediatesWithProgress) {
  const graph::Graph model = doubling_model();
  const auto data = samples(5);
  VectorSampleSource source(data);
  std::FILE* progress = std::tmpfile();
  ASSERT_NE(progress, nullptr);
  CalibrationOptions options;
  options.progress = progress;
  const std::string h = model.nodes[0].outputs[0];
  const CalibrationResult result = calibrate(model, {"x", h}, source, options);
  EXPECT_EQ(result.samples, 5u);
  float low = INFINITY;
  float high = -INFINITY;
  for (const auto& sample : data) {
    for (const float value : sample.at("x").values<float>()) {
      low = std::min(low, value);
      high = std::max(high, value);
    }
  }
  EXPECT_FLOAT_EQ(result.values.at("x").min(), low);
  EXPECT_FLOAT_EQ(result.values.at(h).min(), 2.0F * low);
  EXPECT_FLOAT_EQ(result.values.at(h).max(), 2.0F * high);
  EXPECT_EQ(result.values.at(h).count(), 40u);
  EXPECT_EQ(result.values.at(h).channel_means().size(), 4u);

  std::rewind(progress);
  std::string text(4096, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), progress));
  std::fclose(progress);
  EXPECT_NE(text.find("\rcalibrating   5/5 [=============================="), std::string::npos)
      << text;
}

TEST(Calibrate, StopsAtMaxSamples) {
  VectorSampleSource source(samples(5));
  CalibrationOptions options;
  options.max_samples = 2;
  EXPECT_EQ(calibrate(doubling_model(), {"x"}, source, options).samples, 2u);
}

TEST(Calibrate, BadSourcesAreClearErrors) {
  const graph::Graph model = doubling_model();
  VectorSampleSource empty({});
  EXPECT_NE(error_of([&] { calibrate(model, {"x"}, empty, {}); }).find("no samples"),
            std::string::npos);

  auto wrong_shape = samples(3);
  wrong_shape[2]["x"] = Tensor(DType::f32, {2, 5});
  VectorSampleSource shape_source(wrong_shape);
  const std::string shape_error = error_of([&] { calibrate(model, {"x"}, shape_source, {}); });
  EXPECT_NE(shape_error.find(
                "calibration sample 2: input 'x' has shape [2, 5], expected x: f32[batch, 4]"),
            std::string::npos)
      << shape_error;

  VectorSampleSource dtype_source({{{"x", Tensor(DType::i64, {1, 4})}}});
  const std::string dtype_error = error_of([&] { calibrate(model, {"x"}, dtype_source, {}); });
  EXPECT_NE(dtype_error.find("input 'x' has dtype i64, expected f32"), std::string::npos)
      << dtype_error;

  VectorSampleSource source(samples(1));
  EXPECT_NE(error_of([&] { calibrate(model, {"nope"}, source, {}); }).find("unknown value 'nope'"),
            std::string::npos);

  auto with_nan = samples(4);
  with_nan[3]["x"].data<float>()[5] = NAN;
  VectorSampleSource nan_source(with_nan);
  const std::string nan_error =
      error_of([&] { calibrate(model, {model.nodes[0].outputs[0]}, nan_source, {}); });
  EXPECT_NE(nan_error.find("calibration sample 3"), std::string::npos) << nan_error;
  EXPECT_NE(nan_error.find("NaN"), std::string::npos) << nan_error;
}

}  // namespace
}  // namespace edgeperf::quant
