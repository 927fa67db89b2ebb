#pragma once
// Flags and output shared by `edgeperf qat` and `edgeperf finetune` (the edgeperf-train
// program, which holds the libtorch training engine).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "edgeperf/eval/dataset.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/train/train.h"

namespace edgeperf::cli::training {

struct CommonFlags {
  std::string model, output, train, data, teacher, report;
  train::TrainOptions options;
};

void add_common_flags(CLI::App& command, CommonFlags& flags);

// The data a flag names, shaped for `model`'s input; `what` names the flag in errors.
eval::Dataset load_for(const std::string& spec, const graph::Graph& model, bool labels,
                       const std::string& what);
std::optional<eval::Dataset> held_out_for(const CommonFlags& flags, const graph::Graph& model);
std::optional<graph::Graph> teacher_for(const CommonFlags& flags);

// A progress bar per batch on a terminal; one line per epoch always (stderr).
train::Progress progress_printer();
// The epoch table and the file written (stdout).
void print_result(const train::TrainResult& result, const std::string& output);

// The JSON report (--report): the command, its options, what was trained, every epoch.
// `extra` holds the command's own fields. Written atomically.
void write_report(const CommonFlags& flags, const std::string& command,
                  const train::TrainResult& result, std::int64_t samples, bool labeled,
                  nlohmann::json extra);

// Models as training reads them: constants folded, Identity and dead code removed.
graph::Graph load_for_training(const std::string& path);

}  // namespace edgeperf::cli::training
