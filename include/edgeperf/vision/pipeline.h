#pragma once
// The real-time loop: capture -> preprocess -> infer -> render, one thread each, linked by
// bounded queues. Capture drops the oldest waiting frame when preprocessing is behind
// (a camera does not wait); every drop is counted. Each stage times its own work per
// frame; end-to-end latency runs from the capture stamp to the end of render.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/runtime/session.h"
#include "edgeperf/vision/postprocess.h"
#include "edgeperf/vision/preprocess.h"
#include "edgeperf/vision/source.h"

namespace edgeperf::vision {

// One captured frame's fate: its stage times (NaN where it did not get to a stage) and
// the result it rendered. --record writes these rows as Parquet.
struct FrameRecord {
  std::int64_t index = 0;
  std::int64_t capture_ns = 0;  // monotonic clock
  bool dropped = false;
  double capture_ms = NAN, preprocess_ms = NAN, infer_ms = NAN, render_ms = NAN,
         end_to_end_ms = NAN;
  int top_class = -1;     // classify: best class; detect: best box's; segment: largest non-0
  float top_score = NAN;  // its probability, box score, or share of the mask's pixels
  int detections = 0;     // detect: boxes kept
};

// What the render stage hands to a viewer (--serve): the annotated frame and its results.
struct RenderedFrame {
  const Frame& frame;  // with the overlay drawn in
  Task task;
  const std::vector<ClassScore>& top;
  const std::vector<Detection>& detections;  // in frame pixels
  const FrameRecord& record;
  std::int64_t captured = 0, dropped = 0;  // so far
};

struct PipelineOptions {
  std::int64_t max_frames = 0;  // stop after this many captured frames; 0: no limit
  double max_seconds = 0;       // stop capturing after this long; 0: no limit
  bool pace = true;             // deliver at the source's nominal rate, as a camera would
  bool loop = false;            // rewind at the end of a file or folder
  std::size_t top = 5;
  std::vector<std::string> labels;           // class names; "class N" beyond them
  std::optional<std::filesystem::path> out;  // annotated JPEG per rendered frame
  Task task = Task::classify;
  DetectOptions detect;
  std::optional<std::filesystem::path> record;          // per-frame Parquet (frames-NNNNNN.parquet)
  std::int64_t record_chunk_rows = 1800;                // rows per Parquet file
  std::optional<std::filesystem::path> dump;            // per frame: raw outputs (.npy) and results
  std::function<void(const RenderedFrame&)> on_render;  // called by the render thread
  const std::atomic<bool>* stop = nullptr;  // set (by a signal, say) to end capture early
};

struct StageStats {
  std::vector<double> ms;  // per frame that went through the stage
  double cpu_seconds = 0;  // the stage thread's CPU time
};

struct PipelineResult {
  std::string source;
  double source_fps = 0;  // nominal
  std::int64_t captured = 0, processed = 0, dropped = 0;
  double wall_seconds = 0;                   // first capture to last render
  std::map<std::string, StageStats> stages;  // capture, preprocess, infer, render
  std::vector<double> end_to_end_ms;
  std::vector<ClassScore> last_top;  // of the last rendered frame
  std::vector<Detection> last_detections;
  std::string last_label;
  std::int64_t record_files = 0;  // Parquet files written by --record
  double fps() const {
    return wall_seconds > 0 ? static_cast<double>(processed) / wall_seconds : 0;
  }
};

// The frame as JPEG bytes (quality 1-100): what --out writes and --serve streams.
std::string encode_jpeg(const Frame& frame, int quality);

// The pipeline feeds one f32 image input: [1, 3, H, W], [1, H, W, 3] or [3, H, W]
// (torchvision's detectors). bind_image_input gives the shape to plan the session for:
// the model's own, a dynamic batch set to 1 and a dynamic H and W to `size` (width,
// height), which is then required. Both throw Error naming the input and its shape when
// it is not such an image.
Shape bind_image_input(const graph::ValueInfo& input,
                       std::optional<std::pair<int, int>> size = std::nullopt);
PreprocessConfig input_config(const runtime::Session& session, PreprocessConfig base);

PipelineResult run_pipeline(FrameSource& source, runtime::Session& session,
                            const PreprocessConfig& preprocess, const PipelineOptions& options);

nlohmann::json to_json(const PipelineResult& result);

}  // namespace edgeperf::vision
