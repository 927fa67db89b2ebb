#include "edgeperf/eval/dataset.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "edgeperf/core/npy.h"

namespace edgeperf::eval {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("edgeperf-eval-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(Dataset, LoadsAndBatches) {
  const fs::path dir = fresh_dir("ok");
  write_npy(dir / "inputs.npy", make_tensor<float>({3, 2}, {0, 1, 2, 3, 4, 5}));
  write_npy(dir / "labels.npy", make_tensor<std::int64_t>({3}, {0, 1, 1}));
  const Dataset dataset = load_dataset(dir);
  EXPECT_EQ(dataset.size(), 3);
  EXPECT_EQ(dataset.sample_shape(), (Shape{2}));
  const Tensor batch = dataset.batch(1, 2);
  EXPECT_EQ(batch.shape(), (Shape{2, 2}));
  EXPECT_EQ(batch.values<float>()[0], 2.0f);
  EXPECT_THROW(dataset.batch(2, 2), Error);
}

TEST(Dataset, PrefixForm) {
  const fs::path dir = fresh_dir("prefix");
  write_npy(dir / "digits_inputs.npy", make_tensor<float>({2, 1}, {0, 1}));
  write_npy(dir / "digits_labels.npy", make_tensor<std::int64_t>({2}, {1, 0}));
  EXPECT_EQ(load_dataset(dir / "digits").labels, (std::vector<std::int64_t>{1, 0}));
}

TEST(Dataset, BadDatasetsAreNamed) {
  EXPECT_THROW(load_dataset("/nonexistent/edgeperf"), Error);
  const fs::path dir = fresh_dir("bad");
  EXPECT_THROW(load_dataset(dir), Error);  // no files
  write_npy(dir / "inputs.npy", make_tensor<float>({3, 2}, {0, 1, 2, 3, 4, 5}));
  write_npy(dir / "labels.npy", make_tensor<std::int64_t>({2}, {0, 1}));
  try {
    load_dataset(dir);
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("2 labels for 3 inputs"), std::string::npos);
  }
  write_npy(dir / "labels.npy", make_tensor<float>({3}, {0, 1, 1}));
  EXPECT_THROW(load_dataset(dir), Error);  // float labels
  write_npy(dir / "labels.npy", make_tensor<std::int64_t>({3}, {0, -1, 1}));
  EXPECT_THROW(load_dataset(dir), Error);  // negative label
}

}  // namespace
}  // namespace edgeperf::eval

namespace edgeperf::eval {
namespace {

TEST(ImageFolder, DecodesResizesAndLabelsBySortedClass) {
  const fs::path dir = fresh_dir("images");
  fs::create_directories(dir / "cat");
  fs::create_directories(dir / "ant");
  // A 2x2 binary PGM is not supported by the folder loader; write 24-bit BMPs by hand.
  const auto write_bmp = [](const fs::path& path, unsigned char gray) {
    const unsigned char header[54] = {'B', 'M', 70, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0,  0,
                                      2,   0,   0,  0, 2, 0, 0, 0, 1, 0, 24, 0, 0, 0, 0,  0, 16, 0,
                                      0,   0,   0,  0, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0,  0, 0,  0};
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(header), 54);
    for (int row = 0; row < 2; ++row) {
      const unsigned char pixels[8] = {gray, gray, gray, gray,
                                       gray, gray, 0,    0};  // 2 px + 2 padding bytes
      out.write(reinterpret_cast<const char*>(pixels), 8);
    }
  };
  write_bmp(dir / "cat" / "c1.bmp", 255);
  write_bmp(dir / "ant" / "a1.bmp", 0);
  std::ofstream(dir / "ant" / "notes.txt") << "ignored";
  EXPECT_TRUE(is_image_folder(dir));
  std::vector<std::string> classes;
  const Dataset dataset = load_image_folder(dir, {3, 4, 4}, &classes);
  EXPECT_EQ(classes, (std::vector<std::string>{"ant", "cat"}));
  EXPECT_EQ(dataset.inputs.shape(), (Shape{2, 3, 4, 4}));
  EXPECT_EQ(dataset.labels, (std::vector<std::int64_t>{0, 1}));
  EXPECT_FLOAT_EQ(dataset.inputs.values<float>()[0], 0.0f);
  EXPECT_FLOAT_EQ(dataset.inputs.values<float>()[48], 1.0f);
  std::ofstream(dir / "cat" / "broken.png") << "not a png";
  EXPECT_THROW(load_image_folder(dir, {3, 4, 4}), Error);
  EXPECT_THROW(load_image_folder(dir, {5, 4, 4}), Error);
}

}  // namespace
}  // namespace edgeperf::eval

namespace edgeperf::eval {
namespace {

// The message of the Error `body` throws (fails the test when it throws none).
template <typename Body>
std::string error_of(Body body) {
  try {
    body();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

void expect_one_line_naming(const std::string& message, const std::string& name) {
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_NE(message.find(name), std::string::npos) << message;
}

graph::ValueInfo image_input() {
  return {"x",
          DType::f32,
          {graph::Dim::named("batch"), graph::Dim::fixed(1), graph::Dim::fixed(2),
           graph::Dim::fixed(2)},
          true};
}

TEST(Resolver, EveryLayoutOneSemantics) {
  const fs::path dir = fresh_dir("layouts");
  write_npy(dir / "single.npy", make_tensor<float>({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7}));
  const DataFiles file = resolve_data(dir / "single.npy");
  EXPECT_EQ(file.inputs, std::vector<fs::path>{dir / "single.npy"});
  EXPECT_FALSE(file.labels);

  write_npy(dir / "p_inputs.npy", make_tensor<float>({1, 4}, {0, 1, 2, 3}));
  EXPECT_FALSE(resolve_data(dir / "p").labels);  // PREFIX without labels
  write_npy(dir / "p_labels.npy", make_tensor<std::int64_t>({1}, {0}));
  EXPECT_EQ(resolve_data(dir / "p").labels, dir / "p_labels.npy");

  fs::create_directories(dir / "files");
  write_npy(dir / "files" / "b.npy", make_tensor<float>({1, 4}, {4, 5, 6, 7}));
  write_npy(dir / "files" / "a.npy", make_tensor<float>({4}, {0, 1, 2, 3}));  // one sample
  const DataFiles files = resolve_data(dir / "files");
  EXPECT_EQ(files.inputs,
            (std::vector<fs::path>{dir / "files" / "a.npy", dir / "files" / "b.npy"}));
  EXPECT_FALSE(files.image_folder);

  fs::create_directories(dir / "images" / "cat");
  EXPECT_TRUE(resolve_data(dir / "images").image_folder);
}

TEST(Resolver, MissingDatasetIsOneLineNamingIt) {
  expect_one_line_naming(error_of([] { resolve_data("/nonexistent/edgeperf-data"); }),
                         "/nonexistent/edgeperf-data");
  const fs::path empty = fresh_dir("empty");
  const std::string message = error_of([&] { load_dataset(empty); });
  expect_one_line_naming(message, empty.string());
  EXPECT_NE(message.find("no .npy"), std::string::npos);
}

TEST(Resolver, MismatchedCountsAreOneLineNamingTheDataset) {
  const fs::path dir = fresh_dir("counts");
  write_npy(dir / "x_inputs.npy", make_tensor<float>({3, 1}, {0, 1, 2}));
  write_npy(dir / "x_labels.npy", make_tensor<std::int64_t>({2}, {0, 1}));
  const std::string message = error_of([&] { load_dataset(dir / "x"); });
  expect_one_line_naming(message, (dir / "x").string());
  EXPECT_NE(message.find("2 labels for 3 inputs"), std::string::npos);
}

TEST(LoadDataset, LabelsRequiredUnlessAskedOtherwise) {
  const fs::path dir = fresh_dir("unlabeled");
  write_npy(dir / "inputs.npy", make_tensor<float>({2, 1}, {0, 1}));
  expect_one_line_naming(error_of([&] { load_dataset(dir); }), dir.string());
  LoadOptions options;
  options.require_labels = false;
  const Dataset dataset = load_dataset(dir, options);
  EXPECT_EQ(dataset.size(), 2);
  EXPECT_FALSE(dataset.labeled());
}

TEST(LoadDataset, ReshapesSamplesForTheModelInputAndConcatenatesFiles) {
  const fs::path dir = fresh_dir("conform");
  write_npy(dir / "a.npy", make_tensor<float>({1, 2, 2}, {0, 1, 2, 3}));  // one sample, no batch
  write_npy(dir / "b.npy", make_tensor<float>({2, 4}, {4, 5, 6, 7, 8, 9, 10, 11}));
  LoadOptions options;
  options.require_labels = false;
  options.input = image_input();
  const Dataset dataset = load_dataset(dir, options);
  EXPECT_EQ(dataset.inputs.shape(), (Shape{3, 1, 2, 2}));
  EXPECT_EQ(dataset.inputs.values<float>()[4], 4.0F);

  write_npy(dir / "c.npy", make_tensor<float>({2, 3}, {0, 1, 2, 3, 4, 5}));
  const std::string message = error_of([&] { load_dataset(dir, options); });
  expect_one_line_naming(message, "c.npy");
  EXPECT_NE(message.find("[3]"), std::string::npos);  // the stored sample shape
  EXPECT_NE(message.find("[1, 2, 2]"), std::string::npos);
}

TEST(LoadDataset, WrongDtypeNamesTheFile) {
  const fs::path dir = fresh_dir("dtype");
  write_npy(dir / "ints.npy", make_tensor<std::int64_t>({1, 4}, {0, 1, 2, 3}));
  LoadOptions options;
  options.require_labels = false;
  options.input = image_input();
  const std::string message = error_of([&] { load_dataset(dir / "ints.npy", options); });
  expect_one_line_naming(message, "ints.npy");
  EXPECT_NE(message.find("i64"), std::string::npos);
}

TEST(SampleStream, ReadsEveryFileInOrderAndRefusesNaNByFileAndSample) {
  const fs::path dir = fresh_dir("stream");
  write_npy(dir / "a.npy", make_tensor<float>({2, 4}, {0, 1, 2, 3, 4, 5, 6, 7}));
  write_npy(dir / "b.npy", make_tensor<float>({2, 4}, {8, 9, 10, 11, 12, NAN, 14, 15}));
  SampleStream stream(dir, image_input());
  std::vector<float> firsts;
  for (int i = 0; i < 3; ++i) {
    const std::optional<Tensor> sample = stream.next();
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->shape(), (Shape{1, 1, 2, 2}));
    firsts.push_back(sample->values<float>()[0]);
  }
  EXPECT_EQ(firsts, (std::vector<float>{0, 4, 8}));
  const std::string message = error_of([&] { stream.next(); });
  expect_one_line_naming(message, "b.npy");
  EXPECT_NE(message.find("sample 1 holds NaN"), std::string::npos);
}

TEST(SampleStream, EndsAfterTheLastSample) {
  const fs::path dir = fresh_dir("stream_end");
  write_npy(dir / "x_inputs.npy", make_tensor<float>({1, 4}, {0, 1, 2, 3}));
  write_npy(dir / "x_labels.npy", make_tensor<std::int64_t>({1}, {0}));
  SampleStream stream(dir / "x", image_input());
  EXPECT_TRUE(stream.next());
  EXPECT_FALSE(stream.next());
}

}  // namespace
}  // namespace edgeperf::eval
