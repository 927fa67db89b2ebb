#include "edgeperf/vision/pipeline.h"

#include <fmt/format.h>
#include <stb/stb_image_write.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "edgeperf/bench/stats.h"
#include "edgeperf/core/clock.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"

namespace edgeperf::vision {
namespace {

// A bounded queue between two stage threads. push_latest() never waits: when the queue is
// full it drops the oldest item (the camera policy) and says so; push() waits for room.
template <typename T>
class StageQueue {
 public:
  explicit StageQueue(std::size_t capacity) : capacity_(capacity) {}
  bool push_latest(T item) {
    std::lock_guard lock(mutex_);
    bool dropped = false;
    if (items_.size() >= capacity_) {
      items_.pop_front();
      dropped = true;
    }
    items_.push_back(std::move(item));
    ready_.notify_one();
    return dropped;
  }
  void push(T item) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    if (closed_) return;
    items_.push_back(std::move(item));
    ready_.notify_one();
  }
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    room_.notify_one();
    return item;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ready_.notify_all();
    room_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<T> items_;
  bool closed_ = false;
};

struct Prepared {
  Frame frame;
  Tensor input;
};
struct Inferred {
  Frame frame;
  std::vector<float> scores;
};

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

double ms_since(std::int64_t start_ns) {
  return static_cast<double>(monotonic_ns() - start_ns) / 1e6;
}

// Runs `body` on a thread; the first exception of any stage stops the pipeline and is
// rethrown by the caller.
class StageThreads {
 public:
  template <typename Body>
  void start(StageStats& stats, Body body) {
    threads_.emplace_back([this, &stats, body]() mutable {
      const double cpu_start = thread_cpu_seconds();
      try {
        body();
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
        failed_ = true;
      }
      stats.cpu_seconds = thread_cpu_seconds() - cpu_start;
      on_exit_();
    });
  }
  void on_exit(std::function<void()> hook) { on_exit_ = std::move(hook); }
  bool failed() const { return failed_; }
  void join() {
    for (std::thread& thread : threads_) thread.join();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
  std::function<void()> on_exit_ = [] {};
};

// A bar across the top of the frame as long as the top-1 probability: the overlay
// written with --out (text needs a font, which this does not carry).
void draw_confidence(Frame& frame, float probability) {
  const int bar = std::max(2, frame.height / 40);
  const int length =
      static_cast<int>(std::lround(std::clamp(probability, 0.0f, 1.0f) * frame.width));
  for (int y = 0; y < std::min(bar, frame.height); ++y) {
    for (int x = 0; x < frame.width; ++x) {
      std::uint8_t* pixel = frame.rgb.data() + (static_cast<std::size_t>(y) * frame.width + x) * 3;
      pixel[0] = x < length ? 40 : 20;
      pixel[1] = x < length ? 220 : 20;
      pixel[2] = x < length ? 90 : 20;
    }
  }
}

void write_jpeg_atomically(const std::filesystem::path& path, const Frame& frame) {
  std::string bytes;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                               static_cast<std::size_t>(size));
  };
  EP_CHECK(stbi_write_jpg_to_func(append, &bytes, frame.width, frame.height, 3, frame.rgb.data(),
                                  85) != 0,
           "--out: cannot encode frame {}", frame.index);
  write_file_atomic(path, bytes);
}

}  // namespace

std::vector<ClassScore> top_k(const float* logits, std::size_t count, std::size_t k) {
  std::vector<ClassScore> scores(count);
  float sum = 0, largest = -INFINITY;
  bool probabilities = true;
  for (std::size_t i = 0; i < count; ++i) {
    largest = std::max(largest, logits[i]);
    sum += logits[i];
    probabilities = probabilities && logits[i] >= 0 && logits[i] <= 1;
  }
  probabilities = probabilities && std::fabs(sum - 1.0f) < 1e-3f;
  double total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const double value =
        probabilities ? logits[i] : std::exp(static_cast<double>(logits[i] - largest));
    scores[i] = {static_cast<int>(i), static_cast<float>(value)};
    total += value;
  }
  for (ClassScore& score : scores)
    score.probability = static_cast<float>(score.probability / total);
  k = std::min(k, count);
  std::partial_sort(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(k), scores.end(),
                    [](const ClassScore& a, const ClassScore& b) {
                      return a.probability > b.probability ||
                             (a.probability == b.probability && a.index < b.index);
                    });
  scores.resize(k);
  return scores;
}

PreprocessConfig input_config(const runtime::Session& session, PreprocessConfig base) {
  EP_CHECK(session.inputs().size() == 1,
           "vision: the model has {} inputs; it needs one image input", session.inputs().size());
  const graph::ValueInfo& input = session.inputs().front();
  const Shape shape = input.resolved_shape();
  const bool nchw = shape.size() == 4 && shape[1] == 3;
  const bool nhwc = shape.size() == 4 && shape[3] == 3 && !nchw;
  EP_CHECK(input.dtype == DType::f32 && (nchw || nhwc) && shape[0] == 1,
           "vision: the model's input {} is not an image; the pipeline needs one f32 image, "
           "[1, 3, H, W] or [1, H, W, 3]",
           input.to_string());
  base.nchw = nchw;
  base.height = static_cast<int>(nchw ? shape[2] : shape[1]);
  base.width = static_cast<int>(nchw ? shape[3] : shape[2]);
  return base;
}

PipelineResult run_pipeline(FrameSource& source, runtime::Session& session,
                            const PreprocessConfig& preprocess_config,
                            const PipelineOptions& options) {
  PipelineResult result;
  result.source = source.describe();
  result.source_fps = source.nominal_fps();
  const graph::ValueInfo& input = session.inputs().front();
  const Shape input_shape = input.resolved_shape();
  const std::string input_name = input.name;
  const std::string output_name = session.outputs().front().name;
  if (options.out) std::filesystem::create_directories(*options.out);

  StageQueue<Frame> captured(1);
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
  std::atomic<std::int64_t> dropped{0};
  // Made before any thread starts: the threads only touch their own entry.
  StageStats& capture_stats = result.stages["capture"];
  StageStats& preprocess_stats = result.stages["preprocess"];
  StageStats& infer_stats = result.stages["infer"];
  StageStats& render_stats = result.stages["render"];

  threads.start(capture_stats, [&] {
    const double period = options.pace && source.nominal_fps() > 0 ? 1e9 / source.nominal_fps() : 0;
    const std::int64_t start_ns = monotonic_ns();
    first_capture_ns = start_ns;
    for (std::int64_t count = 0; !stop; ++count) {
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
      capture_stats.ms.push_back(ms_since(begin));
      frame->index = count;
      frame->capture_ns = monotonic_ns();
      ++result.captured;
      // Paced like a camera, a frame waiting when the next arrives is dropped; unpaced (a
      // file read as fast as the pipeline goes), capture waits instead.
      if (period > 0) {
        if (captured.push_latest(std::move(*frame))) ++dropped;
      } else {
        captured.push(std::move(*frame));
      }
    }
    captured.close();
  });
  threads.start(preprocess_stats, [&] {
    while (std::optional<Frame> frame = captured.pop()) {
      const std::int64_t begin = monotonic_ns();
      Tensor tensor(DType::f32, input_shape);
      preprocess(*frame, preprocess_config, tensor.data<float>());
      preprocess_stats.ms.push_back(ms_since(begin));
      prepared.push(Prepared{std::move(*frame), std::move(tensor)});
    }
    prepared.close();
  });
  threads.start(infer_stats, [&] {
    while (std::optional<Prepared> item = prepared.pop()) {
      const std::int64_t begin = monotonic_ns();
      std::map<std::string, Tensor> outputs = session.run({{input_name, std::move(item->input)}});
      const Tensor& scores = outputs.at(output_name);
      const float* values = scores.data<float>();
      std::vector<float> copy(values, values + scores.numel());
      infer_stats.ms.push_back(ms_since(begin));
      inferred.push(Inferred{std::move(item->frame), std::move(copy)});
    }
    inferred.close();
  });
  threads.start(render_stats, [&] {
    while (std::optional<Inferred> item = inferred.pop()) {
      const std::int64_t begin = monotonic_ns();
      result.last_top = top_k(item->scores.data(), item->scores.size(), options.top);
      const int best = result.last_top.empty() ? -1 : result.last_top.front().index;
      result.last_label = best >= 0 && static_cast<std::size_t>(best) < options.labels.size()
                              ? options.labels[static_cast<std::size_t>(best)]
                              : fmt::format("class {}", best);
      if (options.out) {
        draw_confidence(item->frame,
                        result.last_top.empty() ? 0 : result.last_top.front().probability);
        write_jpeg_atomically(*options.out / fmt::format("frame_{:06d}.jpg", item->frame.index),
                              item->frame);
      }
      last_render_ns = monotonic_ns();
      render_stats.ms.push_back(static_cast<double>(last_render_ns - begin) / 1e6);
      result.end_to_end_ms.push_back(static_cast<double>(last_render_ns - item->frame.capture_ns) /
                                     1e6);
      ++result.processed;
    }
  });
  threads.join();
  result.dropped = dropped;
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
    stage["cpu_seconds"] = stats.cpu_seconds;
    stage["cpu_percent_of_wall"] =
        result.wall_seconds > 0 ? 100.0 * stats.cpu_seconds / result.wall_seconds : 0.0;
    stages[name] = stage;
  }
  nlohmann::json top = nlohmann::json::array();
  for (const ClassScore& score : result.last_top) {
    top.push_back({{"index", score.index}, {"probability", score.probability}});
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
          {"last_top", top},
          {"last_label", result.last_label}};
}

}  // namespace edgeperf::vision
