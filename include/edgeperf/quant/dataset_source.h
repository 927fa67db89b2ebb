#pragma once
// Calibration samples read from a data spec (eval::resolve_data: FILE.npy, PREFIX, DIR with
// inputs.npy, DIR of .npy files, image folder), one file in memory at a time.
#include <cstddef>
#include <filesystem>

#include "edgeperf/eval/dataset.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/quant/calibration.h"

namespace edgeperf::quant {

// Feeds the single input of `model`; each sample is reshaped to that input's per-sample shape.
// NaN and Inf are refused with an error naming the file and the sample.
class DatasetSampleSource final : public SampleSource {
 public:
  DatasetSampleSource(const std::filesystem::path& spec, const graph::Graph& model,
                      std::size_t max_samples);
  std::optional<std::map<std::string, Tensor>> next() override;
  std::size_t size_hint() const override { return max_samples_; }

 private:
  eval::SampleStream stream_;
  std::size_t max_samples_ = 0;  // 0: all
  std::size_t given_ = 0;
};

}  // namespace edgeperf::quant
