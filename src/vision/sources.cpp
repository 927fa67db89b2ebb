// Synthetic and image-folder sources, and the source spec parser.
#include <stb/stb_image.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>

#include "edgeperf/core/error.h"
#include "edgeperf/vision/source.h"
#include "edgeperf/vision/v4l2.h"

namespace edgeperf::vision {
namespace fs = std::filesystem;
namespace {

// A gradient with a bright square that moves one step per frame, so consecutive frames
// differ and a stuck pipeline shows.
class SyntheticSource final : public FrameSource {
 public:
  SyntheticSource(int width, int height, double fps) : width_(width), height_(height), fps_(fps) {}
  std::optional<Frame> next() override {
    Frame frame{width_, height_,
                std::vector<std::uint8_t>(static_cast<std::size_t>(width_) * height_ * 3), index_,
                0};
    const int square = std::max(8, std::min(width_, height_) / 6);
    const int left = static_cast<int>((index_ * 7) % std::max(1, width_ - square));
    const int top = static_cast<int>((index_ * 3) % std::max(1, height_ - square));
    for (int y = 0; y < height_; ++y) {
      std::uint8_t* row = frame.rgb.data() + static_cast<std::size_t>(y) * width_ * 3;
      for (int x = 0; x < width_; ++x) {
        const bool inside = x >= left && x < left + square && y >= top && y < top + square;
        row[3 * x] = inside ? 255 : static_cast<std::uint8_t>(255 * x / std::max(1, width_ - 1));
        row[3 * x + 1] =
            inside ? 255 : static_cast<std::uint8_t>(255 * y / std::max(1, height_ - 1));
        row[3 * x + 2] = inside ? 64 : static_cast<std::uint8_t>((index_ * 5) & 0xff);
      }
    }
    ++index_;
    return frame;
  }
  double nominal_fps() const override { return fps_; }
  bool rewind() override {
    index_ = 0;
    return true;
  }
  std::string describe() const override {
    return "synthetic " + std::to_string(width_) + "x" + std::to_string(height_) + "@" +
           std::to_string(static_cast<int>(fps_));
  }

 private:
  int width_, height_;
  double fps_;
  std::int64_t index_ = 0;
};

bool is_image_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

class ImageFolderSource final : public FrameSource {
 public:
  explicit ImageFolderSource(const std::string& directory) : directory_(directory) {
    std::error_code error;
    EP_CHECK(fs::is_directory(directory, error), "--source images:{}: not a directory", directory);
    for (const auto& entry : fs::directory_iterator(directory, error)) {
      if (entry.is_regular_file() && is_image_file(entry.path())) files_.push_back(entry.path());
    }
    std::sort(files_.begin(), files_.end());
    EP_CHECK(!files_.empty(), "--source images:{}: no .jpg, .png or .bmp files", directory);
  }
  std::optional<Frame> next() override {
    if (position_ >= files_.size()) return std::nullopt;
    const fs::path& file = files_[position_];
    int width = 0, height = 0, channels = 0;
    stbi_uc* pixels = stbi_load(file.c_str(), &width, &height, &channels, 3);
    EP_CHECK(pixels != nullptr, "--source images:{}: cannot decode {} (frame {}): {}", directory_,
             file.filename().string(), index_, stbi_failure_reason());
    Frame frame{
        width, height,
        std::vector<std::uint8_t>(pixels, pixels + static_cast<std::size_t>(width) * height * 3),
        index_++, 0};
    stbi_image_free(pixels);
    ++position_;
    return frame;
  }
  double nominal_fps() const override { return 0; }
  bool rewind() override {
    position_ = 0;
    return true;
  }
  std::string describe() const override {
    return "images " + directory_ + " (" + std::to_string(files_.size()) + " files)";
  }

 private:
  std::string directory_;
  std::vector<fs::path> files_;
  std::size_t position_ = 0;
  std::int64_t index_ = 0;
};

}  // namespace

std::unique_ptr<FrameSource> open_synthetic(int width, int height, double fps) {
  EP_CHECK(width >= 8 && height >= 8 && width <= 8192 && height <= 8192,
           "--source synthetic: size {}x{} is outside 8x8 to 8192x8192", width, height);
  EP_CHECK(fps > 0 && fps <= 1000, "--source synthetic: {} fps is outside (0, 1000]", fps);
  return std::make_unique<SyntheticSource>(width, height, fps);
}

std::unique_ptr<FrameSource> open_image_folder(const std::string& directory) {
  return std::make_unique<ImageFolderSource>(directory);
}

std::unique_ptr<FrameSource> open_source(const std::string& spec) {
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "synthetic") {
    if (rest.empty()) return open_synthetic(640, 480, 30);
    static const std::regex kSize(R"((\d{1,5})x(\d{1,5})(?:@(\d+(?:\.\d+)?))?)");
    std::smatch match;
    EP_CHECK(std::regex_match(rest, match, kSize),
             "--source {}: expected synthetic[:WxH[@FPS]], e.g. synthetic:640x480@30", spec);
    return open_synthetic(std::stoi(match[1]), std::stoi(match[2]),
                          match[3].matched ? std::stod(match[3]) : 30.0);
  }
  EP_CHECK(!rest.empty() && (kind == "images" || kind == "file" || kind == "v4l2"),
           "--source {}: expected synthetic[:WxH@FPS], images:DIR, file:PATH or "
           "v4l2:/dev/videoN[:WxH[@FPS]][:yuyv|mjpeg]",
           spec);
  if (kind == "v4l2") return open_v4l2(parse_v4l2_spec(rest), system_v4l2_io());
  if (kind == "images") return open_image_folder(rest);
  return open_video_file(rest);
}

}  // namespace edgeperf::vision
