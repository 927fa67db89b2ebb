#pragma once
// Linux V4L2 capture (v4l2:/dev/videoN[:WxH[@FPS]][:yuyv|mjpeg]): negotiates YUYV or
// MJPEG, streams through mmap'd buffers, converts each frame to RGB. The system calls go
// through V4l2Io so tests can stand in a fake driver where no camera exists.
#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

#include "edgeperf/vision/source.h"

namespace edgeperf::vision {

class V4l2Io {
 public:
  virtual ~V4l2Io() = default;
  virtual int open(const char* path) = 0;  // -1 and errno on failure, as open(2)
  virtual int close(int fd) = 0;
  virtual int ioctl(int fd, unsigned long request, void* argument) = 0;
  virtual void* mmap(std::size_t length, int fd, off_t offset) = 0;  // MAP_FAILED on failure
  virtual int munmap(void* address, std::size_t length) = 0;
  // Waits until a buffer is ready: >0 ready, 0 timed out, -1 and errno on failure.
  virtual int poll(int fd, int timeout_ms) = 0;
};

// The kernel's calls.
std::unique_ptr<V4l2Io> system_v4l2_io();

enum class PixelFormat { any, yuyv, mjpeg };

struct V4l2Request {
  std::string device = "/dev/video0";
  int width = 640, height = 480;
  double fps = 30;
  PixelFormat format = PixelFormat::any;  // any: YUYV, else MJPEG
  int buffers = 4;
  int timeout_ms = 2000;  // a device silent this long has stopped
};

// Parses "/dev/video0[:640x480[@30]][:yuyv|mjpeg]" (what follows "v4l2:").
V4l2Request parse_v4l2_spec(const std::string& spec);

// Throws Error naming the device for a missing device, one that is not a capture device,
// one that refuses both formats, or a failed buffer setup; next() throws when the
// device stops mid-stream or a frame cannot be decoded.
std::unique_ptr<FrameSource> open_v4l2(const V4l2Request& request, std::shared_ptr<V4l2Io> io);

// Packed YUYV (Y0 U Y1 V, BT.601 limited range, as UVC cameras send) to RGB.
void yuyv_to_rgb(const std::uint8_t* yuyv, int width, int height, std::size_t stride,
                 std::uint8_t* rgb);

}  // namespace edgeperf::vision
