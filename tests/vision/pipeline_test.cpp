#include "edgeperf/vision/pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/error.h"
#include "edgeperf/zoo/zoo.h"

namespace edgeperf::vision {
namespace {

TEST(TopK, SoftmaxOfLogitsBestFirst) {
  const std::vector<float> logits = {1.0f, 3.0f, 2.0f, 3.0f};
  const std::vector<ClassScore> top = top_k(logits.data(), logits.size(), 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].index, 1);  // ties: the lower index first
  EXPECT_EQ(top[1].index, 3);
  EXPECT_EQ(top[2].index, 2);
  const double denominator = std::exp(-2.0) + 2 + std::exp(-1.0);
  EXPECT_NEAR(top[0].probability, 1 / denominator, 1e-6);
  const std::vector<float> probabilities = {0.1f, 0.7f, 0.2f};
  EXPECT_NEAR(top_k(probabilities.data(), 3, 1)[0].probability, 0.7f, 1e-6);  // kept as given
}

bool ffmpeg_is_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libavformat") != std::string::npos) return true;
  }
  return false;
}

// FFmpeg lives in the module edgeperf-video.so, mapped on the first video opened (here a
// missing file: the module loads, FFmpeg reports the file), never by a process that reads
// no video. Its ~140 libraries cost 27 MB of resident memory in every run. No test before
// this one in vision_test opens a video.
TEST(Sources, FfmpegIsLoadedOnlyForAVideo) {
  EXPECT_FALSE(ffmpeg_is_mapped());
  try {
    open_source("file:/nonexistent-edgeperf.mp4");
    ADD_FAILURE() << "a missing video opened";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("/nonexistent-edgeperf.mp4"), std::string::npos) << message;
    if (message.find("does not have") == std::string::npos) {  // a build with FFmpeg
      EXPECT_TRUE(ffmpeg_is_mapped());
    }
  }
}

TEST(Sources, SpecsAndTheirErrors) {
  auto synthetic = open_source("synthetic:64x48@15");
  EXPECT_DOUBLE_EQ(synthetic->nominal_fps(), 15);
  const Frame first = *synthetic->next();
  const Frame second = *synthetic->next();
  EXPECT_EQ(first.width, 64);
  EXPECT_EQ(first.height, 48);
  EXPECT_NE(first.rgb, second.rgb);  // the pattern moves
  ASSERT_TRUE(synthetic->rewind());
  EXPECT_EQ(synthetic->next()->rgb, first.rgb);
  EXPECT_THROW(open_source("synthetic:64"), Error);
  EXPECT_THROW(open_source("synthetic:4x4"), Error);
  EXPECT_THROW(open_source("camera:0"), Error);
  EXPECT_THROW(open_source("images:/nonexistent-edgeperf-dir"), Error);
}

class Pipeline : public ::testing::Test {
 protected:
  Pipeline() : session_(zoo::build_zoo_model("mobilenet_v2", 0), options()) {}
  static runtime::SessionOptions options() {
    runtime::SessionOptions o;
    o.threads = 1;
    return o;
  }
  runtime::Session session_;
};

TEST_F(Pipeline, EveryFrameThroughEveryStageWhenUnpaced) {
  auto source = open_source("synthetic:320x240@30");
  PipelineOptions options;
  options.max_frames = 12;
  options.pace = false;
  const PipelineResult result =
      run_pipeline(*source, session_, input_config(session_, {}), options);
  EXPECT_EQ(result.captured, 12);
  EXPECT_EQ(result.processed, 12);
  EXPECT_EQ(result.dropped, 0);
  for (const char* stage : {"capture", "preprocess", "infer", "render"}) {
    EXPECT_EQ(result.stages.at(stage).ms.size(), 12u) << stage;
  }
  ASSERT_EQ(result.end_to_end_ms.size(), 12u);
  // A frame's end-to-end latency covers at least its own inference.
  EXPECT_GE(
      *std::max_element(result.end_to_end_ms.begin(), result.end_to_end_ms.end()),
      *std::min_element(result.stages.at("infer").ms.begin(), result.stages.at("infer").ms.end()));
  EXPECT_EQ(result.last_top.size(), 5u);
  const nlohmann::json json = to_json(result);
  EXPECT_EQ(json["frames_processed"], 12);
  EXPECT_TRUE(json["stages_ms"]["preprocess"].contains("p99"));
}

// A camera faster than the model: frames are dropped, counted, and captured = processed +
// dropped (none is lost silently).
TEST_F(Pipeline, PacedFasterThanInferenceDropsAndCounts) {
  auto source = open_source("synthetic:320x240@1000");
  PipelineOptions options;
  options.max_frames = 200;
  const PipelineResult result =
      run_pipeline(*source, session_, input_config(session_, {}), options);
  EXPECT_EQ(result.captured, 200);
  EXPECT_GT(result.dropped, 0);
  // The last frame may still wait in no queue: every captured frame is processed or dropped.
  EXPECT_EQ(result.processed + result.dropped, result.captured);
}

// --record: one row per captured frame, dropped ones included, across chunk files.
TEST_F(Pipeline, RecordsEveryCapturedFrameAsParquet) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("edgeperf-vision-record-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto source = open_source("synthetic:320x240@1000");
  PipelineOptions options;
  options.max_frames = 120;
  options.record = dir;
  options.record_chunk_rows = 16;
  const PipelineResult result =
      run_pipeline(*source, session_, input_config(session_, {}), options);
  ASSERT_GT(result.dropped, 0);
  std::vector<std::int64_t> frames;
  std::int64_t dropped_rows = 0, files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ASSERT_EQ(entry.path().extension(), ".parquet") << entry.path();
    ++files;
    const columnar::Table table = columnar::ParquetReader(entry.path()).read_all();
    const auto& index =
        std::get<std::vector<std::int64_t>>(table.columns[table.column_index("frame")]);
    const auto& dropped =
        std::get<std::vector<std::int32_t>>(table.columns[table.column_index("dropped")]);
    const auto& infer =
        std::get<std::vector<double>>(table.columns[table.column_index("infer_ms")]);
    for (std::size_t row = 0; row < index.size(); ++row) {
      frames.push_back(index[row]);
      dropped_rows += dropped[row];
      EXPECT_EQ(std::isnan(infer[row]), dropped[row] == 1) << "frame " << index[row];
    }
  }
  EXPECT_EQ(files, result.record_files);
  EXPECT_GT(files, 1);
  std::sort(frames.begin(), frames.end());
  ASSERT_EQ(static_cast<std::int64_t>(frames.size()), result.captured);
  for (std::size_t i = 0; i < frames.size(); ++i)
    EXPECT_EQ(frames[i], static_cast<std::int64_t>(i));
  EXPECT_EQ(dropped_rows, result.dropped);
  std::filesystem::remove_all(dir);
}

TEST_F(Pipeline, WritesAnnotatedFrames) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("edgeperf-vision-out-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto source = open_source("synthetic:64x48@30");
  PipelineOptions options;
  options.max_frames = 3;
  options.pace = false;
  options.out = dir;
  run_pipeline(*source, session_, input_config(session_, {}), options);
  std::size_t jpegs = 0, temporaries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    jpegs += entry.path().extension() == ".jpg";
    temporaries += entry.path().extension() == ".tmp";
  }
  EXPECT_EQ(jpegs, 3u);
  EXPECT_EQ(temporaries, 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace edgeperf::vision
