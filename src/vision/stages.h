#pragma once
// The pipeline's plumbing: bounded queues between stage threads, and the threads.
#include <time.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "edgeperf/vision/pipeline.h"

namespace edgeperf::vision {

// A bounded queue between two stage threads. push_latest() never waits: when the queue is
// full it drops the oldest item (the camera policy) and hands it back; push() waits for
// room.
template <typename T>
class StageQueue {
 public:
  explicit StageQueue(std::size_t capacity) : capacity_(capacity) {}
  std::optional<T> push_latest(T item) {
    std::lock_guard lock(mutex_);
    std::optional<T> dropped;
    if (items_.size() >= capacity_) {
      dropped = std::move(items_.front());
      items_.pop_front();
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

inline double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Runs each stage body on a thread; the first exception of any stage stops the pipeline
// (the on_exit hook closes the queues) and is rethrown by join().
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

// Rows of FrameRecord gathered from the capture thread (drops) and the render thread,
// written as Parquet files of `chunk_rows` each: a crash loses at most the last chunk.
class FrameRecorder {
 public:
  FrameRecorder(std::filesystem::path directory, std::int64_t chunk_rows);
  void add(const FrameRecord& record);
  // Writes a file when a chunk is full; call from one thread at a time outside timing.
  void flush_full();
  void finish();  // writes what is left
  std::int64_t files() const { return files_; }

 private:
  void write(std::vector<FrameRecord> rows);
  std::filesystem::path directory_;
  std::int64_t chunk_rows_;
  std::mutex mutex_;
  std::vector<FrameRecord> pending_;
  std::int64_t files_ = 0;
};

// The overlays drawn into a rendered frame: a confidence bar, boxes, a mask.
void draw_confidence(Frame& frame, float probability);
void draw_boxes(Frame& frame, const std::vector<Detection>& detections);
void blend_mask(Frame& frame, const ClassMask& mask, const PreprocessConfig& input);
// A colour per class index, the same in the browser view.
std::array<std::uint8_t, 3> class_colour(int label);

}  // namespace edgeperf::vision
