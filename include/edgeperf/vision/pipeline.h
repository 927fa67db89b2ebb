#pragma once
// The real-time loop: capture -> preprocess -> infer -> render, one thread each, linked by
// bounded queues. Capture drops the oldest waiting frame when preprocessing is behind
// (a camera does not wait); every drop is counted. Each stage times its own work per
// frame; end-to-end latency runs from the capture stamp to the end of render.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/runtime/session.h"
#include "edgeperf/vision/preprocess.h"
#include "edgeperf/vision/source.h"

namespace edgeperf::vision {

struct ClassScore {
  int index = 0;
  float probability = 0;
};
// Softmax of `logits` (left as is when they already are probabilities), best k first.
std::vector<ClassScore> top_k(const float* logits, std::size_t count, std::size_t k);

struct PipelineOptions {
  std::int64_t max_frames = 0;  // stop after this many captured frames; 0: no limit
  double max_seconds = 0;       // stop capturing after this long; 0: no limit
  bool pace = true;             // deliver at the source's nominal rate, as a camera would
  bool loop = false;            // rewind at the end of a file or folder
  std::size_t top = 5;
  std::vector<std::string> labels;           // class names; "class N" beyond them
  std::optional<std::filesystem::path> out;  // annotated JPEG per rendered frame
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
  std::string last_label;
  double fps() const {
    return wall_seconds > 0 ? static_cast<double>(processed) / wall_seconds : 0;
  }
};

// The model input the pipeline feeds: one image input, [N, 3, H, W] or [N, H, W, 3].
// Throws Error naming the input and its shape otherwise.
PreprocessConfig input_config(const runtime::Session& session, PreprocessConfig base);

PipelineResult run_pipeline(FrameSource& source, runtime::Session& session,
                            const PreprocessConfig& preprocess, const PipelineOptions& options);

nlohmann::json to_json(const PipelineResult& result);

}  // namespace edgeperf::vision
