#include "edgeperf/quant/dataset_source.h"

#include "edgeperf/core/error.h"

namespace edgeperf::quant {
namespace {

constexpr const char* kContext = "calibration data";

const graph::ValueInfo& single_input(const graph::Graph& model) {
  EP_CHECK(model.inputs.size() == 1,
           "calibration and evaluation data need a model with one input; this one has {}",
           model.inputs.size());
  return model.inputs.front();
}

}  // namespace

DatasetSampleSource::DatasetSampleSource(const std::filesystem::path& spec,
                                         const graph::Graph& model, std::size_t max_samples)
    : stream_(with_error_context(kContext,
                                 [&] { return eval::SampleStream(spec, single_input(model)); })),
      max_samples_(max_samples) {}

std::optional<std::map<std::string, Tensor>> DatasetSampleSource::next() {
  if (max_samples_ != 0 && given_ >= max_samples_) return std::nullopt;
  std::optional<Tensor> sample = with_error_context(kContext, [&] { return stream_.next(); });
  if (!sample) return std::nullopt;
  ++given_;
  return std::map<std::string, Tensor>{{stream_.input().name, std::move(*sample)}};
}

}  // namespace edgeperf::quant
