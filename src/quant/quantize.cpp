// quantize_model: input checks, cross-layer equalization, the mode's rewrite, and the
// per-layer SQNR of the result against the float model.
#include "edgeperf/quant/quantize.h"

#include <fmt/format.h>

#include <cmath>

#include "edgeperf/core/enum_names.h"
#include "edgeperf/quant/quality.h"
#include "rewrite.h"

namespace edgeperf::quant {
namespace {

// Calibration samples kept for the per-layer SQNR report (bounded memory).
constexpr std::size_t kReportSamples = 32;

bool is_quantized_op(const graph::Node& node) {
  static const std::set<std::string> kQuantizedOps = {"QuantizeLinear",
                                                      "DequantizeLinear",
                                                      "QLinearConv",
                                                      "QLinearMatMul",
                                                      "ConvInteger",
                                                      "MatMulInteger",
                                                      "DynamicQuantizeLinear",
                                                      "QLinearAdd",
                                                      "QLinearMul",
                                                      "QGemm",
                                                      "MatMulNBits",
                                                      "DequantizeInt4",
                                                      "DynamicQuantizeMatMul",
                                                      "MatMulIntegerToFloat",
                                                      "QLinearConcat",
                                                      "QLinearGlobalAveragePool",
                                                      "QLinearAveragePool",
                                                      "QLinearSigmoid",
                                                      "QLinearLeakyRelu"};
  return kQuantizedOps.count(node.op_type) != 0;
}

void check_not_quantized(const graph::Graph& model) {
  for (const graph::Node& node : model.nodes) {
    EP_CHECK(!is_quantized_op(node),
             "the model is already quantized: node {} is a quantized op; give quantize a float "
             "model",
             node.label());
  }
}

void check_exclude_names(const graph::Graph& model, const std::set<std::string>& exclude) {
  std::set<std::string> unknown = exclude;
  for (const graph::Node& node : model.nodes) unknown.erase(detail::node_id(node));
  if (unknown.empty()) return;
  std::string listing;
  for (const std::string& name : unknown) listing += (listing.empty() ? "'" : ", '") + name + "'";
  fail("--exclude names no node of the model: {}", listing);
}

// Passes samples through while keeping the first few for the report.
class RecordingSource final : public SampleSource {
 public:
  explicit RecordingSource(SampleSource& source) : source_(source) {}
  std::optional<std::map<std::string, Tensor>> next() override {
    auto sample = source_.next();
    if (sample && recorded_.size() < kReportSamples) recorded_.push_back(*sample);
    return sample;
  }
  std::size_t size_hint() const override { return source_.size_hint(); }
  // Reads until kReportSamples are kept (modes that do not calibrate).
  void fill() {
    while (recorded_.size() < kReportSamples && next().has_value()) {
    }
  }
  const std::vector<std::map<std::string, Tensor>>& recorded() const { return recorded_; }

 private:
  SampleSource& source_;
  std::vector<std::map<std::string, Tensor>> recorded_;
};

class VectorSource final : public SampleSource {
 public:
  explicit VectorSource(const std::vector<std::map<std::string, Tensor>>& samples)
      : samples_(samples) {}
  std::optional<std::map<std::string, Tensor>> next() override {
    if (next_ >= samples_.size()) return std::nullopt;
    return samples_[next_++];
  }
  std::size_t size_hint() const override { return samples_.size(); }

 private:
  const std::vector<std::map<std::string, Tensor>>& samples_;
  std::size_t next_ = 0;
};

detail::RewriteOutput rewrite(const graph::Graph& model, const QuantizeOptions& options,
                              RecordingSource* calibration) {
  switch (options.mode) {
    case QuantMode::static_int8:
      EP_CHECK(calibration != nullptr, "static quantization needs calibration data (--calib)");
      return detail::rewrite_static(model, options, *calibration);
    case QuantMode::dynamic:
      return detail::rewrite_dynamic(model, options);
    case QuantMode::fp16:
      return detail::rewrite_fp16(model, options);
    case QuantMode::int4_weight:
      return detail::rewrite_int4(model, options);
  }
  fail("unknown quantization mode");
}

// Runs both models on the recorded samples and fills each quantized layer's SQNR.
void measure_sqnr(const graph::Graph& float_model, const detail::RewriteOutput& output,
                  const std::vector<std::map<std::string, Tensor>>& samples,
                  std::vector<LayerReport>& layers) {
  if (samples.empty() || output.compare_values.empty()) return;
  std::map<std::string, std::string> value_pairs;
  for (const auto& [node, values] : output.compare_values)
    value_pairs[values.first] = values.second;
  try {
    VectorSource source(samples);
    const std::vector<LayerSqnr> rows =
        per_layer_sqnr(float_model, output.model, value_pairs, source, samples.size());
    for (LayerReport& layer : layers) {
      const auto values = output.compare_values.find(layer.node);
      if (values == output.compare_values.end()) continue;
      for (const LayerSqnr& row : rows) {
        if (row.value == values->second.first) layer.sqnr_db = row.sqnr_db;
      }
    }
  } catch (const Error& error) {
    for (LayerReport& layer : layers) {
      if (output.compare_values.count(layer.node) == 0) continue;
      layer.note += layer.note.empty() ? "" : "; ";
      layer.note += std::string("SQNR not measured: ") + error.what();
    }
  }
}

constexpr auto kModes =
    enum_names<QuantMode>("quantization mode", {{QuantMode::dynamic, "dynamic"},
                                                {QuantMode::static_int8, "static"},
                                                {QuantMode::fp16, "fp16"},
                                                {QuantMode::int4_weight, "int4-weight"}});
constexpr auto kFormats = enum_names<QuantFormat>(
    "quantization format", {{QuantFormat::qdq, "qdq"}, {QuantFormat::qoperator, "qoperator"}});

}  // namespace

QuantMode parse_mode(std::string_view text) { return kModes.parse(text); }

QuantFormat parse_format(std::string_view text) { return kFormats.parse(text); }

QuantizeResult quantize_model(const graph::Graph& model, const QuantizeOptions& options,
                              SampleSource* calibration) {
  check_not_quantized(model);
  check_exclude_names(model, options.exclude);
  graph::Graph working = model;
  std::vector<std::string> log;
  const bool integer_mode =
      options.mode == QuantMode::static_int8 || options.mode == QuantMode::dynamic;
  EP_CHECK(!options.reduce_range || integer_mode,
           "reduce_range applies to the int8 modes (static, dynamic) only");
  EP_CHECK(options.weight_bits == 8 || (integer_mode && !options.reduce_range),
           "{}-bit weights apply to the int8 modes (static, dynamic), without reduce_range",
           options.weight_bits);
  if (options.equalize && integer_mode) {
    const EqualizationReport equalized = equalize_cross_layer(working);
    for (const EqualizedPair& pair : equalized.pairs) {
      // Equalization trades the two layers' spreads (ranges meet at their geometric
      // mean), so both are shown.
      log.push_back(fmt::format(
          "equalized {} -> {}: channel range spread {:.1f}x -> {:.1f}x (outputs of the first), "
          "{:.1f}x -> {:.1f}x (inputs of the second)",
          pair.first, pair.second, pair.first_spread_before, pair.first_spread_after,
          pair.second_spread_before, pair.second_spread_after));
    }
  }
  std::optional<RecordingSource> recorder;
  if (calibration != nullptr) recorder.emplace(*calibration);
  detail::RewriteOutput output = rewrite(working, options, recorder ? &*recorder : nullptr);
  if (recorder && options.mode != QuantMode::static_int8) recorder->fill();
  if (recorder) measure_sqnr(working, output, recorder->recorded(), output.layers);
  log.insert(log.end(), output.log.begin(), output.log.end());
  return QuantizeResult{std::move(output.model), std::move(output.layers), std::move(log),
                        std::move(working)};
}

}  // namespace edgeperf::quant
