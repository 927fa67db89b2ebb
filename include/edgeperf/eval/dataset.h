#pragma once
// The one dataset resolver and loader. A data spec names, checked in this order:
//   FILE                 a .npy of inputs: [N, ...], or one sample
//   PREFIX               PREFIX_inputs.npy [+ PREFIX_labels.npy] (PREFIX itself does not exist)
//   DIR with inputs.npy  DIR/inputs.npy [+ DIR/labels.npy]
//   DIR of .npy files    every DIR/*.npy in name order, inputs only
//   DIR/<class>/<image>  an image folder (PNG, JPEG, BMP); label i = the i-th sorted class name
// Labels are an integer vector [N] >= 0. Errors are one line naming the spec or file.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::eval {

struct DataFiles {
  std::filesystem::path spec;                   // as given
  std::vector<std::filesystem::path> inputs;    // .npy files in reading order
  std::optional<std::filesystem::path> labels;  // when the layout has a labels file
  bool image_folder = false;                    // then `inputs` is empty
};

DataFiles resolve_data(const std::filesystem::path& spec);

struct Dataset {
  Tensor inputs;                     // [N, ...]
  std::vector<std::int64_t> labels;  // N class indices, or empty when unlabeled
  std::int64_t size() const { return inputs.rank() == 0 ? 0 : inputs.dim(0); }
  bool labeled() const { return !labels.empty(); }
  Shape sample_shape() const { return Shape(inputs.shape().begin() + 1, inputs.shape().end()); }
  // Samples [first, first + count) as one batch tensor (a copy).
  Tensor batch(std::int64_t first, std::int64_t count) const;
};

struct LoadOptions {
  bool require_labels = true;
  // The model input the samples feed. Each sample is reshaped to its per-sample shape (the
  // element count must match) and must have its dtype; an image folder is decoded to that
  // size. Unset: samples as stored (an image folder then cannot be loaded).
  std::optional<graph::ValueInfo> input;
};

Dataset load_dataset(const std::filesystem::path& spec, const LoadOptions& options = {});

// `data` (samples as stored) reshaped for `input`: same dtype, same element count per
// sample. `spec` names the data in errors.
Dataset shaped_for(Dataset data, const graph::ValueInfo& input, const std::filesystem::path& spec);

// The per-sample shape `input` takes (symbolic dimensions as 1, batch dimension dropped).
Shape sample_shape_of(const graph::ValueInfo& input);

// The samples of a spec one at a time, with one .npy file in memory at a time (calibration
// sets may be larger than memory). Labels are ignored; NaN and Inf are refused.
class SampleStream {
 public:
  SampleStream(const std::filesystem::path& spec, graph::ValueInfo input);
  // The next sample shaped [1, ...] for the model input, or nullopt at the end.
  std::optional<Tensor> next();
  const graph::ValueInfo& input() const { return input_; }

 private:
  bool open_next_source();

  DataFiles files_;
  graph::ValueInfo input_;
  std::size_t next_file_ = 0;
  Tensor current_;  // the source being read, [rows, sample...]
  std::string current_name_;
  std::int64_t next_row_ = 0;
};

// Image folders (used by load_dataset; public for tests and tools).
bool is_image_folder(const std::filesystem::path& directory);
// Decodes into [N, C, H, W] f32 in [0, 1], resized bilinearly to `sample_shape` {C, H, W}.
Dataset load_image_folder(const std::filesystem::path& directory, const Shape& sample_shape,
                          std::vector<std::string>* class_names = nullptr);

}  // namespace edgeperf::eval
