#include "edgeperf/eval/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgeperf/core/error.h"
#include "edgeperf/core/npy.h"

namespace edgeperf::eval {
namespace fs = std::filesystem;
namespace {

std::vector<fs::path> npy_files_in(const fs::path& directory) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
    if (entry.is_regular_file() && entry.path().extension() == ".npy")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<fs::path> existing_file(const fs::path& path) {
  if (fs::is_regular_file(path)) return path;
  return std::nullopt;
}

DataFiles resolve_directory(const fs::path& spec) {
  DataFiles files{spec, {}, std::nullopt, false};
  if (fs::is_regular_file(spec / "inputs.npy")) {
    files.inputs = {spec / "inputs.npy"};
    files.labels = existing_file(spec / "labels.npy");
    return files;
  }
  files.inputs = npy_files_in(spec);
  if (!files.inputs.empty()) return files;
  files.image_folder = is_image_folder(spec);
  EP_CHECK(files.image_folder, "data directory '{}' holds no .npy files and no class folders",
           spec.string());
  return files;
}

// Rejects NaN and Inf in f32 rows, naming the file and the row (`first_row` is rows[0]).
void check_finite(const Tensor& rows, const std::string& file, std::int64_t first_row) {
  if (rows.dtype() != DType::f32 || rows.numel() == 0) return;
  const std::int64_t row_size = rows.numel() / rows.dim(0);
  const std::span<const float> values = rows.values<float>();
  for (std::size_t i = 0; i < values.size(); ++i) {
    EP_CHECK(std::isfinite(values[i]), "data file '{}' sample {} holds {}", file,
             first_row + static_cast<std::int64_t>(i) / row_size,
             std::isnan(values[i]) ? "NaN" : "Inf");
  }
}

// `data` as [rows, sample...] for `input`: one row per sample of the input's element count.
// A file holding exactly one sample (without a batch dimension) is one row.
Tensor conform_to_input(const Tensor& data, const graph::ValueInfo& input,
                        const std::string& file) {
  EP_CHECK(data.dtype() == input.dtype, "data '{}' holds {} but model input '{}' takes {}", file,
           dtype_name(data.dtype()), input.name, dtype_name(input.dtype));
  const Shape sample = sample_shape_of(input);
  const std::int64_t sample_size = element_count(sample);
  const bool single =
      data.rank() == static_cast<std::int64_t>(sample.size()) && data.numel() == sample_size;
  const std::int64_t rows = single || data.rank() == 0 ? 1 : data.dim(0);
  const Shape stored = single || data.rank() == 0
                           ? data.shape()
                           : Shape(data.shape().begin() + 1, data.shape().end());
  EP_CHECK(rows > 0, "data '{}' has no samples (its first dimension is 0)", file);
  EP_CHECK(data.numel() == rows * sample_size,
           "data '{}' holds samples of {} {} but model input '{}' takes {} {} per sample", file,
           dtype_name(data.dtype()), shape_to_string(stored), input.name, dtype_name(input.dtype),
           shape_to_string(sample));
  Shape shape = sample;
  shape.insert(shape.begin(), rows);
  return data.reshaped(shape);
}

Tensor read_rows(const fs::path& file, const LoadOptions& options) {
  Tensor data = read_npy(file);
  if (options.input) {
    data = conform_to_input(data, *options.input, file.string());
  } else {
    EP_CHECK(data.rank() >= 1 && data.dim(0) > 0, "data file '{}': expected [N, ...] with N > 0",
             file.string());
  }
  return data;
}

Tensor concatenate_rows(const std::vector<Tensor>& parts, const std::vector<fs::path>& files) {
  if (parts.size() == 1) return parts.front();
  Shape shape = parts.front().shape();
  shape[0] = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Shape& part = parts[i].shape();
    EP_CHECK(parts[i].dtype() == parts[0].dtype() &&
                 std::equal(part.begin() + 1, part.end(), shape.begin() + 1, shape.end()),
             "data file '{}' holds {} {} but '{}' holds {} {}", files[i].string(),
             dtype_name(parts[i].dtype()), shape_to_string(part), files[0].string(),
             dtype_name(parts[0].dtype()), shape_to_string(parts[0].shape()));
    shape[0] += part[0];
  }
  Tensor out(parts.front().dtype(), shape);
  std::size_t offset = 0;
  for (const Tensor& part : parts) {
    std::memcpy(static_cast<std::byte*>(out.raw()) + offset, part.raw(), part.nbytes());
    offset += part.nbytes();
  }
  return out;
}

std::vector<std::int64_t> read_labels(const fs::path& file, const DataFiles& files,
                                      std::int64_t samples) {
  const Tensor labels = read_npy(file);
  EP_CHECK(
      labels.dtype() == DType::i64 || labels.dtype() == DType::i32 || labels.dtype() == DType::u8,
      "{}: labels must be integers, not {}", file.string(), dtype_name(labels.dtype()));
  EP_CHECK(labels.rank() == 1, "{}: labels must be a vector [N], got {}", file.string(),
           shape_to_string(labels.shape()));
  EP_CHECK(labels.dim(0) == samples, "dataset '{}': {} labels for {} inputs", files.spec.string(),
           labels.dim(0), samples);
  std::vector<std::int64_t> values = labels.to_int64s();
  for (std::size_t i = 0; i < values.size(); ++i) {
    EP_CHECK(values[i] >= 0, "{}: label at row {} is negative", file.string(), i);
  }
  return values;
}

Dataset load_image_dataset(const DataFiles& files, const LoadOptions& options) {
  EP_CHECK(options.input.has_value(),
           "image folder '{}' needs the model's input shape to decode to", files.spec.string());
  Dataset dataset = load_image_folder(files.spec, sample_shape_of(*options.input));
  EP_CHECK(options.input->dtype == DType::f32,
           "image folder '{}' decodes to f32 but model input '{}' takes {}", files.spec.string(),
           options.input->name, dtype_name(options.input->dtype));
  return dataset;
}

Dataset load_npy_dataset(const DataFiles& files, const LoadOptions& options) {
  std::vector<Tensor> parts;
  for (const fs::path& file : files.inputs) parts.push_back(read_rows(file, options));
  Dataset dataset;
  dataset.inputs = concatenate_rows(parts, files.inputs);
  if (files.labels) dataset.labels = read_labels(*files.labels, files, dataset.size());
  return dataset;
}

}  // namespace

DataFiles resolve_data(const fs::path& spec) {
  if (fs::is_regular_file(spec)) return {spec, {spec}, std::nullopt, false};
  if (fs::is_directory(spec)) return resolve_directory(spec);
  const fs::path prefixed_inputs = spec.string() + "_inputs.npy";
  EP_CHECK(fs::is_regular_file(prefixed_inputs),
           "data '{}' does not exist (give FILE.npy, PREFIX with PREFIX_inputs.npy, a directory "
           "of .npy files or an image folder)",
           spec.string());
  return {spec, {prefixed_inputs}, existing_file(spec.string() + "_labels.npy"), false};
}

Dataset shaped_for(Dataset data, const graph::ValueInfo& input, const fs::path& spec) {
  data.inputs = conform_to_input(data.inputs, input, spec.string());
  return data;
}

Shape sample_shape_of(const graph::ValueInfo& input) {
  std::string open_dims;
  for (std::size_t i = 1; i < input.dims.size(); ++i) {
    if (input.dims[i].is_static()) continue;
    const std::string& symbol = input.dims[i].symbol;
    open_dims += (open_dims.empty() ? "" : ", ") + (symbol.empty() ? "?" : symbol);
  }
  EP_CHECK(open_dims.empty(),
           "model input '{}' has symbolic dims {} after the batch dim, so samples have no "
           "fixed shape; give it with --shape {}=DIMS",
           input.name, open_dims, input.name);
  const Shape shape = input.resolved_shape(1);
  EP_CHECK(!shape.empty(), "model input '{}' has no batch dimension to feed samples along",
           input.name);
  return Shape(shape.begin() + 1, shape.end());
}

Tensor Dataset::batch(std::int64_t first, std::int64_t count) const {
  EP_CHECK(first >= 0 && count > 0 && first + count <= size(),
           "batch [{}, {}) is outside the dataset of {}", first, first + count, size());
  Shape shape = inputs.shape();
  shape[0] = count;
  Tensor out(inputs.dtype(), shape);
  const std::size_t sample_bytes = inputs.nbytes() / static_cast<std::size_t>(size());
  std::memcpy(out.raw(), static_cast<const std::byte*>(inputs.raw()) + sample_bytes * first,
              sample_bytes * static_cast<std::size_t>(count));
  return out;
}

Dataset load_dataset(const fs::path& spec, const LoadOptions& options) {
  const DataFiles files = resolve_data(spec);
  Dataset dataset =
      files.image_folder ? load_image_dataset(files, options) : load_npy_dataset(files, options);
  EP_CHECK(!options.require_labels || dataset.labeled(),
           "dataset '{}' has no labels (give DIR with inputs.npy and labels.npy, PREFIX with "
           "PREFIX_inputs.npy and PREFIX_labels.npy, or an image folder)",
           spec.string());
  return dataset;
}

SampleStream::SampleStream(const fs::path& spec, graph::ValueInfo input)
    : files_(resolve_data(spec)), input_(std::move(input)) {
  sample_shape_of(input_);  // fails now, not at the first sample, on a model it cannot feed
}

bool SampleStream::open_next_source() {
  LoadOptions options;
  options.input = input_;
  if (files_.image_folder) {
    if (next_file_++ > 0) return false;
    current_ = load_image_dataset(files_, options).inputs;
    current_name_ = files_.spec.string();
  } else {
    if (next_file_ >= files_.inputs.size()) return false;
    const fs::path& file = files_.inputs[next_file_++];
    current_ = read_rows(file, options);
    current_name_ = file.string();
  }
  next_row_ = 0;
  return true;
}

std::optional<Tensor> SampleStream::next() {
  while (current_.empty() || next_row_ >= current_.dim(0)) {
    if (!open_next_source()) return std::nullopt;
  }
  Shape shape = current_.shape();
  shape[0] = 1;
  Tensor sample(current_.dtype(), shape);
  std::memcpy(sample.raw(),
              static_cast<const std::byte*>(current_.raw()) +
                  static_cast<std::size_t>(next_row_) * sample.nbytes(),
              sample.nbytes());
  check_finite(sample, current_name_, next_row_);
  ++next_row_;
  return sample;
}

}  // namespace edgeperf::eval
