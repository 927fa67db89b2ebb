// The V4L2 source against a fake driver: no camera exists where these tests run, so the
// fake answers each ioctl as the V4L2 specification says a driver does.
#include "edgeperf/vision/v4l2.h"

#include <gtest/gtest.h>
#include <linux/videodev2.h>
#include <stb/stb_image_write.h>
#include <sys/mman.h>

#include <cerrno>
#include <cmath>
#include <map>
#include <random>

#include "edgeperf/core/error.h"

namespace edgeperf::vision {
namespace {

struct FakeCamera {
  std::vector<std::uint32_t> formats = {V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_MJPEG};
  std::uint32_t width = 640, height = 480, fps = 30;
  bool capture_device = true;
  int frames_before_stop = 1000;                    // then DQBUF fails with ENODEV
  bool silent_after_stop = false;                   // poll times out instead
  std::array<std::uint8_t, 3> yuv = {81, 90, 240};  // BT.601 red
};

class FakeIo final : public V4l2Io {
 public:
  explicit FakeIo(FakeCamera camera) : camera_(camera) {}
  int open(const char* path) override {
    if (std::string(path) != "/dev/video7") {
      errno = ENOENT;
      return -1;
    }
    ++open_fds;
    return 7;
  }
  int close(int) override {
    --open_fds;
    return 0;
  }
  void* mmap(std::size_t length, int, off_t offset) override {
    const auto index = static_cast<std::size_t>(offset) / kBufferBytes;
    if (length != kBufferBytes || index >= storage_.size()) return MAP_FAILED;
    ++mapped;
    return storage_[index].data();
  }
  int munmap(void*, std::size_t) override {
    --mapped;
    return 0;
  }
  int poll(int, int) override {
    if (delivered_ >= camera_.frames_before_stop && camera_.silent_after_stop) return 0;
    return 1;
  }
  int ioctl(int, unsigned long request, void* argument) override {
    switch (request) {
      case VIDIOC_QUERYCAP: {
        auto* caps = static_cast<v4l2_capability*>(argument);
        caps->capabilities = V4L2_CAP_DEVICE_CAPS | V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
        caps->device_caps = camera_.capture_device ? V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING
                                                   : V4L2_CAP_VIDEO_OUTPUT;
        return 0;
      }
      case VIDIOC_S_FMT: {
        // A driver never refuses S_FMT for a format it lacks: it answers with its own.
        auto& pix = static_cast<v4l2_format*>(argument)->fmt.pix;
        if (std::find(camera_.formats.begin(), camera_.formats.end(), pix.pixelformat) ==
            camera_.formats.end()) {
          pix.pixelformat = camera_.formats.front();
        }
        pix.width = camera_.width;
        pix.height = camera_.height;
        pix.bytesperline = pix.pixelformat == V4L2_PIX_FMT_YUYV ? camera_.width * 2 : 0;
        format_ = pix.pixelformat;
        return 0;
      }
      case VIDIOC_S_PARM:
        return 0;
      case VIDIOC_G_PARM: {
        auto& frame = static_cast<v4l2_streamparm*>(argument)->parm.capture.timeperframe;
        frame.numerator = 1;
        frame.denominator = camera_.fps;
        return 0;
      }
      case VIDIOC_REQBUFS: {
        auto* buffers = static_cast<v4l2_requestbuffers*>(argument);
        buffers->count = std::min<std::uint32_t>(buffers->count, 3);
        storage_.assign(buffers->count, std::vector<std::uint8_t>(kBufferBytes));
        return 0;
      }
      case VIDIOC_QUERYBUF: {
        auto* buffer = static_cast<v4l2_buffer*>(argument);
        buffer->length = kBufferBytes;
        buffer->m.offset = buffer->index * kBufferBytes;
        return 0;
      }
      case VIDIOC_QBUF:
        queued_.push_back(static_cast<v4l2_buffer*>(argument)->index);
        return 0;
      case VIDIOC_STREAMON:
        streaming = true;
        return 0;
      case VIDIOC_STREAMOFF:
        streaming = false;
        return 0;
      case VIDIOC_DQBUF:
        return dequeue(*static_cast<v4l2_buffer*>(argument));
      default:
        errno = EINVAL;
        return -1;
    }
  }

  int open_fds = 0, mapped = 0;
  bool streaming = false;

 private:
  static constexpr std::size_t kBufferBytes = 1 << 20;

  int dequeue(v4l2_buffer& buffer) {
    if (delivered_ >= camera_.frames_before_stop || queued_.empty()) {
      errno = ENODEV;
      return -1;
    }
    buffer.index = queued_.front();
    queued_.erase(queued_.begin());
    std::vector<std::uint8_t>& data = storage_[buffer.index];
    if (format_ == V4L2_PIX_FMT_YUYV) {
      for (std::size_t i = 0; i < camera_.width * camera_.height / 2; ++i) {
        data[4 * i] = data[4 * i + 2] = camera_.yuv[0];
        data[4 * i + 1] = camera_.yuv[1];
        data[4 * i + 3] = camera_.yuv[2];
      }
      buffer.bytesused = camera_.width * camera_.height * 2;
    } else {
      std::vector<std::uint8_t> rgb(static_cast<std::size_t>(camera_.width) * camera_.height * 3);
      for (std::size_t i = 0; i < rgb.size(); i += 3) rgb[i + 2] = 255;  // blue
      std::string jpeg;
      stbi_write_jpg_to_func(
          [](void* context, void* bytes, int size) {
            static_cast<std::string*>(context)->append(static_cast<char*>(bytes),
                                                       static_cast<std::size_t>(size));
          },
          &jpeg, static_cast<int>(camera_.width), static_cast<int>(camera_.height), 3, rgb.data(),
          90);
      std::copy(jpeg.begin(), jpeg.end(), data.begin());
      buffer.bytesused = static_cast<std::uint32_t>(jpeg.size());
    }
    ++delivered_;
    return 0;
  }

  FakeCamera camera_;
  std::vector<std::vector<std::uint8_t>> storage_;
  std::vector<std::uint32_t> queued_;
  std::uint32_t format_ = 0;
  int delivered_ = 0;
};

V4l2Request camera_request() {
  V4l2Request request;
  request.device = "/dev/video7";
  request.timeout_ms = 10;
  return request;
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(V4l2, StreamsYuyvAsRgbAndReleasesEverything) {
  auto io = std::make_shared<FakeIo>(FakeCamera{});
  {
    auto source = open_v4l2(camera_request(), io);
    EXPECT_TRUE(io->streaming);
    EXPECT_EQ(io->mapped, 3);
    EXPECT_DOUBLE_EQ(source->nominal_fps(), 30);
    EXPECT_TRUE(source->live());
    EXPECT_NE(source->describe().find("YUYV"), std::string::npos) << source->describe();
    for (int i = 0; i < 10; ++i) {  // more frames than buffers: each is requeued
      const Frame frame = *source->next();
      ASSERT_EQ(frame.width, 640);
      ASSERT_EQ(frame.height, 480);
      EXPECT_NEAR(frame.rgb[0], 255, 2);  // BT.601 red
      EXPECT_NEAR(frame.rgb[1], 0, 2);
      EXPECT_NEAR(frame.rgb[2], 0, 2);
    }
  }
  EXPECT_FALSE(io->streaming);
  EXPECT_EQ(io->mapped, 0);
  EXPECT_EQ(io->open_fds, 0);
}

TEST(V4l2, TakesMjpegWhenTheDeviceOffersNoYuyv) {
  FakeCamera camera;
  camera.formats = {V4L2_PIX_FMT_MJPEG};
  auto io = std::make_shared<FakeIo>(camera);
  auto source = open_v4l2(camera_request(), io);
  EXPECT_NE(source->describe().find("MJPG"), std::string::npos) << source->describe();
  const Frame frame = *source->next();
  EXPECT_NEAR(frame.rgb[0], 0, 8);
  EXPECT_NEAR(frame.rgb[2], 255, 8);
}

TEST(V4l2, ADeviceThatRefusesBothFormatsIsNamed) {
  FakeCamera camera;
  camera.formats = {V4L2_PIX_FMT_NV12};
  auto io = std::make_shared<FakeIo>(camera);
  const std::string message = error_of([&] { open_v4l2(camera_request(), io); });
  EXPECT_NE(message.find("/dev/video7"), std::string::npos) << message;
  EXPECT_NE(message.find("neither YUYV nor MJPEG"), std::string::npos) << message;
  EXPECT_NE(message.find("NV12"), std::string::npos) << message;
  EXPECT_EQ(io->open_fds, 0);  // closed on the way out
  V4l2Request yuyv_only = camera_request();
  yuyv_only.format = PixelFormat::yuyv;
  camera.formats = {V4L2_PIX_FMT_MJPEG};
  EXPECT_THROW(open_v4l2(yuyv_only, std::make_shared<FakeIo>(camera)), Error);
}

TEST(V4l2, MissingOrWrongDevices) {
  const std::string missing = error_of([] { open_source("v4l2:/dev/edgeperf-no-such-video"); });
  EXPECT_NE(missing.find("cannot open"), std::string::npos) << missing;
  FakeCamera output_only;
  output_only.capture_device = false;
  EXPECT_NE(error_of([&] {
              open_v4l2(camera_request(), std::make_shared<FakeIo>(output_only));
            }).find("not a video capture device"),
            std::string::npos);
}

TEST(V4l2, ADeviceThatStopsMidStreamIsAnErrorNotAHang) {
  FakeCamera unplugged;
  unplugged.frames_before_stop = 3;
  auto source = open_v4l2(camera_request(), std::make_shared<FakeIo>(unplugged));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(source->next().has_value());
  const std::string message = error_of([&] { source->next(); });
  EXPECT_NE(message.find("frame 3"), std::string::npos) << message;
  EXPECT_NE(message.find("stopped mid-stream"), std::string::npos) << message;
  FakeCamera silent = unplugged;
  silent.silent_after_stop = true;
  source = open_v4l2(camera_request(), std::make_shared<FakeIo>(silent));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(source->next().has_value());
  EXPECT_NE(error_of([&] { source->next(); }).find("no frame within 10 ms"), std::string::npos);
}

TEST(V4l2, Specs) {
  const V4l2Request request = parse_v4l2_spec("/dev/video2:1280x720@15:mjpeg");
  EXPECT_EQ(request.device, "/dev/video2");
  EXPECT_EQ(request.width, 1280);
  EXPECT_EQ(request.height, 720);
  EXPECT_DOUBLE_EQ(request.fps, 15);
  EXPECT_EQ(request.format, PixelFormat::mjpeg);
  EXPECT_EQ(parse_v4l2_spec("/dev/video0").width, 640);
  EXPECT_THROW(parse_v4l2_spec("/dev/video0:640"), Error);
  EXPECT_THROW(parse_v4l2_spec("/dev/video0:4x4"), Error);
  EXPECT_THROW(parse_v4l2_spec("/dev/video0:640x480:nv12"), Error);
}

// The fixed-point conversion against the BT.601 formula in floating point.
TEST(V4l2, YuyvConversionMatchesTheFormula) {
  std::mt19937 random(7);
  const int width = 38, height = 5;
  const std::size_t stride = width * 2 + 6;  // padded lines
  std::vector<std::uint8_t> yuyv(stride * height);
  for (auto& byte : yuyv) byte = static_cast<std::uint8_t>(random());
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * height * 3);
  yuyv_to_rgb(yuyv.data(), width, height, stride, rgb.data());
  int worst = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const std::uint8_t* pair = yuyv.data() + y * stride + (x / 2) * 4;
      const double luma = 1.164 * (pair[(x % 2) * 2] - 16.0);
      const double u = pair[1] - 128.0, v = pair[3] - 128.0;
      const double expected[3] = {luma + 1.596 * v, luma - 0.391 * u - 0.813 * v, luma + 2.018 * u};
      for (int c = 0; c < 3; ++c) {
        const double clamped = std::clamp(std::round(expected[c]), 0.0, 255.0);
        worst = std::max(worst, std::abs(rgb[(y * width + x) * 3 + c] - static_cast<int>(clamped)));
      }
    }
  }
  EXPECT_LE(worst, 1);
}

}  // namespace
}  // namespace edgeperf::vision
