#pragma once
// The model zoo: reference architectures built in code with deterministic weights.
// Every model uses standard ONNX ops at opset 13, has one f32 input whose dimension 0
// is the symbol "batch", and keeps BatchNormalization nodes unfolded.
#include <cstdint>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::zoo {

struct ZooEntry {
  std::string name;
  std::string description;
  std::vector<std::int64_t> input_shape;  // with batch 1
  std::string task;
};

std::vector<ZooEntry> zoo_list();

// Builds a zoo model; the same name and seed give identical weights on every machine.
// An unknown name throws Error listing the known names.
graph::Graph build_zoo_model(const std::string& name, std::uint64_t seed = 0);

}  // namespace edgeperf::zoo
