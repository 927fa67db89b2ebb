// V4L2 capture, written from the kernel's Video for Linux API specification: VIDIOC_QUERYCAP,
// S_FMT, S_PARM, REQBUFS (MMAP), QUERYBUF, QBUF, STREAMON, then DQBUF/QBUF per frame.
#include "edgeperf/vision/v4l2.h"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stb/stb_image.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <regex>
#include <vector>

#include "edgeperf/core/error.h"

namespace edgeperf::vision {
namespace {

class SystemIo final : public V4l2Io {
 public:
  int open(const char* path) override { return ::open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC); }
  int close(int fd) override { return ::close(fd); }
  int ioctl(int fd, unsigned long request, void* argument) override {
    int result = 0;
    do {
      result = ::ioctl(fd, request, argument);
    } while (result == -1 && errno == EINTR);
    return result;
  }
  void* mmap(std::size_t length, int fd, off_t offset) override {
    return ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
  }
  int munmap(void* address, std::size_t length) override { return ::munmap(address, length); }
  int poll(int fd, int timeout_ms) override {
    pollfd entry{fd, POLLIN, 0};
    int result = 0;
    do {
      result = ::poll(&entry, 1, timeout_ms);
    } while (result == -1 && errno == EINTR);
    return result;
  }
};

std::string fourcc_text(std::uint32_t code) {
  std::string text;
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((code >> (8 * i)) & 0xff);
    text += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  return text;
}

std::uint8_t clamp_byte(int value) { return static_cast<std::uint8_t>(std::clamp(value, 0, 255)); }

class V4l2Source final : public FrameSource {
 public:
  V4l2Source(const V4l2Request& request, std::shared_ptr<V4l2Io> io)
      : request_(request), io_(std::move(io)) {
    fd_ = io_->open(request.device.c_str());
    EP_CHECK(fd_ >= 0, "--source v4l2:{}: cannot open: {}", request.device, std::strerror(errno));
    try {
      check_capture_device();
      negotiate_format();
      set_frame_rate();
      map_buffers();
      start_streaming();
    } catch (...) {
      release();
      throw;
    }
  }
  ~V4l2Source() override { release(); }

  std::optional<Frame> next() override {
    const int ready = io_->poll(fd_, request_.timeout_ms);
    EP_CHECK(ready >= 0, "--source v4l2:{}: frame {}: poll failed: {}", request_.device, index_,
             std::strerror(errno));
    EP_CHECK(ready > 0, "--source v4l2:{}: frame {}: no frame within {} ms (the device stopped)",
             request_.device, index_, request_.timeout_ms);
    v4l2_buffer buffer{};
    buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buffer.memory = V4L2_MEMORY_MMAP;
    if (io_->ioctl(fd_, VIDIOC_DQBUF, &buffer) != 0) {
      fail("--source v4l2:{}: frame {}: the device stopped mid-stream ({})", request_.device,
           index_, std::strerror(errno));
    }
    EP_CHECK(buffer.index < buffers_.size(), "--source v4l2:{}: frame {}: buffer {} out of range",
             request_.device, index_, buffer.index);
    Frame frame;
    frame.index = index_;
    try {
      frame = convert(buffer);
    } catch (...) {
      io_->ioctl(fd_, VIDIOC_QBUF, &buffer);
      throw;
    }
    EP_CHECK(io_->ioctl(fd_, VIDIOC_QBUF, &buffer) == 0,
             "--source v4l2:{}: frame {}: cannot requeue buffer: {}", request_.device, index_,
             std::strerror(errno));
    ++index_;
    return frame;
  }
  double nominal_fps() const override { return fps_; }
  bool live() const override { return true; }
  bool rewind() override { return false; }
  std::string describe() const override {
    return "v4l2 " + request_.device + " " + std::to_string(width_) + "x" +
           std::to_string(height_) + " " + fourcc_text(pixel_format_) + "@" +
           std::to_string(static_cast<int>(fps_));
  }

 private:
  struct Mapped {
    void* address = nullptr;
    std::size_t length = 0;
  };

  void check_capture_device() {
    v4l2_capability capability{};
    EP_CHECK(io_->ioctl(fd_, VIDIOC_QUERYCAP, &capability) == 0,
             "--source v4l2:{}: not a V4L2 device ({})", request_.device, std::strerror(errno));
    const std::uint32_t caps = (capability.capabilities & V4L2_CAP_DEVICE_CAPS) != 0
                                   ? capability.device_caps
                                   : capability.capabilities;
    EP_CHECK((caps & V4L2_CAP_VIDEO_CAPTURE) != 0 && (caps & V4L2_CAP_STREAMING) != 0,
             "--source v4l2:{}: not a video capture device with streaming I/O", request_.device);
  }

  // Asks for each acceptable format in turn; the driver answers with what it will do.
  void negotiate_format() {
    std::vector<std::uint32_t> wanted;
    if (request_.format != PixelFormat::mjpeg) wanted.push_back(V4L2_PIX_FMT_YUYV);
    if (request_.format != PixelFormat::yuyv) wanted.push_back(V4L2_PIX_FMT_MJPEG);
    std::string offered;
    for (std::uint32_t code : wanted) {
      v4l2_format format{};
      format.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      format.fmt.pix.width = static_cast<std::uint32_t>(request_.width);
      format.fmt.pix.height = static_cast<std::uint32_t>(request_.height);
      format.fmt.pix.pixelformat = code;
      format.fmt.pix.field = V4L2_FIELD_NONE;
      if (io_->ioctl(fd_, VIDIOC_S_FMT, &format) != 0) {
        offered += (offered.empty() ? "" : ", ") + fourcc_text(code) + " refused (" +
                   std::strerror(errno) + ")";
        continue;
      }
      if (format.fmt.pix.pixelformat != code) {
        offered += (offered.empty() ? "" : ", ") + fourcc_text(code) + " answered with " +
                   fourcc_text(format.fmt.pix.pixelformat);
        continue;
      }
      pixel_format_ = code;
      width_ = static_cast<int>(format.fmt.pix.width);
      height_ = static_cast<int>(format.fmt.pix.height);
      stride_ = format.fmt.pix.bytesperline != 0 ? format.fmt.pix.bytesperline
                                                 : static_cast<std::size_t>(width_) * 2;
      EP_CHECK(width_ > 0 && height_ > 0 && width_ <= 8192 && height_ <= 8192 && width_ % 2 == 0,
               "--source v4l2:{}: the driver set an unusable size {}x{}", request_.device, width_,
               height_);
      EP_CHECK(code != V4L2_PIX_FMT_YUYV || stride_ >= static_cast<std::size_t>(width_) * 2,
               "--source v4l2:{}: line stride {} is shorter than {} YUYV pixels", request_.device,
               stride_, width_);
      return;
    }
    fail("--source v4l2:{}: the device takes neither YUYV nor MJPEG at {}x{} ({})", request_.device,
         request_.width, request_.height, offered);
  }

  void set_frame_rate() {
    v4l2_streamparm parameters{};
    parameters.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    parameters.parm.capture.timeperframe.numerator = 1000;
    parameters.parm.capture.timeperframe.denominator =
        static_cast<std::uint32_t>(std::lround(request_.fps * 1000));
    // Not every driver sets the rate; then its own rate (G_PARM) is the one reported.
    io_->ioctl(fd_, VIDIOC_S_PARM, &parameters);
    if (io_->ioctl(fd_, VIDIOC_G_PARM, &parameters) == 0 &&
        parameters.parm.capture.timeperframe.numerator != 0) {
      fps_ = static_cast<double>(parameters.parm.capture.timeperframe.denominator) /
             parameters.parm.capture.timeperframe.numerator;
    } else {
      fps_ = request_.fps;
    }
  }

  void map_buffers() {
    v4l2_requestbuffers buffers{};
    buffers.count = static_cast<std::uint32_t>(request_.buffers);
    buffers.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buffers.memory = V4L2_MEMORY_MMAP;
    EP_CHECK(io_->ioctl(fd_, VIDIOC_REQBUFS, &buffers) == 0 && buffers.count > 0,
             "--source v4l2:{}: cannot get mmap buffers ({})", request_.device,
             std::strerror(errno));
    for (std::uint32_t i = 0; i < buffers.count; ++i) {
      v4l2_buffer buffer{};
      buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      buffer.memory = V4L2_MEMORY_MMAP;
      buffer.index = i;
      EP_CHECK(io_->ioctl(fd_, VIDIOC_QUERYBUF, &buffer) == 0,
               "--source v4l2:{}: cannot query buffer {} ({})", request_.device, i,
               std::strerror(errno));
      void* address = io_->mmap(buffer.length, fd_, static_cast<off_t>(buffer.m.offset));
      EP_CHECK(address != MAP_FAILED, "--source v4l2:{}: cannot map buffer {} ({})",
               request_.device, i, std::strerror(errno));
      buffers_.push_back({address, buffer.length});
      EP_CHECK(io_->ioctl(fd_, VIDIOC_QBUF, &buffer) == 0,
               "--source v4l2:{}: cannot queue buffer {} ({})", request_.device, i,
               std::strerror(errno));
    }
  }

  void start_streaming() {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    EP_CHECK(io_->ioctl(fd_, VIDIOC_STREAMON, &type) == 0, "--source v4l2:{}: cannot start: {}",
             request_.device, std::strerror(errno));
    streaming_ = true;
  }

  Frame convert(const v4l2_buffer& buffer) const {
    const auto* data = static_cast<const std::uint8_t*>(buffers_[buffer.index].address);
    const std::size_t used = std::min<std::size_t>(buffer.bytesused, buffers_[buffer.index].length);
    Frame frame;
    frame.index = index_;
    if (pixel_format_ == V4L2_PIX_FMT_YUYV) {
      EP_CHECK(used >= stride_ * static_cast<std::size_t>(height_ - 1) +
                           static_cast<std::size_t>(width_) * 2,
               "--source v4l2:{}: frame {}: {} bytes, short of a {}x{} YUYV image", request_.device,
               index_, used, width_, height_);
      frame.width = width_;
      frame.height = height_;
      frame.rgb.resize(static_cast<std::size_t>(width_) * height_ * 3);
      yuyv_to_rgb(data, width_, height_, stride_, frame.rgb.data());
      return frame;
    }
    int width = 0, height = 0, channels = 0;
    stbi_uc* pixels =
        stbi_load_from_memory(data, static_cast<int>(used), &width, &height, &channels, 3);
    EP_CHECK(pixels != nullptr, "--source v4l2:{}: frame {}: cannot decode MJPEG: {}",
             request_.device, index_, stbi_failure_reason());
    frame.width = width;
    frame.height = height;
    frame.rgb.assign(pixels, pixels + static_cast<std::size_t>(width) * height * 3);
    stbi_image_free(pixels);
    return frame;
  }

  void release() {
    if (fd_ < 0) return;
    if (streaming_) {
      int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      io_->ioctl(fd_, VIDIOC_STREAMOFF, &type);
    }
    for (const Mapped& mapped : buffers_) io_->munmap(mapped.address, mapped.length);
    buffers_.clear();
    io_->close(fd_);
    fd_ = -1;
  }

  V4l2Request request_;
  std::shared_ptr<V4l2Io> io_;
  int fd_ = -1;
  bool streaming_ = false;
  std::uint32_t pixel_format_ = 0;
  int width_ = 0, height_ = 0;
  std::size_t stride_ = 0;
  double fps_ = 0;
  std::vector<Mapped> buffers_;
  std::int64_t index_ = 0;
};

}  // namespace

std::unique_ptr<V4l2Io> system_v4l2_io() { return std::make_unique<SystemIo>(); }

void yuyv_to_rgb(const std::uint8_t* yuyv, int width, int height, std::size_t stride,
                 std::uint8_t* rgb) {
  // BT.601, limited range, fixed point (x256): R = 1.164(Y-16) + 1.596(V-128), ...
  for (int y = 0; y < height; ++y) {
    const std::uint8_t* in = yuyv + static_cast<std::size_t>(y) * stride;
    std::uint8_t* out = rgb + static_cast<std::size_t>(y) * width * 3;
    for (int x = 0; x < width; ++x) {
      const int luma = 298 * (in[2 * x] - 16);
      const int pair = x & ~1;
      const int u = in[2 * pair + 1] - 128, v = in[2 * pair + 3] - 128;
      out[3 * x] = clamp_byte((luma + 409 * v + 128) >> 8);
      out[3 * x + 1] = clamp_byte((luma - 100 * u - 208 * v + 128) >> 8);
      out[3 * x + 2] = clamp_byte((luma + 516 * u + 128) >> 8);
    }
  }
}

V4l2Request parse_v4l2_spec(const std::string& spec) {
  static const std::regex kSpec(
      R"(([^:]+)(?::(\d{1,5})x(\d{1,5})(?:@(\d+(?:\.\d+)?))?)?(?::(yuyv|mjpeg))?)");
  std::smatch match;
  EP_CHECK(std::regex_match(spec, match, kSpec),
           "--source v4l2:{}: expected v4l2:/dev/videoN[:WxH[@FPS]][:yuyv|mjpeg]", spec);
  V4l2Request request;
  request.device = match[1];
  if (match[2].matched) {
    request.width = std::stoi(match[2]);
    request.height = std::stoi(match[3]);
  }
  if (match[4].matched) request.fps = std::stod(match[4]);
  if (match[5].matched)
    request.format = match[5] == "yuyv" ? PixelFormat::yuyv : PixelFormat::mjpeg;
  EP_CHECK(
      request.width >= 8 && request.height >= 8 && request.width <= 8192 && request.height <= 8192,
      "--source v4l2:{}: size {}x{} is outside 8x8 to 8192x8192", spec, request.width,
      request.height);
  EP_CHECK(request.fps > 0 && request.fps <= 1000, "--source v4l2:{}: {} fps is outside (0, 1000]",
           spec, request.fps);
  return request;
}

std::unique_ptr<FrameSource> open_v4l2(const V4l2Request& request, std::shared_ptr<V4l2Io> io) {
  return std::make_unique<V4l2Source>(request, std::move(io));
}

}  // namespace edgeperf::vision
