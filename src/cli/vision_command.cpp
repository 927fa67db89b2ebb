// edgeperf vision --model M --source SRC: the real-time classification loop (capture,
// preprocess, infer, render) with per-stage timing.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>

#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/session_flags.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/vision/pipeline.h"

namespace edgeperf::cli {
namespace {

struct VisionOptions {
  std::string model, source = "synthetic", task = "classify", fit = "crop", labels, json, out;
  runtime::SessionOptions session;
  std::int64_t frames = 0;
  double duration = 0;
  bool loop = false, no_pace = false;
  std::size_t top = 5;
  std::vector<float> mean, std;
};

std::vector<std::string> read_labels(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream file(path);
  EP_CHECK(file.good(), "--labels {}: cannot read", path);
  std::vector<std::string> labels;
  for (std::string line; std::getline(file, line);) labels.push_back(line);
  return labels;
}

std::array<float, 3> three(const std::vector<float>& values, const char* flag,
                           std::array<float, 3> fallback) {
  if (values.empty()) return fallback;
  EP_CHECK(values.size() == 3, "{} takes three values (R,G,B), got {}", flag, values.size());
  EP_CHECK(std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); }),
           "{} values must be finite", flag);
  return {values[0], values[1], values[2]};
}

void print_summary(const vision::PipelineResult& result, const nlohmann::json& json) {
  fmt::print("source {}: {} frames captured, {} processed, {} dropped in {:.2f} s: {:.1f} FPS\n",
             result.source, result.captured, result.processed, result.dropped, result.wall_seconds,
             result.fps());
  fmt::print("{:<12} {:>9} {:>9} {:>9} {:>7}\n", "stage", "p50 ms", "p99 ms", "max ms", "CPU %");
  for (const char* stage : {"capture", "preprocess", "infer", "render"}) {
    const nlohmann::json& s = json["stages_ms"][stage];
    if (!s.contains("p50")) continue;
    fmt::print("{:<12} {:>9.3f} {:>9.3f} {:>9.3f} {:>7.1f}\n", stage, s["p50"].get<double>(),
               s["p99"].get<double>(), s["max"].get<double>(),
               s["cpu_percent_of_wall"].get<double>());
  }
  if (!json["end_to_end_ms"].is_null()) {
    const nlohmann::json& e = json["end_to_end_ms"];
    fmt::print("{:<12} {:>9.3f} {:>9.3f} {:>9.3f}\n", "end to end", e["p50"].get<double>(),
               e["p99"].get<double>(), e["max"].get<double>());
  }
  if (!result.last_top.empty()) {
    fmt::print("last frame: {} ({:.1f}%)\n", result.last_label,
               100.0 * result.last_top.front().probability);
  }
}

void run_vision(const VisionOptions& options) {
  EP_CHECK(options.task == "classify",
           "--task {}: only classify is implemented so far (detect and segment are not)",
           options.task);
  EP_CHECK(options.frames > 0 || options.duration > 0 || !options.loop,
           "--loop needs --frames or --duration, or it never ends");
  graph::Graph graph = onnx_io::load_model(options.model);
  runtime::Session session(std::move(graph), options.session);
  vision::PreprocessConfig base;
  base.fit = vision::parse_fit(options.fit);
  base.mean = three(options.mean, "--mean", base.mean);
  base.std = three(options.std, "--std", base.std);
  EP_CHECK(std::all_of(base.std.begin(), base.std.end(), [](float v) { return v > 0; }),
           "--std values must be positive (they divide), got {},{},{}", base.std[0], base.std[1],
           base.std[2]);
  const vision::PreprocessConfig preprocess =
      with_error_context(options.model, [&] { return vision::input_config(session, base); });
  std::unique_ptr<vision::FrameSource> source = vision::open_source(options.source);
  vision::PipelineOptions pipeline;
  pipeline.max_frames = options.frames;
  pipeline.max_seconds = options.duration;
  pipeline.loop = options.loop;
  pipeline.pace = !options.no_pace;
  pipeline.top = options.top;
  pipeline.labels = read_labels(options.labels);
  if (!options.out.empty()) pipeline.out = options.out;
  const vision::PipelineResult result =
      vision::run_pipeline(*source, session, preprocess, pipeline);
  EP_CHECK(result.processed > 0, "--source {}: no frames", options.source);
  nlohmann::json json = vision::to_json(result);
  json["model"] = options.model;
  json["threads"] = session.threads();
  print_summary(result, json);
  if (!options.json.empty()) write_file_atomic(options.json, json.dump(2) + "\n");
}

}  // namespace

void add_vision_command(CLI::App& app) {
  auto options = std::make_shared<VisionOptions>();
  CLI::App* command = app.add_subcommand(
      "vision", "Real-time camera/video loop: capture, preprocess, infer, render, timed per stage");
  command->add_option("--model", options->model, "ONNX image classifier")->required();
  command->add_option("--source", options->source,
                      "synthetic[:WxH[@FPS]] | images:DIR | file:PATH (any video FFmpeg decodes)");
  command->add_option("--task", options->task, "classify (detect and segment: not yet)");
  command->add_option("--labels", options->labels, "class names, one per line");
  command->add_option("--frames", options->frames, "stop after this many frames")
      ->check(CLI::Range(0, 100000000));
  command->add_option("--duration", options->duration, "stop after this many seconds")
      ->check(CLI::Range(0.0, 86400.0));
  command->add_flag("--loop", options->loop, "start a file or folder again at its end");
  command->add_flag("--no-pace", options->no_pace,
                    "read the source as fast as the pipeline takes it, not at its frame rate");
  command->add_option("--fit", options->fit, "crop | stretch | letterbox");
  command->add_option("--mean", options->mean, "R,G,B means of pixel/255 (default ImageNet)")
      ->delimiter(',');
  command->add_option("--std", options->std, "R,G,B standard deviations (default ImageNet)")
      ->delimiter(',');
  command->add_option("--top", options->top, "classes reported per frame")
      ->check(CLI::Range(1, 1000));
  command->add_option("--json", options->json, "write the stage statistics as JSON");
  command->add_option("--out", options->out,
                      "write each rendered frame as a JPEG into this directory");
  add_session_flags(*command, options->session, {.shapes = false});
  command->callback([options] { run_vision(*options); });
}

}  // namespace edgeperf::cli
