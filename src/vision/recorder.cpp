// --record: one row per captured frame, processed or dropped, as Parquet.
#include <fmt/format.h>

#include <algorithm>

#include "edgeperf/columnar/parquet.h"
#include "stages.h"

namespace edgeperf::vision {

FrameRecorder::FrameRecorder(std::filesystem::path directory, std::int64_t chunk_rows)
    : directory_(std::move(directory)), chunk_rows_(std::max<std::int64_t>(1, chunk_rows)) {
  std::filesystem::create_directories(directory_);
}

void FrameRecorder::add(const FrameRecord& record) {
  std::lock_guard lock(mutex_);
  pending_.push_back(record);
}

void FrameRecorder::flush_full() {
  std::vector<FrameRecord> rows;
  {
    std::lock_guard lock(mutex_);
    if (static_cast<std::int64_t>(pending_.size()) < chunk_rows_) return;
    rows.swap(pending_);
  }
  write(std::move(rows));
}

void FrameRecorder::finish() {
  std::vector<FrameRecord> rows;
  {
    std::lock_guard lock(mutex_);
    rows.swap(pending_);
  }
  if (!rows.empty() || files_ == 0) write(std::move(rows));
}

void FrameRecorder::write(std::vector<FrameRecord> rows) {
  std::sort(rows.begin(), rows.end(),
            [](const FrameRecord& a, const FrameRecord& b) { return a.index < b.index; });
  using columnar::PhysicalType;
  columnar::Table table;
  table.schema = {
      {"frame", PhysicalType::int64},           {"capture_ns", PhysicalType::int64},
      {"dropped", PhysicalType::int32},         {"capture_ms", PhysicalType::float64},
      {"preprocess_ms", PhysicalType::float64}, {"infer_ms", PhysicalType::float64},
      {"render_ms", PhysicalType::float64},     {"end_to_end_ms", PhysicalType::float64},
      {"top_class", PhysicalType::int32},       {"top_score", PhysicalType::float32},
      {"detections", PhysicalType::int32}};
  std::vector<std::int64_t> frame, capture_ns;
  std::vector<std::int32_t> dropped, top_class, detections;
  std::vector<double> capture, preprocess, infer, render, end_to_end;
  std::vector<float> top_score;
  for (const FrameRecord& r : rows) {
    frame.push_back(r.index);
    capture_ns.push_back(r.capture_ns);
    dropped.push_back(r.dropped ? 1 : 0);
    capture.push_back(r.capture_ms);
    preprocess.push_back(r.preprocess_ms);
    infer.push_back(r.infer_ms);
    render.push_back(r.render_ms);
    end_to_end.push_back(r.end_to_end_ms);
    top_class.push_back(r.top_class);
    top_score.push_back(r.top_score);
    detections.push_back(r.detections);
  }
  table.columns = {std::move(frame),     std::move(capture_ns), std::move(dropped),
                   std::move(capture),   std::move(preprocess), std::move(infer),
                   std::move(render),    std::move(end_to_end), std::move(top_class),
                   std::move(top_score), std::move(detections)};
  columnar::write_parquet(directory_ / fmt::format("frames-{:06d}.parquet", files_), table);
  ++files_;
}

}  // namespace edgeperf::vision
