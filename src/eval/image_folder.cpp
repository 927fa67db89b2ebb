// Image-folder datasets: DIR/<class>/<image>, decoded with Debian's stb_image.
#include <stb/stb_image.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "edgeperf/eval/dataset.h"

namespace edgeperf::eval {
namespace fs = std::filesystem;
namespace {

bool is_image_file(const fs::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), ::tolower);
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" || extension == ".bmp";
}

std::vector<fs::path> sorted_children(const fs::path& directory, bool directories) {
  std::vector<fs::path> children;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (directories ? entry.is_directory()
                    : entry.is_regular_file() && is_image_file(entry.path())) {
      children.push_back(entry.path());
    }
  }
  std::sort(children.begin(), children.end());
  return children;
}

// Bilinear resize (half-pixel centres) of an interleaved 8-bit image into planar floats.
void resize_into(const unsigned char* pixels, int width, int height, int channels,
                 std::int64_t out_channels, std::int64_t out_height, std::int64_t out_width,
                 float* out) {
  for (std::int64_t c = 0; c < out_channels; ++c) {
    const int source_channel = static_cast<int>(std::min<std::int64_t>(c, channels - 1));
    for (std::int64_t y = 0; y < out_height; ++y) {
      const double sy = std::clamp(
          (static_cast<double>(y) + 0.5) * height / static_cast<double>(out_height) - 0.5, 0.0,
          height - 1.0);
      const int y0 = static_cast<int>(sy), y1 = std::min(y0 + 1, height - 1);
      for (std::int64_t x = 0; x < out_width; ++x) {
        const double sx = std::clamp(
            (static_cast<double>(x) + 0.5) * width / static_cast<double>(out_width) - 0.5, 0.0,
            width - 1.0);
        const int x0 = static_cast<int>(sx), x1 = std::min(x0 + 1, width - 1);
        const auto at = [&](int yy, int xx) {
          return pixels[(yy * width + xx) * channels + source_channel] / 255.0;
        };
        const double fy = sy - y0, fx = sx - x0;
        const double value = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                             fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
        out[(c * out_height + y) * out_width + x] = static_cast<float>(value);
      }
    }
  }
}

}  // namespace

bool is_image_folder(const fs::path& directory) {
  if (!fs::is_directory(directory)) return false;
  const bool holds_npy = std::any_of(
      fs::directory_iterator(directory), fs::directory_iterator(),
      [](const fs::directory_entry& entry) { return entry.path().extension() == ".npy"; });
  return !holds_npy && !sorted_children(directory, true).empty();
}

Dataset load_image_folder(const fs::path& directory, const Shape& sample_shape,
                          std::vector<std::string>* class_names) {
  EP_CHECK(sample_shape.size() == 3 && (sample_shape[0] == 1 || sample_shape[0] == 3),
           "image folder '{}' needs a model input of [N, 1|3, H, W], got sample shape {}",
           directory.string(), shape_to_string(sample_shape));
  std::vector<std::pair<fs::path, std::int64_t>> files;
  const auto classes = sorted_children(directory, true);
  for (std::size_t label = 0; label < classes.size(); ++label) {
    if (class_names) class_names->push_back(classes[label].filename().string());
    for (const fs::path& file : sorted_children(classes[label], false))
      files.emplace_back(file, label);
  }
  EP_CHECK(!files.empty(), "image folder '{}' holds no .png, .jpg or .bmp images",
           directory.string());
  Dataset dataset;
  Shape shape = sample_shape;
  shape.insert(shape.begin(), static_cast<std::int64_t>(files.size()));
  dataset.inputs = Tensor(DType::f32, shape);
  const std::int64_t sample_size = element_count(sample_shape);
  for (std::size_t i = 0; i < files.size(); ++i) {
    int width = 0, height = 0, channels = 0;
    std::unique_ptr<unsigned char, void (*)(void*)> pixels(
        stbi_load(files[i].first.c_str(), &width, &height, &channels, 0), stbi_image_free);
    EP_CHECK(pixels != nullptr, "{}: cannot decode image: {}", files[i].first.string(),
             stbi_failure_reason());
    resize_into(pixels.get(), width, height, channels, sample_shape[0], sample_shape[1],
                sample_shape[2],
                dataset.inputs.data<float>() + static_cast<std::int64_t>(i) * sample_size);
    dataset.labels.push_back(files[i].second);
  }
  return dataset;
}

}  // namespace edgeperf::eval
