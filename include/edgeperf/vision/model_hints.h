#pragma once
// What an ONNX model's metadata_props say about how to feed and read it, for the flags a
// user did not give. Recognised: Ultralytics' exports (YOLO: "task", "names" as a Python
// dict literal, "imgsz", "stride"; images letterboxed with grey 114, pixels / 255, no
// mean or std), and plain keys any exporter can write: "labels" (one name per line),
// "task", "mean" and "std" ("R,G,B" of pixel/255).
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/vision/postprocess.h"
#include "edgeperf/vision/preprocess.h"

namespace edgeperf::vision {

struct ModelHints {
  std::optional<Task> task;
  std::vector<std::string> labels;
  std::optional<Fit> fit;
  std::optional<std::array<float, 3>> mean, std;
  std::string source;  // "Ultralytics", "metadata", or "" when nothing was found
};

// Throws Error naming the key when a recognised key holds something unreadable.
ModelHints hints_from_metadata(const std::map<std::string, std::string>& metadata);

}  // namespace edgeperf::vision
