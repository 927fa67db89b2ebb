#pragma once
// Frame sources for the vision pipeline: each yields RGB frames one at a time, and the
// pipeline's capture thread stamps them. Specs:
//   synthetic[:WxH[@FPS]]   a moving test pattern (default 640x480@30)
//   images:DIR              the folder's .jpg/.jpeg/.png/.bmp files, sorted by name
//   file:PATH               any video FFmpeg decodes
//   v4l2:/dev/videoN[:WxH[@FPS]][:yuyv|mjpeg]   a camera (vision/v4l2.h)
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeperf::vision {

struct Frame {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;  // height rows of width * 3 bytes
  std::int64_t index = 0;         // 0, 1, ... in capture order
  std::int64_t capture_ns = 0;    // monotonic clock, when the capture thread got it
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // The next frame, or nullopt at the end of the source. Throws Error (naming the source
  // and the frame) when a frame cannot be read.
  virtual std::optional<Frame> next() = 0;
  // The rate the source delivers at (a camera's or video's frame rate); 0 when unknown.
  virtual double nominal_fps() const = 0;
  // A camera: next() waits for the device's own clock, and frames not taken in time are
  // lost, so the pipeline neither paces nor blocks capture.
  virtual bool live() const { return false; }
  // Starts again from the first frame (--loop); false when the source cannot.
  virtual bool rewind() = 0;
  virtual std::string describe() const = 0;
};

// Throws Error with a one-line message for an unknown kind, a missing file or folder, or
// a video FFmpeg cannot open.
std::unique_ptr<FrameSource> open_source(const std::string& spec);

std::unique_ptr<FrameSource> open_synthetic(int width, int height, double fps);
std::unique_ptr<FrameSource> open_image_folder(const std::string& directory);
std::unique_ptr<FrameSource> open_video_file(const std::string& path);

}  // namespace edgeperf::vision
