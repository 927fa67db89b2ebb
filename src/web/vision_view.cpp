// The vision pipeline's live view: MJPEG frames, SSE results and stage times, the page.
#include "edgeperf/web/vision_view.h"

#include <fmt/format.h>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "edgeperf/core/clock.h"
#include "edgeperf/core/error.h"
#include "edgeperf/web/dashboard.h"
#include "http_files.h"

namespace edgeperf::web {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kBoundary[] = "edgeperf-frame";

json finite_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

}  // namespace

struct LiveView::State {
  LiveViewOptions options;
  fs::path web_dir, uplot_dir;
  httplib::Server http;
  std::thread listener;
  int port = -1;
  ClientLimiter limiter;

  std::mutex mutex;  // guards everything below; used with `fresh`
  std::condition_variable fresh;
  bool stopping = false;
  std::uint64_t seq = 0;                    // of the newest event
  std::shared_ptr<const std::string> jpeg;  // newest frame, while someone watches
  std::uint64_t jpeg_seq = 0;
  std::string event;                         // newest event, as JSON text
  std::deque<std::int64_t> render_times_ns;  // the last second's, for FPS
  json summary;

  explicit State(LiveViewOptions o) : options(std::move(o)), limiter(options.max_viewers) {}

  void stream_frames(httplib::Response& res);
  void stream_events(httplib::Response& res);
  void add_routes();
};

void LiveView::State::stream_frames(httplib::Response& res) {
  auto slot = std::make_shared<ClientLimiter::Slot>(limiter.try_acquire());
  if (!*slot) {
    res.status = 503;
    res.set_content("too many viewers\n", "text/plain");
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  auto last = std::make_shared<std::uint64_t>(0);
  res.set_chunked_content_provider(
      fmt::format("multipart/x-mixed-replace; boundary={}", kBoundary),
      [this, slot, last](std::size_t, httplib::DataSink& sink) {
        std::shared_ptr<const std::string> frame;
        std::uint64_t frame_seq = 0;
        {
          std::unique_lock lock(mutex);
          fresh.wait_for(lock, std::chrono::seconds(1),
                         [&] { return stopping || (jpeg && jpeg_seq > *last); });
          if (stopping) {
            sink.done();
            return false;
          }
          if (jpeg && jpeg_seq > *last) {
            frame = jpeg;
            frame_seq = jpeg_seq;
          }
        }
        if (!frame) return sink.is_writable();
        *last = frame_seq;
        const std::string head = fmt::format(
            "--{}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nX-Seq: {}\r\n\r\n",
            kBoundary, frame->size(), frame_seq);
        return sink.write(head.data(), head.size()) && sink.write(frame->data(), frame->size()) &&
               sink.write("\r\n", 2);
      });
}

void LiveView::State::stream_events(httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  auto last = std::make_shared<std::uint64_t>(0);
  res.set_chunked_content_provider(
      "text/event-stream", [this, last](std::size_t, httplib::DataSink& sink) {
        std::string text;
        {
          std::unique_lock lock(mutex);
          fresh.wait_for(lock, std::chrono::seconds(1), [&] { return stopping || seq > *last; });
          if (stopping) {
            sink.done();
            return false;
          }
          if (seq > *last) {
            *last = seq;
            text = "data: " + event + "\n\n";
          }
        }
        if (text.empty()) text = ": idle\n\n";  // also finds closed connections
        return sink.write(text.data(), text.size());
      });
}

void LiveView::State::add_routes() {
  http.Get("/", [this](const httplib::Request&, httplib::Response& res) {
    serve_file(web_dir, "vision.html", res);
  });
  http.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) {
    res.status = 204;  // none: keeps browsers from logging a 404
  });
  http.Get(R"(/static/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    serve_file(web_dir, req.matches[1], res);
  });
  http.Get(R"(/vendor/uplot/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    serve_file(uplot_dir, req.matches[1], res);
  });
  http.Get("/api/vision/frames",
           [this](const httplib::Request&, httplib::Response& res) { stream_frames(res); });
  http.Get("/api/vision/events",
           [this](const httplib::Request&, httplib::Response& res) { stream_events(res); });
  http.Get("/api/vision/latest", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex);
    res.set_content(event.empty() ? "{}" : event, "application/json");
  });
  http.Get("/api/vision/summary", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex);
    res.set_content(summary.dump(), "application/json");
  });
}

LiveView::LiveView(LiveViewOptions options) : state_(std::make_unique<State>(std::move(options))) {
  State& s = *state_;
  EP_CHECK(s.options.port >= 0 && s.options.port <= 65535, "--serve {}: not a port number",
           s.options.port);
  if (!is_loopback(s.options.bind)) {
    fmt::print(stderr,
               "edgeperf: warning: live view bound to {} is reachable from other machines; it "
               "has no authentication\n",
               s.options.bind);
  }
  const fs::path assets = locate_assets(s.options.assets_dir);
  s.web_dir = assets / "web";
  s.uplot_dir = assets / "node_modules" / "uplot" / "dist";
  const std::size_t workers = s.options.max_viewers * 2 + 16;  // frames + events per viewer
  s.http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  s.http.set_keep_alive_timeout(2);
  s.http.set_tcp_nodelay(true);
  s.add_routes();
  s.port = bind_for_bursts(s.http, s.options.bind, s.options.port);
  EP_CHECK(s.port > 0, "--serve: cannot listen on {}:{} (address in use or not available)",
           s.options.bind, s.options.port);
  s.listener = std::thread([&s] { s.http.listen_after_bind(); });
}

LiveView::~LiveView() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->fresh.notify_all();
  state_->http.stop();
  if (state_->listener.joinable()) state_->listener.join();
}

int LiveView::port() const { return state_->port; }

std::string LiveView::url() const {
  return fmt::format("http://{}:{}/", state_->options.bind, state_->port);
}

std::size_t LiveView::viewers() const { return state_->limiter.active(); }

void LiveView::publish(const vision::RenderedFrame& rendered) {
  State& s = *state_;
  std::shared_ptr<const std::string> jpeg;
  if (s.limiter.active() > 0) {
    jpeg = std::make_shared<const std::string>(
        vision::encode_jpeg(rendered.frame, s.options.jpeg_quality));
  }
  const vision::FrameRecord& r = rendered.record;
  const std::int64_t now = monotonic_ns();
  json top = json::array();
  for (const vision::ClassScore& score : rendered.top) {
    top.push_back({{"index", score.index},
                   {"label", vision::class_name(score.index, s.options.labels)},
                   {"probability", score.probability}});
  }
  json boxes = json::array();
  for (const vision::Detection& d : rendered.detections) {
    boxes.push_back({{"box", {d.box.x1, d.box.y1, d.box.x2, d.box.y2}},
                     {"score", d.score},
                     {"label", vision::class_name(d.label, s.options.labels)}});
  }
  json event = {{"frame", rendered.frame.index},
                {"width", rendered.frame.width},
                {"height", rendered.frame.height},
                {"task", vision::task_name(rendered.task)},
                {"top", top},
                {"detections", boxes},
                {"captured", rendered.captured},
                {"dropped", rendered.dropped},
                {"stages_ms",
                 {{"capture", finite_or_null(r.capture_ms)},
                  {"preprocess", finite_or_null(r.preprocess_ms)},
                  {"infer", finite_or_null(r.infer_ms)},
                  {"to_view", static_cast<double>(now - r.capture_ns) / 1e6}}}};
  std::lock_guard lock(s.mutex);
  s.render_times_ns.push_back(now);
  while (now - s.render_times_ns.front() > 1'000'000'000) s.render_times_ns.pop_front();
  event["fps"] = static_cast<double>(s.render_times_ns.size() - 1) /
                 std::max(1e-9, static_cast<double>(now - s.render_times_ns.front()) / 1e9);
  event["viewers"] = s.limiter.active();
  event["seq"] = ++s.seq;
  s.event = event.dump();
  if (jpeg) {
    s.jpeg = std::move(jpeg);
    s.jpeg_seq = s.seq;
  }
  s.fresh.notify_all();
}

void LiveView::finish(json summary) {
  std::lock_guard lock(state_->mutex);
  state_->summary = std::move(summary);
}

}  // namespace edgeperf::web
