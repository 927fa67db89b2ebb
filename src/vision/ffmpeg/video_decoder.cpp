// Video files through FFmpeg (Debian's libavformat, libavcodec, libswscale): demux, decode
// the best video stream, convert each frame to packed RGB. Built as the module
// edgeperf-video.so, which edgeperf loads only when a video file is opened: linking
// FFmpeg (and the ~140 libraries it pulls in) into edgeperf itself cost every run 27 MB
// of resident memory, counted in each model's peak RSS.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

#include <memory>

#include "edgeperf/core/error.h"
#include "edgeperf/vision/source.h"

namespace edgeperf::vision {
namespace {

std::string av_message(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

struct FormatCloser {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
struct CodecCloser {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct FrameFreer {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketFreer {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct ScaleFreer {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};

class VideoFileSource final : public FrameSource {
 public:
  explicit VideoFileSource(const std::string& path) : path_(path) {
    av_log_set_level(AV_LOG_QUIET);
    AVFormatContext* raw = nullptr;
    int code = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
    EP_CHECK(code >= 0, "--source file:{}: cannot open: {}", path, av_message(code));
    format_.reset(raw);
    code = avformat_find_stream_info(format_.get(), nullptr);
    EP_CHECK(code >= 0, "--source file:{}: cannot read stream info: {}", path, av_message(code));
    const AVCodec* codec = nullptr;
    stream_ = av_find_best_stream(format_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    EP_CHECK(stream_ >= 0 && codec != nullptr,
             "--source file:{}: no video stream FFmpeg can decode", path);
    codec_.reset(avcodec_alloc_context3(codec));
    EP_CHECK(codec_ != nullptr, "--source file:{}: out of memory", path);
    const AVStream* stream = format_->streams[stream_];
    code = avcodec_parameters_to_context(codec_.get(), stream->codecpar);
    EP_CHECK(code >= 0, "--source file:{}: {}", path, av_message(code));
    code = avcodec_open2(codec_.get(), codec, nullptr);
    EP_CHECK(code >= 0, "--source file:{}: cannot open the {} decoder: {}", path, codec->name,
             av_message(code));
    const AVRational rate =
        stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
    fps_ = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
    decoded_.reset(av_frame_alloc());
    packet_.reset(av_packet_alloc());
  }

  std::optional<Frame> next() override {
    for (;;) {
      const int received = avcodec_receive_frame(codec_.get(), decoded_.get());
      if (received >= 0) return convert();
      if (received == AVERROR_EOF) return std::nullopt;
      EP_CHECK(received == AVERROR(EAGAIN), "--source file:{}: frame {}: {}", path_, index_,
               av_message(received));
      if (flushing_) return std::nullopt;
      feed_decoder();
    }
  }

  double nominal_fps() const override { return fps_; }

  bool rewind() override {
    if (av_seek_frame(format_.get(), stream_, 0, AVSEEK_FLAG_BACKWARD) < 0) return false;
    avcodec_flush_buffers(codec_.get());
    flushing_ = false;
    return true;
  }

  std::string describe() const override {
    return "file " + path_ + " (" + std::to_string(codec_->width) + "x" +
           std::to_string(codec_->height) + ", " + avcodec_get_name(codec_->codec_id) + ")";
  }

 private:
  // One packet of our stream into the decoder, or the end-of-stream flush.
  void feed_decoder() {
    for (;;) {
      const int read = av_read_frame(format_.get(), packet_.get());
      if (read < 0) {
        // The end of the file, or data that stops mid-stream: decode what was read.
        flushing_ = true;
        avcodec_send_packet(codec_.get(), nullptr);
        return;
      }
      const bool ours = packet_->stream_index == stream_;
      const int sent = ours ? avcodec_send_packet(codec_.get(), packet_.get()) : 0;
      av_packet_unref(packet_.get());
      EP_CHECK(sent >= 0 || sent == AVERROR(EAGAIN) || sent == AVERROR_INVALIDDATA,
               "--source file:{}: frame {}: {}", path_, index_, av_message(sent));
      if (ours) return;
    }
  }

  Frame convert() {
    const int width = decoded_->width, height = decoded_->height;
    EP_CHECK(width > 0 && height > 0, "--source file:{}: frame {} has no size", path_, index_);
    scale_.reset(sws_getCachedContext(scale_.release(), width, height,
                                      static_cast<AVPixelFormat>(decoded_->format), width, height,
                                      AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr));
    EP_CHECK(scale_ != nullptr, "--source file:{}: frame {}: unsupported pixel format", path_,
             index_);
    Frame frame{width, height,
                std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3), index_++,
                0};
    std::uint8_t* planes[4] = {frame.rgb.data(), nullptr, nullptr, nullptr};
    int strides[4] = {width * 3, 0, 0, 0};
    sws_scale(scale_.get(), decoded_->data, decoded_->linesize, 0, height, planes, strides);
    av_frame_unref(decoded_.get());
    return frame;
  }

  std::string path_;
  std::unique_ptr<AVFormatContext, FormatCloser> format_;
  std::unique_ptr<AVCodecContext, CodecCloser> codec_;
  std::unique_ptr<AVFrame, FrameFreer> decoded_;
  std::unique_ptr<AVPacket, PacketFreer> packet_;
  std::unique_ptr<SwsContext, ScaleFreer> scale_;
  int stream_ = -1;
  double fps_ = 0;
  bool flushing_ = false;
  std::int64_t index_ = 0;
};

}  // namespace

}  // namespace edgeperf::vision

// The module's one entry point (see video_file.cpp). Errors are thrown as edgeperf::Error.
extern "C" __attribute__((visibility("default"))) edgeperf::vision::FrameSource*
edgeperf_open_video_file(const std::string& path) {
  return new edgeperf::vision::VideoFileSource(path);
}
