// edgeperf vision --model M --source SRC: the real-time classification loop (capture,
// preprocess, infer, render) with per-stage timing.
#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/session_flags.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/vision/model_hints.h"
#include "edgeperf/vision/pipeline.h"
#include "edgeperf/vision/quantized_input.h"
#include "edgeperf/web/vision_view.h"
#include "stop_on_signals.h"

namespace edgeperf::cli {
namespace {

struct VisionOptions {
  std::string model, source = "synthetic", task = "auto", fit, labels, json, out, record, dump,
                     input_size, detect_format, box_order = "xyxy", resize = "bilinear";
  float score = 0.25f, iou = -1;
  std::size_t max_detections = 100;
  int serve = -1;
  std::string bind = "127.0.0.1", assets;
  runtime::SessionOptions session;
  std::int64_t frames = 0;
  double duration = 0;
  bool loop = false, no_pace = false, float_input = false;
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
  for (const char* stage : {"capture", "preprocess", "infer", "postprocess", "render"}) {
    const nlohmann::json& s = json["stages_ms"][stage];
    if (!s.contains("p50")) continue;
    const std::string cpu = s.contains("cpu_percent_of_wall")
                                ? fmt::format("{:>7.1f}", s["cpu_percent_of_wall"].get<double>())
                                : fmt::format("{:>7}", "(render)");
    fmt::print("{:<12} {:>9.3f} {:>9.3f} {:>9.3f} {}\n", stage, s["p50"].get<double>(),
               s["p99"].get<double>(), s["max"].get<double>(), cpu);
  }
  if (!json["end_to_end_ms"].is_null()) {
    const nlohmann::json& e = json["end_to_end_ms"];
    fmt::print("{:<12} {:>9.3f} {:>9.3f} {:>9.3f}\n", "end to end", e["p50"].get<double>(),
               e["p99"].get<double>(), e["max"].get<double>());
  }
  if (!result.last_top.empty()) {
    fmt::print("last frame: {} ({:.1f}%)\n", result.last_label,
               100.0 * result.last_top.front().probability);
  } else if (!result.last_detections.empty()) {
    fmt::print("last frame: {} boxes, best {} ({:.2f})\n", result.last_detections.size(),
               result.last_label, result.last_detections.front().score);
  }
  if (result.record_files > 0) fmt::print("recorded {} Parquet file(s)\n", result.record_files);
}

std::optional<std::pair<int, int>> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  int width = 0, height = 0;
  char x = 0, extra = 0;
  EP_CHECK(std::sscanf(text.c_str(), "%d%c%d%c", &width, &x, &height, &extra) == 3 && x == 'x' &&
               width >= 8 && height >= 8 && width <= 8192 && height <= 8192,
           "--input-size {}: expected WxH between 8x8 and 8192x8192, e.g. 320x320", text);
  return std::make_pair(width, height);
}

// The task from --task or the output shapes; a detector's output form is checked here,
// before any frame, so a wrong model fails at once.
vision::Task choose_task(const VisionOptions& options, std::optional<vision::Task> from_metadata,
                         const runtime::Session& session) {
  std::map<std::string, Shape> outputs;  // a dynamic dimension as -1
  for (const graph::ValueInfo& output : session.outputs()) {
    Shape& shape = outputs[output.name];
    for (const graph::Dim& dim : output.dims) shape.push_back(dim.is_static() ? dim.size : -1);
  }
  const vision::Task task = options.task != "auto" ? vision::parse_task(options.task)
                            : from_metadata        ? *from_metadata
                                                   : vision::infer_task(outputs);
  if (task == vision::Task::detect && options.detect_format.empty()) {
    vision::recognise_detect_format(outputs);
  }
  return task;
}

vision::DetectOptions detect_options(const VisionOptions& options) {
  vision::DetectOptions detect;
  if (!options.detect_format.empty())
    detect.format = vision::parse_detect_format(options.detect_format);
  EP_CHECK(options.box_order == "xyxy" || options.box_order == "yxyx",
           "--box-order {}: expected xyxy or yxyx", options.box_order);
  detect.yxyx = options.box_order == "yxyx";
  detect.score_threshold = options.score;
  if (options.iou >= 0) detect.nms_iou = options.iou;
  detect.max_detections = options.max_detections;
  return detect;
}

// Flags first, then the model's metadata, then what suits the model's form: a classifier
// looks at the centre, a detector or segmenter sees the whole frame; torchvision's
// detectors ([3, H, W] input) normalize inside the model, so pixels go in as 0-1.
vision::PreprocessConfig preprocess_settings(const VisionOptions& options,
                                             const vision::ModelHints& hints, vision::Task task,
                                             const runtime::Session& session) {
  vision::PreprocessConfig base;
  base.fit = !options.fit.empty()             ? vision::parse_fit(options.fit)
             : hints.fit                      ? *hints.fit
             : task == vision::Task::classify ? vision::Fit::crop
                                              : vision::Fit::stretch;
  base.resize = vision::parse_resize(options.resize);
  const bool normalizes_inside =
      session.inputs().size() == 1 && session.inputs().front().dims.size() == 3;
  const std::array<float, 3> zero{0, 0, 0}, one{1, 1, 1};
  base.mean =
      three(options.mean, "--mean", hints.mean.value_or(normalizes_inside ? zero : base.mean));
  base.std = three(options.std, "--std", hints.std.value_or(normalizes_inside ? one : base.std));
  EP_CHECK(std::all_of(base.std.begin(), base.std.end(), [](float v) { return v > 0; }),
           "--std values must be positive (they divide), got {},{},{}", base.std[0], base.std[1],
           base.std[2]);
  return base;
}

void run_vision(const VisionOptions& options) {
  EP_CHECK(options.frames > 0 || options.duration > 0 || !options.loop || options.serve >= 0,
           "--loop needs --frames, --duration or --serve (stopped by Ctrl-C), or it never ends");
  // Before any thread exists (OpenMP's included): every thread inherits the blocked mask,
  // so SIGINT/SIGTERM end the run through the flag, with statistics written.
  std::atomic<bool> stop{false};
  StopOnSignals stop_on_signals(stop, SIGPIPE);
  graph::Graph graph = onnx_io::load_model(options.model);
  const std::optional<vision::InputQuantization> input_quantization =
      options.float_input ? std::nullopt : vision::take_input_quantization(graph);
  const vision::ModelHints hints = with_error_context(
      options.model, [&] { return vision::hints_from_metadata(graph.metadata); });
  runtime::SessionOptions session_options = options.session;
  if (graph.inputs.size() == 1) {
    session_options.input_shapes[graph.inputs.front().name] =
        with_error_context(options.model, [&] {
          return vision::bind_image_input(graph.inputs.front(), parse_size(options.input_size));
        });
  }
  runtime::Session session(std::move(graph), session_options);
  const vision::Task task =
      with_error_context(options.model, [&] { return choose_task(options, hints.task, session); });
  vision::PreprocessConfig base = preprocess_settings(options, hints, task, session);
  if (input_quantization) {
    base.quantized = true;
    base.quant_scale = input_quantization->scale;
    base.quant_zero_point = input_quantization->zero_point;
    base.quant_signed = input_quantization->is_signed;
    fmt::print(
        "input fed quantized ({}, scale {:g}, zero point {}): preprocessing writes it and "
        "the model's QuantizeLinear is skipped\n",
        base.quant_signed ? "int8" : "uint8", base.quant_scale, base.quant_zero_point);
  }
  const vision::PreprocessConfig preprocess =
      with_error_context(options.model, [&] { return vision::input_config(session, base); });
  EP_CHECK(!preprocess.uint8 || (options.mean.empty() && options.std.empty()),
           "{}: the model takes uint8 pixels; --mean and --std do not apply", options.model);
  std::unique_ptr<vision::FrameSource> source = vision::open_source(options.source);
  vision::PipelineOptions pipeline;
  pipeline.max_frames = options.frames;
  pipeline.max_seconds = options.duration;
  pipeline.loop = options.loop;
  pipeline.pace = !options.no_pace;
  pipeline.top = options.top;
  pipeline.labels = options.labels.empty() ? hints.labels : read_labels(options.labels);
  if (!hints.source.empty()) {
    fmt::print("model metadata ({}): {} labels{}\n", hints.source, hints.labels.size(),
               hints.task ? fmt::format(", task {}", vision::task_name(*hints.task)) : "");
  }
  if (!options.out.empty()) pipeline.out = options.out;
  if (!options.record.empty()) pipeline.record = options.record;
  if (!options.dump.empty()) pipeline.dump = options.dump;
  pipeline.task = task;
  pipeline.detect = detect_options(options);
  pipeline.stop = &stop;
  std::optional<web::LiveView> view;
  if (options.serve >= 0) {
    web::LiveViewOptions live;
    live.port = options.serve;
    live.bind = options.bind;
    live.assets_dir = options.assets;
    live.labels = pipeline.labels;
    view.emplace(live);
    pipeline.on_render = [&view](const vision::RenderedFrame& frame) { view->publish(frame); };
    fmt::print("edgeperf vision: live view at {} (Ctrl-C stops)\n", view->url());
    std::fflush(stdout);
  }
  const vision::PipelineResult result =
      vision::run_pipeline(*source, session, preprocess, pipeline);
  EP_CHECK(result.processed > 0, "--source {}: no frames", options.source);
  nlohmann::json json = vision::to_json(result);
  json["model"] = options.model;
  json["threads"] = session.threads();
  json["task"] = vision::task_name(task);
  if (view) view->finish(json);
  print_summary(result, json);
  if (!options.json.empty()) write_file_atomic(options.json, json.dump(2) + "\n");
}

}  // namespace

void add_vision_command(CLI::App& app) {
  auto options = std::make_shared<VisionOptions>();
  CLI::App* command = app.add_subcommand(
      "vision", "Real-time camera/video loop: capture, preprocess, infer, render, timed per stage");
  command->add_option("--model", options->model, "ONNX image classifier, detector or segmenter")
      ->required();
  command->add_option("--source", options->source,
                      "synthetic[:WxH[@FPS]] | images:DIR | file:PATH (any video FFmpeg decodes)");
  command->add_option("--task", options->task,
                      "classify | detect | segment | auto (from the output shapes)");
  command->add_option("--input-size", options->input_size,
                      "WxH for a model whose input height and width are dynamic");
  command->add_option("--detect-format", options->detect_format,
                      "ssd | yolov5 | yolov8 (default: recognised from the outputs)");
  command->add_option("--score", options->score, "detect: lowest box score kept")
      ->check(CLI::Range(0.0, 1.0));
  command
      ->add_option("--iou", options->iou,
                   "detect: NMS overlap limit (default 0.45 for YOLO, none for ssd outputs, "
                   "which come suppressed)")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--max-det", options->max_detections, "detect: boxes kept per frame")
      ->check(CLI::Range(1, 10000));
  command->add_option("--box-order", options->box_order,
                      "ssd boxes as xyxy (torchvision) or yxyx (TensorFlow)");
  command->add_option("--labels", options->labels, "class names, one per line");
  command->add_option("--frames", options->frames, "stop after this many frames")
      ->check(CLI::Range(0, 100000000));
  command->add_option("--duration", options->duration, "stop after this many seconds")
      ->check(CLI::Range(0.0, 86400.0));
  command->add_flag("--loop", options->loop, "start a file or folder again at its end");
  command->add_flag("--float-input", options->float_input,
                    "feed an int8 model's input as f32 and let its QuantizeLinear quantize it "
                    "(default: preprocessing writes the quantized input)");
  command->add_flag("--no-pace", options->no_pace,
                    "read the source as fast as the pipeline takes it, not at its frame rate");
  command->add_option("--fit", options->fit,
                      "crop | stretch | letterbox (default: crop to classify, stretch otherwise)");
  command->add_option("--resize", options->resize,
                      "bilinear | area (the mean of the covered pixels: no aliasing when "
                      "shrinking a large frame)");
  command->add_option("--mean", options->mean, "R,G,B means of pixel/255 (default ImageNet)")
      ->delimiter(',');
  command->add_option("--std", options->std, "R,G,B standard deviations (default ImageNet)")
      ->delimiter(',');
  command->add_option("--top", options->top, "classes reported per frame")
      ->check(CLI::Range(1, 1000));
  command->add_option("--json", options->json, "write the stage statistics as JSON");
  command->add_option("--out", options->out,
                      "write each rendered frame as a JPEG into this directory");
  command->add_option("--record", options->record,
                      "write one row per captured frame (processed or dropped) as Parquet here");
  command->add_option("--dump", options->dump,
                      "write each frame's raw outputs (.npy) and results (.json) here");
  command
      ->add_option("--serve", options->serve,
                   "serve the live view (frames, overlay, stage chart) on this port; 0 picks "
                   "one")
      ->check(CLI::Range(0, 65535));
  command->add_option("--bind", options->bind, "address for --serve (default 127.0.0.1)");
  command->add_option("--assets", options->assets,
                      "directory holding web/ and node_modules/ (default: found automatically)");
  add_session_flags(*command, options->session, {.shapes = false});
  command->callback([options] { run_vision(*options); });
}

}  // namespace edgeperf::cli
