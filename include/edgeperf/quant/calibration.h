#pragma once
// Calibration: stream samples through the float model, observe chosen values with
// bounded memory (running min/max, per-channel means, fixed-bin histogram), then
// turn each value's statistics into a range with one of the methods.
#include <cstddef>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::quant {

enum class CalibrationMethod { minmax, percentile, entropy, mse };

struct MethodSpec {
  CalibrationMethod method = CalibrationMethod::minmax;
  double percentile = 99.999;  // only for percentile
};

// "minmax", "percentile:99.99", "entropy", "mse". Anything else throws Error naming it.
MethodSpec parse_method(std::string_view text);
std::string method_name(const MethodSpec& spec);

// The integer type a tensor is quantized to.
enum class QuantType { int8_sym, uint8_asym, int8_asym };
QuantType parse_quant_type(std::string_view text);  // "int8-sym" | "uint8-asym" | "int8-asym"
std::string quant_type_name(QuantType type);

struct Range {
  float min = 0.0F;
  float max = 0.0F;
};

// Statistics of one observed value, accumulated over samples with bounded memory.
class ValueStatistics {
 public:
  explicit ValueStatistics(int histogram_bins = 2048);
  // Throws Error when x holds NaN or Inf (`what` names the value and sample).
  void observe(const Tensor& x, const std::string& what);
  float min() const;
  float max() const;
  std::size_t count() const;
  // Mean per channel (axis 1 when rank >= 2, else one mean), for bias correction.
  const std::vector<double>& channel_means() const;
  // Histogram over [-max_abs, max_abs] with 2 * histogram_bins bins (histogram_bins for
  // each sign, as TensorRT's |x| histogram); rebinned when a later sample widens the range
  // (the range doubles and bin pairs merge, so counts stay exact and memory fixed).
  const std::vector<double>& histogram() const;
  float histogram_max_abs() const;

 private:
  struct State;
  std::vector<double> histogram_;
  std::vector<double> channel_sum_;
  std::vector<double> channel_means_;
  std::size_t count_ = 0;
  std::size_t channel_count_ = 0;
  float min_ = 0.0F;
  float max_ = 0.0F;
  float max_abs_ = 0.0F;
  int bins_;
};

// Feeds calibration samples one at a time (bounded memory).
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  // Next sample (graph input name -> tensor), or nullopt at the end.
  virtual std::optional<std::map<std::string, Tensor>> next() = 0;
  // Total samples when known (for the progress bar), else 0.
  virtual std::size_t size_hint() const { return 0; }
};

struct CalibrationOptions {
  std::size_t max_samples = 0;  // 0: every sample the source gives
  int histogram_bins = 2048;
  std::FILE* progress = nullptr;  // progress bar target (stderr in the CLI), nullptr for none
};

struct CalibrationResult {
  std::map<std::string, ValueStatistics> values;
  std::size_t samples = 0;
};

// A source over samples held in memory (tests, small evaluation sets).
class VectorSampleSource : public SampleSource {
 public:
  explicit VectorSampleSource(std::vector<std::map<std::string, Tensor>> samples)
      : samples_(std::move(samples)) {}
  std::optional<std::map<std::string, Tensor>> next() override {
    if (next_ >= samples_.size()) return std::nullopt;
    return samples_[next_++];
  }
  std::size_t size_hint() const override { return samples_.size(); }

 private:
  std::vector<std::map<std::string, Tensor>> samples_;
  std::size_t next_ = 0;
};

// A copy of `model` whose outputs also include `values` (node outputs or graph inputs),
// so a Session returns them. Throws Error naming a value that is neither.
graph::Graph expose_values(const graph::Graph& model, const std::vector<std::string>& values);

// Checks that `sample` feeds every graph input of `model` with the declared dtype and a
// shape matching its static dimensions; the error names the input, the expected and
// actual dtype/shape and `sample_index`.
void check_sample(const graph::Graph& model, const std::map<std::string, Tensor>& sample,
                  std::size_t sample_index);

// Runs `model` (float) on each sample and observes `values` (graph inputs or node
// outputs). Errors: empty source, wrong input shape/dtype, NaN/Inf, unknown value.
CalibrationResult calibrate(const graph::Graph& model, const std::vector<std::string>& values,
                            SampleSource& source, const CalibrationOptions& options);

// Range for one value under a method; the range always contains 0.
Range choose_range(const ValueStatistics& stats, const MethodSpec& method, QuantType type);

}  // namespace edgeperf::quant
