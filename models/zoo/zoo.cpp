#include "edgeperf/zoo/zoo.h"

#include <fmt/format.h>

#include "edgeperf/core/error.h"
#include "layers.h"

namespace edgeperf::zoo {
namespace {

struct ZooModel {
  ZooEntry entry;
  graph::Graph (*build)(std::uint64_t seed);
};

std::vector<ZooModel> zoo_models() {
  return {
      {{"mobilenet_v2",
        "MobileNetV2 width 1.0 (torchvision layout), 1000 classes",
        {1, 3, 224, 224},
        "image-classification"},
       detail::build_mobilenet_v2},
      {{"resnet18",
        "ResNet-18 (torchvision layout), 1000 classes",
        {1, 3, 224, 224},
        "image-classification"},
       detail::build_resnet18},
      {{"ds_cnn",
        "MLPerf Tiny keyword spotting DS-CNN on 49x10 MFCC, 12 classes",
        {1, 1, 49, 10},
        "keyword-spotting"},
       detail::build_ds_cnn},
      {{"fc_autoencoder",
        "MLPerf Tiny anomaly detection autoencoder, 640 features",
        {1, 640},
        "anomaly-detection"},
       detail::build_fc_autoencoder},
      {{"digits_cnn",
        "Small CNN for 8x8 digits, 10 classes (same layout as the trained fixture)",
        {1, 1, 8, 8},
        "image-classification"},
       detail::build_digits_cnn},
  };
}

}  // namespace

std::vector<ZooEntry> zoo_list() {
  std::vector<ZooEntry> entries;
  for (const ZooModel& model : zoo_models()) entries.push_back(model.entry);
  return entries;
}

graph::Graph build_zoo_model(const std::string& name, std::uint64_t seed) {
  std::vector<std::string> known;
  for (const ZooModel& model : zoo_models()) {
    if (model.entry.name == name) return model.build(seed);
    known.push_back(model.entry.name);
  }
  fail("unknown zoo model '{}' (known: {})", name, fmt::join(known, ", "));
}

}  // namespace edgeperf::zoo
