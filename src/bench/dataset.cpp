#include "edgeperf/bench/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "edgeperf/core/npy.h"

namespace edgeperf::bench {
namespace fs = std::filesystem;

Tensor Dataset::batch(std::int64_t first, std::int64_t count) const {
  EP_CHECK(first >= 0 && count > 0 && first + count <= size(), "batch [{}, {}) is outside the dataset of {}",
           first, first + count, size());
  Shape shape = inputs.shape();
  shape[0] = count;
  Tensor out(inputs.dtype(), shape);
  const std::size_t sample_bytes = inputs.nbytes() / static_cast<std::size_t>(size());
  std::memcpy(out.raw(), static_cast<const std::byte*>(inputs.raw()) + sample_bytes * first,
              sample_bytes * static_cast<std::size_t>(count));
  return out;
}

Dataset load_dataset(const fs::path& directory) {
  // DIR/inputs.npy + DIR/labels.npy, or PREFIX_inputs.npy + PREFIX_labels.npy.
  const bool is_prefix = !fs::is_directory(directory) && fs::exists(directory.string() + "_inputs.npy");
  EP_CHECK(is_prefix || fs::is_directory(directory),
           "dataset '{}' is neither a directory nor a PREFIX with PREFIX_inputs.npy", directory.string());
  const fs::path inputs_file = is_prefix ? fs::path(directory.string() + "_inputs.npy") : directory / "inputs.npy";
  const fs::path labels_file = is_prefix ? fs::path(directory.string() + "_labels.npy") : directory / "labels.npy";
  EP_CHECK(fs::exists(inputs_file), "dataset '{}' has no {}", directory.string(), inputs_file.filename().string());
  EP_CHECK(fs::exists(labels_file), "dataset '{}' has no {}", directory.string(), labels_file.filename().string());
  Dataset dataset;
  dataset.inputs = read_npy(inputs_file);
  const Tensor labels = read_npy(labels_file);
  EP_CHECK(dataset.inputs.rank() >= 1 && dataset.inputs.dim(0) > 0, "{}: expected [N, ...] with N > 0",
           inputs_file.string());
  EP_CHECK(labels.dtype() == DType::i64 || labels.dtype() == DType::i32 || labels.dtype() == DType::u8,
           "{}: labels must be integers, not {}", labels_file.string(), dtype_name(labels.dtype()));
  EP_CHECK(labels.rank() == 1, "{}: labels must be a vector [N], got {}", labels_file.string(),
           shape_to_string(labels.shape()));
  EP_CHECK(labels.dim(0) == dataset.inputs.dim(0), "dataset '{}': {} labels for {} inputs",
           directory.string(), labels.dim(0), dataset.inputs.dim(0));
  dataset.labels = labels.to_int64s();
  for (std::size_t i = 0; i < dataset.labels.size(); ++i) {
    EP_CHECK(dataset.labels[i] >= 0, "{}: label at row {} is negative", labels_file.string(), i);
  }
  return dataset;
}

Accuracy score(const Tensor& logits, const std::vector<std::int64_t>& labels) {
  EP_CHECK(logits.rank() == 2 && logits.dtype() == DType::f32,
           "accuracy needs [N, classes] f32 outputs, got {} {}", dtype_name(logits.dtype()),
           shape_to_string(logits.shape()));
  const std::int64_t n = logits.dim(0), classes = logits.dim(1);
  EP_CHECK(n == static_cast<std::int64_t>(labels.size()), "{} outputs for {} labels", n, labels.size());
  Accuracy result;
  result.samples = n;
  result.confusion.assign(static_cast<std::size_t>(classes), std::vector<std::int64_t>(classes, 0));
  const float* data = logits.data<float>();
  std::vector<std::int64_t> order(static_cast<std::size_t>(classes));
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = data + i * classes;
    const std::int64_t label = labels[static_cast<std::size_t>(i)];
    EP_CHECK(label < classes, "label {} at row {} is outside the model's {} classes", label, i, classes);
    std::iota(order.begin(), order.end(), 0);
    const std::size_t top = std::min<std::size_t>(5, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                      [&](std::int64_t a, std::int64_t b) { return row[a] > row[b]; });
    result.top1_correct += order[0] == label;
    result.top5_correct += std::find(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), label) !=
                           order.begin() + static_cast<std::ptrdiff_t>(top);
    ++result.confusion[static_cast<std::size_t>(label)][static_cast<std::size_t>(order[0])];
  }
  result.top1 = static_cast<double>(result.top1_correct) / static_cast<double>(n);
  result.top5 = static_cast<double>(result.top5_correct) / static_cast<double>(n);
  for (const auto& row : result.confusion) {
    const std::int64_t total = std::accumulate(row.begin(), row.end(), std::int64_t{0});
    const std::size_t index = result.per_class.size();
    result.per_class.push_back(total ? static_cast<double>(row[index]) / static_cast<double>(total) : 0.0);
  }
  return result;
}

Fidelity compare_outputs(const Tensor& reference, const Tensor& candidate) {
  EP_CHECK(reference.shape() == candidate.shape() && reference.dtype() == DType::f32 &&
               candidate.dtype() == DType::f32,
           "fidelity needs two f32 outputs of one shape, got {} and {}",
           shape_to_string(reference.shape()), shape_to_string(candidate.shape()));
  const auto ref = reference.values<float>();
  const auto out = candidate.values<float>();
  double signal = 0, noise = 0, dot = 0, ref_norm = 0, out_norm = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    signal += double(ref[i]) * ref[i];
    noise += (double(ref[i]) - out[i]) * (double(ref[i]) - out[i]);
    dot += double(ref[i]) * out[i];
    ref_norm += double(ref[i]) * ref[i];
    out_norm += double(out[i]) * out[i];
  }
  Fidelity fidelity;
  fidelity.sqnr_db = noise == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(signal / noise);
  fidelity.cosine = ref_norm > 0 && out_norm > 0 ? dot / std::sqrt(ref_norm * out_norm) : 0;
  const std::int64_t rows = reference.rank() >= 2 ? reference.dim(0) : 1;
  const std::int64_t width = static_cast<std::int64_t>(ref.size()) / std::max<std::int64_t>(rows, 1);
  std::int64_t agree = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto begin_ref = ref.begin() + r * width, begin_out = out.begin() + r * width;
    agree += std::max_element(begin_ref, begin_ref + width) - begin_ref ==
             std::max_element(begin_out, begin_out + width) - begin_out;
  }
  fidelity.top1_agreement = static_cast<double>(agree) / static_cast<double>(rows);
  return fidelity;
}

}  // namespace edgeperf::bench
