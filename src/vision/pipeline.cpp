#include "edgeperf/vision/pipeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "edgeperf/bench/stats.h"
#include "edgeperf/core/clock.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/core/npy.h"
#include "stages.h"

namespace edgeperf::vision {
namespace {

struct Captured {
  Frame frame;
  FrameRecord record;
};
struct Prepared {
  Frame frame;
  FrameRecord record;
  Tensor input;
};
struct Inferred {
  Frame frame;
  FrameRecord record;
  std::map<std::string, Tensor> outputs;
};

double ms_since(std::int64_t start_ns) {
  return static_cast<double>(monotonic_ns() - start_ns) / 1e6;
}

Shape model_input_shape(const PreprocessConfig& config) {
  if (!config.batched) return {3, config.height, config.width};
  return config.nchw ? Shape{1, 3, config.height, config.width}
                     : Shape{1, config.height, config.width, 3};
}

// The render stage's view of one frame: what the model's outputs mean.
struct Results {
  std::vector<ClassScore> top;
  std::vector<Detection> detections;  // frame pixels
  std::optional<ClassMask> mask;
};

Results postprocess(const Inferred& item, const PreprocessConfig& input,
                    const PipelineOptions& options, const std::string& first_output) {
  Results results;
  if (options.task == Task::classify) {
    const Tensor& scores = item.outputs.at(first_output);
    EP_CHECK(scores.dtype() == DType::f32, "classify: output {} is {}, not f32 scores",
             first_output, dtype_name(scores.dtype()));
    results.top =
        top_k(scores.data<float>(), static_cast<std::size_t>(scores.numel()), options.top);
  } else if (options.task == Task::detect) {
    for (Detection d : decode_detections(item.outputs, input, options.detect)) {
      d.box = to_frame(d.box, input, item.frame.width, item.frame.height);
      results.detections.push_back(d);
    }
  } else {
    results.mask = argmax_mask(item.outputs.at(first_output));
  }
  return results;
}

// The record's result columns: best class and score for classify and detect; for
// segment, the non-background class covering the most pixels and its share.
void summarize_into(const Results& results, FrameRecord& record) {
  if (!results.top.empty()) {
    record.top_class = results.top.front().index;
    record.top_score = results.top.front().probability;
  }
  record.detections = static_cast<int>(results.detections.size());
  if (!results.detections.empty()) {
    record.top_class = results.detections.front().label;
    record.top_score = results.detections.front().score;
  }
  if (results.mask) {
    std::vector<std::int64_t> counts(256, 0);
    for (std::uint8_t label : results.mask->labels) ++counts[label];
    const auto best = std::max_element(counts.begin() + 1, counts.end());
    record.top_class = *best > 0 ? static_cast<int>(best - counts.begin()) : 0;
    record.top_score = static_cast<float>(static_cast<double>(*best > 0 ? *best : counts[0]) /
                                          static_cast<double>(results.mask->labels.size()));
  }
}

nlohmann::json top_json(const std::vector<ClassScore>& top) {
  nlohmann::json json = nlohmann::json::array();
  for (const ClassScore& s : top)
    json.push_back({{"index", s.index}, {"probability", s.probability}});
  return json;
}

nlohmann::json detections_json(const std::vector<Detection>& detections) {
  nlohmann::json json = nlohmann::json::array();
  for (const Detection& d : detections) {
    json.push_back({{"box", {d.box.x1, d.box.y1, d.box.x2, d.box.y2}},
                    {"score", d.score},
                    {"label", d.label}});
  }
  return json;
}

nlohmann::json results_json(const Results& results) {
  nlohmann::json json = nlohmann::json::object();
  if (!results.top.empty()) json["top"] = top_json(results.top);
  json["detections"] = detections_json(results.detections);
  return json;
}

// --dump: the frame's raw outputs as .npy and what the render stage made of them.
void dump_frame(const std::filesystem::path& directory, const Inferred& item,
                const Results& results, Task task) {
  const std::string stem = fmt::format("frame_{:06d}", item.frame.index);
  for (const auto& [name, tensor] : item.outputs) {
    std::string safe = name;
    std::replace_if(
        safe.begin(), safe.end(),
        [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    write_npy(directory / (stem + "." + safe + ".npy"), tensor);
  }
  nlohmann::json json = results_json(results);
  json["frame"] = item.frame.index;
  json["width"] = item.frame.width;
  json["height"] = item.frame.height;
  json["task"] = task_name(task);
  write_file_atomic(directory / (stem + ".json"), json.dump() + "\n");
}

}  // namespace

namespace {

struct ImageLayout {
  bool chw = false, nchw = false, nhwc = false;
  std::size_t height_axis = 0;
};

ImageLayout image_layout(const graph::ValueInfo& input) {
  const auto& dims = input.dims;
  const auto is = [&](std::size_t axis, std::int64_t size) {
    return dims[axis].is_static() && dims[axis].size == size;
  };
  ImageLayout layout;
  layout.chw = dims.size() == 3 && is(0, 3);
  layout.nchw = dims.size() == 4 && is(1, 3);
  layout.nhwc = dims.size() == 4 && is(3, 3) && !layout.nchw;
  const bool batch_one = dims.size() != 4 || !dims[0].is_static() || dims[0].size == 1;
  EP_CHECK(
      input.has_shape &&
          (input.dtype == DType::f32 || input.dtype == DType::u8 || input.dtype == DType::i8) &&
          (layout.chw || layout.nchw || layout.nhwc) && batch_one,
      "vision: the model's input {} is not an image; the pipeline needs one f32 or uint8 "
      "image, "
      "[1, 3, H, W], [1, H, W, 3] or [3, H, W]",
      input.to_string());
  layout.height_axis = layout.nchw ? 2 : 1;
  return layout;
}

}  // namespace

Shape bind_image_input(const graph::ValueInfo& input, std::optional<std::pair<int, int>> size) {
  const ImageLayout layout = image_layout(input);
  const graph::Dim& h = input.dims[layout.height_axis];
  const graph::Dim& w = input.dims[layout.height_axis + 1];
  Shape shape;
  for (const graph::Dim& dim : input.dims) shape.push_back(dim.is_static() ? dim.size : 1);
  if (h.is_static() && w.is_static()) {
    EP_CHECK(!size || (size->first == w.size && size->second == h.size),
             "--input-size {}x{}: the model's input {} is fixed at {}x{}", size->first,
             size->second, input.name, w.size, h.size);
    return shape;
  }
  EP_CHECK(size.has_value(),
           "vision: the model's input {} has a dynamic height or width; give --input-size WxH",
           input.to_string());
  shape[layout.height_axis] = size->second;
  shape[layout.height_axis + 1] = size->first;
  return shape;
}

PreprocessConfig input_config(const runtime::Session& session, PreprocessConfig base) {
  EP_CHECK(session.inputs().size() == 1,
           "vision: the model has {} inputs; it needs one image input", session.inputs().size());
  const graph::ValueInfo& input = session.inputs().front();
  const ImageLayout layout = image_layout(input);
  const Shape shape = input.resolved_shape();
  base.height = static_cast<int>(shape[layout.height_axis]);
  base.width = static_cast<int>(shape[layout.height_axis + 1]);
  base.nchw = !layout.nhwc;
  base.batched = !layout.chw;
  base.uint8 = input.dtype == DType::u8 && !base.quantized;
  EP_CHECK(input.dtype != DType::i8 || base.quantized,
           "vision: the model's input {} is int8; the pipeline feeds int8 only to a model whose "
           "input quantization it knows",
           input.to_string());
  return base;
}

PipelineResult run_pipeline(FrameSource& source, runtime::Session& session,
                            const PreprocessConfig& preprocess_config,
                            const PipelineOptions& options) {
  PipelineResult result;
  result.source = source.describe();
  result.source_fps = source.nominal_fps();
  const Shape input_shape = model_input_shape(preprocess_config);
  const std::string input_name = session.inputs().front().name;
  const std::string first_output = session.outputs().front().name;
  if (options.out) std::filesystem::create_directories(*options.out);
  if (options.dump) std::filesystem::create_directories(*options.dump);
  std::optional<FrameRecorder> recorder;
  if (options.record) recorder.emplace(*options.record, options.record_chunk_rows);

  StageQueue<Captured> captured(1);
  StageQueue<Prepared> prepared(1);
  StageQueue<Inferred> inferred(1);
  std::atomic<bool> stop{false};
  StageThreads threads;
  threads.on_exit([&] {
    if (threads.failed()) {
      stop = true;
      captured.close();
      prepared.close();
      inferred.close();
    }
  });
  std::int64_t first_capture_ns = 0, last_render_ns = 0;
  std::atomic<std::int64_t> captured_count{0}, dropped{0};
  // Made before any thread starts: the threads only touch their own entry.
  StageStats& capture_stats = result.stages["capture"];
  StageStats& preprocess_stats = result.stages["preprocess"];
  StageStats& infer_stats = result.stages["infer"];
  StageStats& postprocess_stats = result.stages["postprocess"];
  StageStats& render_stats = result.stages["render"];

  threads.start(capture_stats, [&] {
    const double period =
        options.pace && !source.live() && source.nominal_fps() > 0 ? 1e9 / source.nominal_fps() : 0;
    const std::int64_t start_ns = monotonic_ns();
    first_capture_ns = start_ns;
    for (std::int64_t count = 0; !stop && !(options.stop && options.stop->load()); ++count) {
      if (options.max_frames > 0 && count >= options.max_frames) break;
      if (options.max_seconds > 0 && ms_since(start_ns) >= options.max_seconds * 1e3) break;
      if (period > 0) {
        const auto due = start_ns + static_cast<std::int64_t>(static_cast<double>(count) * period);
        while (monotonic_ns() < due)
          std::this_thread::sleep_for(std::chrono::nanoseconds(due - monotonic_ns()));
      }
      const std::int64_t begin = monotonic_ns();
      std::optional<Frame> frame = source.next();
      if (!frame && options.loop && count > 0 && source.rewind()) frame = source.next();
      if (!frame) break;
      FrameRecord record;
      record.capture_ms = ms_since(begin);
      capture_stats.ms.push_back(record.capture_ms);
      frame->index = record.index = count;
      frame->capture_ns = record.capture_ns = monotonic_ns();
      ++captured_count;
      Captured item{std::move(*frame), record};
      // From a camera, or paced like one, a frame waiting when the next arrives is dropped;
      // unpaced (a file read as fast as the pipeline goes), capture waits instead.
      if (period > 0 || source.live()) {
        if (std::optional<Captured> lost = captured.push_latest(std::move(item))) {
          ++dropped;
          lost->record.dropped = true;
          if (recorder) recorder->add(lost->record);
        }
      } else {
        captured.push(std::move(item));
      }
    }
    captured.close();
  });
  threads.start(preprocess_stats, [&] {
    while (std::optional<Captured> item = captured.pop()) {
      const std::int64_t begin = monotonic_ns();
      const DType dtype = preprocess_config.quantized
                              ? (preprocess_config.quant_signed ? DType::i8 : DType::u8)
                              : (preprocess_config.uint8 ? DType::u8 : DType::f32);
      Tensor tensor(dtype, input_shape);
      if (preprocess_config.quantized) {
        preprocess_quantized(item->frame, preprocess_config, tensor.raw());
      } else if (preprocess_config.uint8) {
        preprocess_u8(item->frame, preprocess_config, tensor.data<std::uint8_t>());
      } else {
        preprocess(item->frame, preprocess_config, tensor.data<float>());
      }
      item->record.preprocess_ms = ms_since(begin);
      preprocess_stats.ms.push_back(item->record.preprocess_ms);
      prepared.push(Prepared{std::move(item->frame), item->record, std::move(tensor)});
    }
    prepared.close();
  });
  threads.start(infer_stats, [&] {
    while (std::optional<Prepared> item = prepared.pop()) {
      const std::int64_t begin = monotonic_ns();
      std::map<std::string, Tensor> outputs = session.run({{input_name, std::move(item->input)}});
      item->record.infer_ms = ms_since(begin);
      infer_stats.ms.push_back(item->record.infer_ms);
      inferred.push(Inferred{std::move(item->frame), item->record, std::move(outputs)});
    }
    inferred.close();
  });
  threads.start(render_stats, [&] {
    while (std::optional<Inferred> item = inferred.pop()) {
      const std::int64_t begin = monotonic_ns();
      const Results results = postprocess(*item, preprocess_config, options, first_output);
      postprocess_stats.ms.push_back(ms_since(begin));
      FrameRecord& record = item->record;
      summarize_into(results, record);
      if (results.mask) blend_mask(item->frame, *results.mask, preprocess_config);
      draw_boxes(item->frame, results.detections);
      if (!results.top.empty()) draw_confidence(item->frame, results.top.front().probability);
      if (options.out) {
        write_file_atomic(*options.out / fmt::format("frame_{:06d}.jpg", item->frame.index),
                          encode_jpeg(item->frame, 85));
      }
      if (options.dump) dump_frame(*options.dump, *item, results, options.task);
      if (options.on_render) {
        options.on_render(RenderedFrame{item->frame, options.task, results.top, results.detections,
                                        record, captured_count.load(), dropped.load()});
      }
      last_render_ns = monotonic_ns();
      record.render_ms = static_cast<double>(last_render_ns - begin) / 1e6;
      record.end_to_end_ms = static_cast<double>(last_render_ns - item->frame.capture_ns) / 1e6;
      render_stats.ms.push_back(record.render_ms);
      result.end_to_end_ms.push_back(record.end_to_end_ms);
      result.last_top = results.top;
      result.last_detections = results.detections;
      result.last_label = class_name(record.top_class, options.labels);
      ++result.processed;
      if (recorder) {
        recorder->add(record);
        recorder->flush_full();
      }
    }
  });
  threads.join();
  if (recorder) {
    recorder->finish();
    result.record_files = recorder->files();
  }
  result.dropped = dropped;
  result.captured = captured_count;
  result.wall_seconds =
      result.processed > 0 ? static_cast<double>(last_render_ns - first_capture_ns) / 1e9 : 0;
  return result;
}

namespace {

// The stage's times summarized as every bench report is (bench/stats.h: type-7
// percentiles).
nlohmann::json distribution(const std::vector<double>& values) {
  if (values.empty()) return nullptr;
  const bench::Summary summary = bench::summarize(values);
  return {{"count", summary.n},
          {"p50", summary.p50},
          {"p99", summary.p99},
          {"max", summary.max},
          {"mean", summary.mean}};
}

}  // namespace

nlohmann::json to_json(const PipelineResult& result) {
  nlohmann::json stages = nlohmann::json::object();
  for (const auto& [name, stats] : result.stages) {
    nlohmann::json stage = distribution(stats.ms);
    if (stage.is_null()) stage = nlohmann::json::object();
    if (name == "postprocess") {
      stage["thread"] = "render";  // part of the render stage, timed on its own
    } else {
      stage["cpu_seconds"] = stats.cpu_seconds;
      stage["cpu_percent_of_wall"] =
          result.wall_seconds > 0 ? 100.0 * stats.cpu_seconds / result.wall_seconds : 0.0;
    }
    stages[name] = stage;
  }
  const nlohmann::json& infer = stages["infer"];
  const double infer_p50 = infer.contains("p50") ? infer["p50"].get<double>() : 0;
  return {{"schema", "edgeperf.vision/1"},
          {"source", result.source},
          {"source_fps", result.source_fps},
          {"frames_captured", result.captured},
          {"frames_processed", result.processed},
          {"frames_dropped", result.dropped},
          {"wall_seconds", result.wall_seconds},
          {"fps", result.fps()},
          {"infer_bound_fps", infer_p50 > 0 ? 1000.0 / infer_p50 : 0.0},
          {"stages_ms", stages},
          {"end_to_end_ms", distribution(result.end_to_end_ms)},
          {"last_top", top_json(result.last_top)},
          {"last_detections", detections_json(result.last_detections)},
          {"last_label", result.last_label},
          {"record_files", result.record_files}};
}

}  // namespace edgeperf::vision
