// Video files are decoded by the module edgeperf-video.so (src/vision/ffmpeg/), loaded the
// first time a video is opened, so that edgeperf runs that read no video never map FFmpeg.
#include <dlfcn.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/vision/source.h"

namespace edgeperf::vision {
namespace {

namespace fs = std::filesystem;

using OpenVideoFile = FrameSource* (*)(const std::string&);

constexpr const char* kModule = "edgeperf-video.so";

// Beside the program (a build tree), then the installed layout's lib/edgeperf, then the
// build tree this binary came from (its test programs live in subfolders).
std::vector<fs::path> module_candidates() {
  std::vector<fs::path> candidates;
  if (const std::optional<fs::path> folder = program_folder()) {
    candidates.push_back(*folder / kModule);
    candidates.push_back(folder->parent_path() / "lib" / "edgeperf" / kModule);
  }
#ifdef EP_VIDEO_MODULE_BUILD_PATH
  candidates.emplace_back(EP_VIDEO_MODULE_BUILD_PATH);
#endif
  return candidates;
}

OpenVideoFile load_module(const std::string& path) {
  for (const fs::path& candidate : module_candidates()) {
    if (!fs::exists(candidate)) continue;
    // Never closed: the decoder's code must outlive every source it made.
    void* module = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    EP_CHECK(module != nullptr, "--source file:{}: cannot load {}: {}", path, candidate.string(),
             dlerror());
    void* entry = dlsym(module, "edgeperf_open_video_file");
    EP_CHECK(entry != nullptr, "--source file:{}: {} has no edgeperf_open_video_file", path,
             candidate.string());
    return reinterpret_cast<OpenVideoFile>(entry);
  }
  fail(
      "--source file:{}: video files need {} (FFmpeg: libavformat, libavcodec, libswscale), "
      "which this build or install does not have",
      path, kModule);
}

}  // namespace

std::unique_ptr<FrameSource> open_video_file(const std::string& path) {
  return std::unique_ptr<FrameSource>(load_module(path)(path));
}

}  // namespace edgeperf::vision
