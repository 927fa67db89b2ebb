#include "quantize_data.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgeperf/core/npy.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::cli {
namespace fs = std::filesystem;
namespace {

const graph::ValueInfo& single_input(const graph::Graph& model) {
  EP_CHECK(model.inputs.size() == 1,
           "calibration and evaluation data need a model with one input; this one has {}",
           model.inputs.size());
  return model.inputs.front();
}

// The model's input shape for one sample: batch 1, symbolic dimensions as 1.
Shape one_sample_shape(const graph::ValueInfo& input) {
  Shape shape = input.resolved_shape(1);
  if (!shape.empty()) shape[0] = 1;
  return shape;
}

std::vector<fs::path> calibration_files(const fs::path& path) {
  if (fs::is_regular_file(path)) return {path};
  const fs::path prefixed = path.string() + "_inputs.npy";
  if (!fs::is_directory(path) && fs::is_regular_file(prefixed)) return {prefixed};
  EP_CHECK(fs::is_directory(path),
           "calibration data '{}' is neither a .npy file, a PREFIX with PREFIX_inputs.npy, nor "
           "a directory",
           path.string());
  if (fs::is_regular_file(path / "inputs.npy")) return {path / "inputs.npy"};
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file() && entry.path().extension() == ".npy") {
      files.push_back(entry.path());
    }
  }
  EP_CHECK(!files.empty(), "calibration directory '{}' holds no .npy files", path.string());
  std::sort(files.begin(), files.end());
  return files;
}

void check_finite(const Tensor& sample, const std::string& file, std::int64_t row) {
  if (sample.dtype() != DType::f32) return;
  for (float value : sample.values<float>()) {
    EP_CHECK(std::isfinite(value), "calibration file '{}' sample {} holds {}", file, row,
             std::isnan(value) ? "NaN" : "Inf");
  }
}

}  // namespace

NpyCalibrationSource::NpyCalibrationSource(const fs::path& path, const graph::Graph& model,
                                           std::size_t max_samples)
    : files_(calibration_files(path)), max_samples_(max_samples) {
  const graph::ValueInfo& input = single_input(model);
  input_name_ = input.name;
  input_dtype_ = input.dtype;
  sample_shape_ = one_sample_shape(input);
}

bool NpyCalibrationSource::load_next_file() {
  if (next_file_ >= files_.size()) return false;
  const fs::path& file = files_[next_file_++];
  current_name_ = file.string();
  current_ = read_npy(file);
  next_row_ = 0;
  EP_CHECK(current_.dtype() == input_dtype_,
           "calibration file '{}' holds {} but model input '{}' takes {}", current_name_,
           dtype_name(current_.dtype()), input_name_, dtype_name(input_dtype_));
  const std::int64_t sample_count = element_count(sample_shape_);
  // A whole file of one sample, or [N, ...] with one sample per row.
  const bool single = current_.numel() == sample_count &&
                      current_.rank() + 1 == static_cast<std::int64_t>(sample_shape_.size());
  const std::int64_t rows = single || current_.rank() == 0 ? 1 : current_.dim(0);
  EP_CHECK(rows > 0 && current_.numel() == rows * sample_count,
           "calibration file '{}' has shape {}: samples of {} elements do not fit model input "
           "'{}' {} (sample 0)",
           current_name_, shape_to_string(current_.shape()), rows > 0 ? current_.numel() / rows : 0,
           input_name_, shape_to_string(sample_shape_));
  Shape batched = sample_shape_;
  batched[0] = rows;
  current_ = current_.reshaped(batched);
  return true;
}

std::optional<std::map<std::string, Tensor>> NpyCalibrationSource::next() {
  if (max_samples_ != 0 && given_ >= max_samples_) return std::nullopt;
  while (current_.empty() || next_row_ >= current_.dim(0)) {
    if (!load_next_file()) return std::nullopt;
  }
  Tensor sample(current_.dtype(), sample_shape_);
  std::memcpy(sample.raw(),
              static_cast<const std::byte*>(current_.raw()) + next_row_ * sample.nbytes(),
              sample.nbytes());
  check_finite(sample, current_name_, next_row_);
  ++next_row_;
  ++given_;
  return std::map<std::string, Tensor>{{input_name_, std::move(sample)}};
}

bench::Dataset load_eval_data(const fs::path& path, const graph::Graph& model) {
  bench::Dataset data = bench::load_dataset(path);
  const graph::ValueInfo& input = single_input(model);
  Shape shape = one_sample_shape(input);
  shape[0] = data.size();
  EP_CHECK(data.inputs.numel() == element_count(shape) && data.inputs.dtype() == input.dtype,
           "evaluation data '{}' holds {} {} but model input '{}' takes {} {} per sample",
           path.string(), dtype_name(data.inputs.dtype()), shape_to_string(data.sample_shape()),
           input.name, dtype_name(input.dtype), shape_to_string(one_sample_shape(input)));
  data.inputs = data.inputs.reshaped(shape);
  return data;
}

double accuracy_points(const graph::Graph& model, const bench::Dataset& data) {
  const graph::ValueInfo& input = single_input(model);
  const bool dynamic_batch = !input.dims.empty() && !input.dims.front().is_static();
  const std::int64_t batch = dynamic_batch ? std::min<std::int64_t>(64, data.size()) : 1;
  runtime::SessionOptions options;
  options.input_shapes[input.name] = data.batch(0, batch).shape();
  runtime::Session session(model, options);
  const std::string output = model.outputs.at(0).name;
  std::int64_t correct = 0;
  for (std::int64_t first = 0; first < data.size(); first += batch) {
    const std::int64_t count = std::min(batch, data.size() - first);
    const Tensor logits = session.run({{input.name, data.batch(first, count)}}).at(output);
    std::vector<std::int64_t> labels(data.labels.begin() + first,
                                     data.labels.begin() + first + count);
    correct += bench::score(logits.reshaped({count, logits.numel() / count}), labels).top1_correct;
  }
  return 100.0 * static_cast<double>(correct) / static_cast<double>(data.size());
}

}  // namespace edgeperf::cli
