#pragma once
// Labeled evaluation data: DIR/inputs.npy ([N, ...] f32) and DIR/labels.npy ([N] integer),
// or PREFIX_inputs.npy and PREFIX_labels.npy (models/fixtures/digits_eval).
#include <cstdint>
#include <filesystem>
#include <vector>

#include "edgeperf/core/tensor.h"

namespace edgeperf::bench {

struct Dataset {
  Tensor inputs;                     // [N, ...]
  std::vector<std::int64_t> labels;  // N class indices
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  Shape sample_shape() const { return Shape(inputs.shape().begin() + 1, inputs.shape().end()); }
  // Samples [first, first + count) as one batch tensor (a copy).
  Tensor batch(std::int64_t first, std::int64_t count) const;
};

// Throws Error naming the directory or file: missing, unreadable, count mismatch,
// non-integer or negative labels.
Dataset load_dataset(const std::filesystem::path& directory);

// True when `directory` is an image folder: no inputs.npy, one subfolder per class.
bool is_image_folder(const std::filesystem::path& directory);
// Decodes an image folder (PNG, JPEG, BMP, via stb_image) into [N, C, H, W] f32 in [0, 1],
// resized bilinearly to `sample_shape` = {C, H, W}. Classes are the sorted subfolder
// names (label i = i-th name). Errors name the file that does not decode.
Dataset load_image_folder(const std::filesystem::path& directory, const Shape& sample_shape,
                          std::vector<std::string>* class_names = nullptr);

struct Accuracy {
  std::int64_t samples = 0;
  std::int64_t top1_correct = 0, top5_correct = 0;
  double top1 = 0, top5 = 0;  // fractions in [0, 1]
  std::vector<double> per_class;                         // recall per class
  std::vector<std::vector<std::int64_t>> confusion;      // [true][predicted]
};

// Scores [N, classes] logits against labels.
Accuracy score(const Tensor& logits, const std::vector<std::int64_t>& labels);

struct Fidelity {
  double top1_agreement = 0;  // fraction of samples whose argmax agrees
  double sqnr_db = 0;         // 10 log10(sum ref^2 / sum (ref - out)^2); inf when identical
  double cosine = 0;
};
Fidelity compare_outputs(const Tensor& reference, const Tensor& candidate);

}  // namespace edgeperf::bench
