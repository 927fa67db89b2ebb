#pragma once
#include "edgeperf/graph/graph.h"
// The flags that configure a runtime::Session, registered the same way by every command.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::cli {

// Which session flags a command takes (all by default).
struct SessionFlagSet {
  bool threads = true;  // --threads N (a command sweeping thread counts registers its own)
  int min_threads = 1;  // 0 lets --threads 0 mean "physical cores" explicitly
  bool backend = true;  // --backend auto|onednn|reference
  bool sparse = true;   // --sparse auto|off|force
  bool onednn_kernels_only = true;  // --onednn-kernels-only
  bool shapes = true;               // --shape NAME=1x3x640x640 (repeatable), into input_shapes
};

// Registers the flags of `which` on `command`; parsed values land in `options`.
void add_session_flags(CLI::App& command, runtime::SessionOptions& options,
                       const SessionFlagSet& which = {});

// Reads --input NAME=FILE.npy values (repeatable) into tensors by input name.
// NAME=FILE specs: .npy as stored; .wav (16 kHz) as MFCC features (audio/mfcc.h: one
// second, 49 x 10), shaped to the model's input by shape_audio_features.
std::map<std::string, Tensor> load_input_files(const std::vector<std::string>& specs);
// Reshapes the features of .wav inputs to the graph input they feed, when that input
// holds the same number of elements (a batch dim left symbolic counts as 1).
void shape_audio_features(const std::vector<std::string>& specs, const graph::Graph& graph,
                          std::map<std::string, Tensor>& feeds);

// --seed for seeded random inputs.
void add_seed_flag(CLI::App& command, std::uint64_t& seed,
                   const std::string& help = "Seed for random inputs");

}  // namespace edgeperf::cli
