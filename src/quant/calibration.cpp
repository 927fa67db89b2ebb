// Calibration: method/type names, streaming value statistics and the calibration loop.
#include "edgeperf/quant/calibration.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>

#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::quant {
namespace {

constexpr int kMaxHistogramBins = 1 << 20;
// Doubling the histogram range must stay finite in float.
constexpr float kMaxObservableMagnitude = FLT_MAX / 4.0F;
constexpr int kProgressBarWidth = 30;

double parse_percentile(std::string_view text) {
  const std::string digits(text);
  char* end = nullptr;
  const double value = std::strtod(digits.c_str(), &end);
  EP_CHECK(!digits.empty() && end == digits.c_str() + digits.size(),
           "calibration method 'percentile:{}': '{}' is not a number", digits, digits);
  EP_CHECK(value > 50.0 && value <= 100.0,
           "calibration method 'percentile:{}': the percentile must be in (50, 100]", digits);
  return value;
}

// First non-finite element of `values`, or -1.
std::int64_t first_non_finite(std::span<const float> values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) return static_cast<std::int64_t>(i);
  }
  return -1;
}

void draw_progress(std::FILE* out, std::size_t done, std::size_t total) {
  if (out == nullptr) return;
  if (total == 0) {
    std::fprintf(out, "\rcalibrating %3zu", done);
  } else {
    const std::size_t filled =
        std::min<std::size_t>(kProgressBarWidth, done * kProgressBarWidth / total);
    const std::string bar = std::string(filled, '=') + std::string(kProgressBarWidth - filled, ' ');
    std::fprintf(out, "\rcalibrating %3zu/%zu [%s]", done, total, bar.c_str());
  }
  std::fflush(out);
}

std::size_t planned_sample_count(const SampleSource& source, const CalibrationOptions& options) {
  const std::size_t hint = source.size_hint();
  if (options.max_samples == 0) return hint;
  return hint == 0 ? options.max_samples : std::min(hint, options.max_samples);
}

bool dims_match(const graph::ValueInfo& expected, const Shape& actual) {
  if (!expected.has_shape) return true;
  if (expected.dims.size() != actual.size()) return false;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (expected.dims[i].is_static() && expected.dims[i].size != actual[i]) return false;
  }
  return true;
}

constexpr auto kMethods = enum_names<CalibrationMethod>(
    "calibration method", {{CalibrationMethod::minmax, "minmax"},
                           {CalibrationMethod::percentile, "percentile"},
                           {CalibrationMethod::entropy, "entropy"},
                           {CalibrationMethod::mse, "mse"}});
constexpr auto kQuantTypes =
    enum_names<QuantType>("quantization type", {{QuantType::int8_sym, "int8-sym"},
                                                {QuantType::uint8_asym, "uint8-asym"},
                                                {QuantType::int8_asym, "int8-asym"}});

}  // namespace

MethodSpec parse_method(std::string_view text) {
  if (const std::optional<CalibrationMethod> method = kMethods.find(text)) return {*method};
  constexpr std::string_view kPrefix = "percentile:";
  if (text.substr(0, kPrefix.size()) == kPrefix) {
    return {CalibrationMethod::percentile, parse_percentile(text.substr(kPrefix.size()))};
  }
  fail("unknown calibration method '{}' (expected minmax, percentile:P, entropy or mse)", text);
}

std::string method_name(const MethodSpec& spec) {
  if (spec.method == CalibrationMethod::percentile) {
    return fmt::format("percentile:{}", spec.percentile);
  }
  return std::string(kMethods.name(spec.method));
}

QuantType parse_quant_type(std::string_view text) { return kQuantTypes.parse(text); }

std::string quant_type_name(QuantType type) { return std::string(kQuantTypes.name(type)); }

// `histogram_bins` counts bins of |x| over [0, max_abs] (TensorRT's convention); the signed
// histogram over [-max_abs, max_abs] holds twice as many.
ValueStatistics::ValueStatistics(int histogram_bins) : bins_(2 * histogram_bins) {
  // An even count per side keeps the total a multiple of 4, so that doubling the range
  // merges bin pairs exactly.
  EP_CHECK(histogram_bins >= 4 && histogram_bins <= kMaxHistogramBins && histogram_bins % 2 == 0,
           "histogram bins must be an even number between 4 and {}, got {}", kMaxHistogramBins,
           histogram_bins);
  histogram_.assign(static_cast<std::size_t>(bins_), 0.0);
}

float ValueStatistics::min() const { return min_; }
float ValueStatistics::max() const { return max_; }
std::size_t ValueStatistics::count() const { return count_; }
const std::vector<double>& ValueStatistics::channel_means() const { return channel_means_; }
const std::vector<double>& ValueStatistics::histogram() const { return histogram_; }
float ValueStatistics::histogram_max_abs() const { return max_abs_; }

void ValueStatistics::observe(const Tensor& x, const std::string& what) {
  EP_CHECK(x.dtype() == DType::f32, "{}: dtype {} cannot be calibrated (expected f32)", what,
           dtype_name(x.dtype()));
  const std::span<const float> values = x.values<float>();
  if (const std::int64_t bad = first_non_finite(values); bad >= 0) {
    fail("{}: {} at element {} (shape {})", what, std::isnan(values[bad]) ? "NaN" : "Inf", bad,
         shape_to_string(x.shape()));
  }
  const std::size_t channels = x.rank() >= 2 ? static_cast<std::size_t>(x.dim(1)) : 1;
  if (count_ == 0 && channel_sum_.empty()) channel_sum_.assign(channels, 0.0);
  EP_CHECK(channels == channel_sum_.size(), "{}: {} channels (axis 1), earlier samples had {}",
           what, channels, channel_sum_.size());
  if (values.empty()) return;

  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  const float magnitude = std::max(std::fabs(*low), std::fabs(*high));
  EP_CHECK(magnitude <= kMaxObservableMagnitude, "{}: value {} is too large to calibrate", what,
           magnitude);
  min_ = count_ == 0 ? *low : std::min(min_, *low);
  max_ = count_ == 0 ? *high : std::max(max_, *high);

  // Widen the histogram range: the first nonzero range is taken as is, later ones double
  // it (merging bin pairs) so memory stays fixed and counts stay exact.
  if (magnitude > max_abs_) {
    if (max_abs_ == 0.0F) {
      max_abs_ = magnitude;  // earlier zeros sit in the bin starting at 0 in any range
    }
    while (max_abs_ < magnitude) {
      std::vector<double> merged(histogram_.size(), 0.0);
      for (std::size_t j = 0; j < histogram_.size(); ++j)
        merged[histogram_.size() / 4 + j / 2] += histogram_[j];
      histogram_ = std::move(merged);
      max_abs_ *= 2.0F;
    }
  }
  const double bin_width = 2.0 * max_abs_ / bins_;
  const std::int64_t last_bin = bins_ - 1;
  for (const float value : values) {
    const std::int64_t bin =
        bin_width > 0.0 ? static_cast<std::int64_t>(std::floor((value + max_abs_) / bin_width))
                        : bins_ / 2;
    histogram_[static_cast<std::size_t>(std::clamp<std::int64_t>(bin, 0, last_bin))] += 1.0;
  }

  const std::size_t outer = x.rank() >= 2 ? static_cast<std::size_t>(x.dim(0)) : 1;
  const std::size_t inner = values.size() / (outer * channels);
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t c = 0; c < channels; ++c) {
      const float* start = values.data() + (o * channels + c) * inner;
      double sum = 0.0;
      for (std::size_t i = 0; i < inner; ++i) sum += start[i];
      channel_sum_[c] += sum;
    }
  }
  channel_count_ += outer * inner;
  count_ += values.size();
  channel_means_.resize(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    channel_means_[c] = channel_sum_[c] / static_cast<double>(channel_count_);
  }
}

graph::Graph expose_values(const graph::Graph& model, const std::vector<std::string>& values) {
  graph::Graph copy = model;
  std::set<std::string> outputs;
  for (const graph::ValueInfo& output : copy.outputs) outputs.insert(output.name);
  for (const std::string& value : values) {
    if (outputs.count(value) || model.find_input(value) != nullptr) continue;
    EP_CHECK(!value.empty() && model.producer_of(value) != nullptr,
             "unknown value '{}': not a graph input or node output of model '{}'", value,
             model.name);
    graph::ValueInfo info;
    info.name = value;
    copy.outputs.push_back(info);
    outputs.insert(value);
  }
  return copy;
}

void check_sample(const graph::Graph& model, const std::map<std::string, Tensor>& sample,
                  std::size_t sample_index) {
  for (const graph::ValueInfo& input : model.inputs) {
    const auto given = sample.find(input.name);
    EP_CHECK(given != sample.end(), "calibration sample {}: missing input '{}' (expected {})",
             sample_index, input.name, input.to_string());
    const Tensor& tensor = given->second;
    EP_CHECK(tensor.dtype() == input.dtype,
             "calibration sample {}: input '{}' has dtype {}, expected {}", sample_index,
             input.name, dtype_name(tensor.dtype()), dtype_name(input.dtype));
    EP_CHECK(dims_match(input, tensor.shape()),
             "calibration sample {}: input '{}' has shape {}, expected {}", sample_index,
             input.name, shape_to_string(tensor.shape()), input.to_string());
  }
  for (const auto& [name, tensor] : sample) {
    EP_CHECK(model.find_input(name) != nullptr,
             "calibration sample {}: '{}' is not an input of model '{}'", sample_index, name,
             model.name);
  }
}

CalibrationResult calibrate(const graph::Graph& model, const std::vector<std::string>& values,
                            SampleSource& source, const CalibrationOptions& options) {
  runtime::Session session(expose_values(model, values));
  CalibrationResult result;
  for (const std::string& value : values) {
    result.values.emplace(value, ValueStatistics(options.histogram_bins));
  }
  const std::size_t total = planned_sample_count(source, options);
  draw_progress(options.progress, 0, total);
  while (options.max_samples == 0 || result.samples < options.max_samples) {
    std::optional<std::map<std::string, Tensor>> sample = source.next();
    if (!sample) break;
    const std::size_t index = result.samples;
    check_sample(model, *sample, index);
    const std::map<std::string, Tensor> outputs = with_error_context(
        fmt::format("calibration sample {}", index), [&] { return session.run(*sample); });
    for (auto& [name, stats] : result.values) {
      const auto fed = sample->find(name);
      const Tensor& value = fed != sample->end() ? fed->second : outputs.at(name);
      stats.observe(value, fmt::format("value '{}' in calibration sample {}", name, index));
    }
    ++result.samples;
    draw_progress(options.progress, result.samples, std::max(total, result.samples));
  }
  if (options.progress != nullptr) std::fputc('\n', options.progress);
  EP_CHECK(result.samples > 0, "calibration: the sample source gave no samples");
  return result;
}

}  // namespace edgeperf::quant
