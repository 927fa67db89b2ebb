#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "edgeperf/bench/dataset.h"
#include "edgeperf/core/npy.h"

namespace edgeperf::bench {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("edgeperf-dataset-" + name);
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

TEST(Accuracy, TopKPerClassAndConfusion) {
  // 4 samples, 3 classes.
  const Tensor logits = make_tensor<float>({4, 3}, {
      0.9f, 0.1f, 0.0f,   // predicts 0, label 0: correct
      0.2f, 0.7f, 0.1f,   // predicts 1, label 2: wrong, label is 3rd
      0.1f, 0.3f, 0.6f,   // predicts 2, label 2: correct
      0.5f, 0.4f, 0.1f}); // predicts 0, label 1: wrong, label 2nd
  const Accuracy accuracy = score(logits, {0, 2, 2, 1});
  EXPECT_EQ(accuracy.top1_correct, 2);
  EXPECT_DOUBLE_EQ(accuracy.top1, 0.5);
  EXPECT_EQ(accuracy.top5_correct, 4);  // only 3 classes: top-5 covers all
  EXPECT_EQ(accuracy.confusion[2][1], 1);
  EXPECT_EQ(accuracy.confusion[1][0], 1);
  EXPECT_DOUBLE_EQ(accuracy.per_class[0], 1.0);
  EXPECT_DOUBLE_EQ(accuracy.per_class[1], 0.0);
  EXPECT_DOUBLE_EQ(accuracy.per_class[2], 0.5);
  EXPECT_THROW(score(logits, {0, 1, 2}), Error);
  EXPECT_THROW(score(logits, {0, 1, 2, 7}), Error);
}

TEST(Fidelity, IdenticalAndPerturbed) {
  const Tensor a = make_tensor<float>({2, 3}, {1, 2, 3, 3, 2, 1});
  const Fidelity same = compare_outputs(a, a);
  EXPECT_TRUE(std::isinf(same.sqnr_db));
  EXPECT_NEAR(same.cosine, 1.0, 1e-12);
  EXPECT_EQ(same.top1_agreement, 1.0);
  const Tensor b = make_tensor<float>({2, 3}, {1, 2, 3.1f, 3, 3.5f, 1});
  const Fidelity perturbed = compare_outputs(a, b);
  EXPECT_EQ(perturbed.top1_agreement, 0.5);
  EXPECT_LT(perturbed.sqnr_db, 20);
  EXPECT_GT(perturbed.sqnr_db, 5);
}

}  // namespace
}  // namespace edgeperf::bench

namespace edgeperf::bench {
namespace {

TEST(ImageFolder, DecodesResizesAndLabelsBySortedClass) {
  const fs::path dir = fresh_dir("images");
  fs::create_directories(dir / "cat");
  fs::create_directories(dir / "ant");
  // A 2x2 binary PGM is not supported by the folder loader; write 24-bit BMPs by hand.
  const auto write_bmp = [](const fs::path& path, unsigned char gray) {
    const unsigned char header[54] = {'B', 'M', 70, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0,
                                      1, 0, 24, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(header), 54);
    for (int row = 0; row < 2; ++row) {
      const unsigned char pixels[8] = {gray, gray, gray, gray, gray, gray, 0, 0};  // 2 px + 2 padding bytes
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
}  // namespace edgeperf::bench
