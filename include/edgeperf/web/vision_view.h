#pragma once
// `edgeperf vision --serve`: the live view of the vision pipeline. The render thread
// publishes each annotated frame; viewers get the frames as an MJPEG stream and the
// results and stage times as Server-Sent Events, drawn by web/vision.html (overlay labels,
// FPS, a uPlot chart of the stages). JPEG encoding happens once per frame and only while
// someone watches; a slow viewer skips frames and never holds the pipeline back.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "edgeperf/vision/pipeline.h"

namespace edgeperf::web {

struct LiveViewOptions {
  std::string bind = "127.0.0.1";
  int port = 8060;                   // 0: any free port
  std::filesystem::path assets_dir;  // empty: located as the dashboard's are
  std::size_t max_viewers = 64;
  int jpeg_quality = 80;
  std::vector<std::string> labels;  // class names for the overlay
};

class LiveView {
 public:
  // Binds and starts serving; throws Error when the port cannot be bound.
  explicit LiveView(LiveViewOptions options);
  ~LiveView();  // stops serving; open streams end
  LiveView(const LiveView&) = delete;
  LiveView& operator=(const LiveView&) = delete;

  int port() const;
  std::string url() const;
  // From the render thread, once per frame.
  void publish(const vision::RenderedFrame& frame);
  // The run's final statistics (to_json of the result), served at /api/vision/summary.
  void finish(nlohmann::json summary);
  std::size_t viewers() const;  // open frame streams

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace edgeperf::web
