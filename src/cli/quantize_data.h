#pragma once
// Calibration and evaluation data for `edgeperf quantize`: .npy files streamed as
// quant::SampleSource, and labeled accuracy of a graph on a bench::Dataset.
#include <filesystem>
#include <string>
#include <vector>

#include "edgeperf/bench/dataset.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/quant/calibration.h"

namespace edgeperf::cli {

// Samples from PATH: one .npy file ([N, ...] or one sample), PREFIX (PREFIX_inputs.npy),
// a directory with inputs.npy, or a directory of .npy files read one file at a time.
// Each sample must have the element count and dtype of one sample of the model's single
// input (it is reshaped to that); NaN/Inf are refused. Errors name the file and sample.
class NpyCalibrationSource final : public quant::SampleSource {
 public:
  NpyCalibrationSource(const std::filesystem::path& path, const graph::Graph& model,
                       std::size_t max_samples);
  std::optional<std::map<std::string, Tensor>> next() override;
  std::size_t size_hint() const override { return max_samples_; }

 private:
  bool load_next_file();

  std::vector<std::filesystem::path> files_;
  std::size_t next_file_ = 0;
  Tensor current_;  // the file being read, [N, sample...]
  std::string current_name_;
  std::int64_t next_row_ = 0;
  std::size_t given_ = 0;
  std::size_t max_samples_ = 0;  // 0: all
  std::string input_name_;
  DType input_dtype_ = DType::f32;
  Shape sample_shape_;  // [1, ...] as the model takes one sample
};

// The dataset with its inputs reshaped to the model's per-sample shape (same count).
bench::Dataset load_eval_data(const std::filesystem::path& path, const graph::Graph& model);
// Top-1 accuracy in points (0..100) of `model` (our runtime) on `data`.
double accuracy_points(const graph::Graph& model, const bench::Dataset& data);

}  // namespace edgeperf::cli
