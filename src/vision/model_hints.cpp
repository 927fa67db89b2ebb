#include "edgeperf/vision/model_hints.h"

#include <regex>
#include <sstream>

#include "edgeperf/core/error.h"

namespace edgeperf::vision {
namespace {

std::optional<Task> task_from(const std::string& value) {
  if (value == "classify") return Task::classify;
  if (value == "detect") return Task::detect;
  if (value == "segment") return Task::segment;
  return std::nullopt;  // pose, obb, ...: left to the output shapes
}

// "{0: 'person', 1: 'bicycle'}" (a Python dict literal): names by index, gaps named
// "class N".
std::vector<std::string> names_from_dict(const std::string& text) {
  static const std::regex kEntry(R"re((\d+)\s*:\s*(?:'([^']*)'|"([^"]*)"))re");
  std::map<int, std::string> by_index;
  for (std::sregex_iterator it(text.begin(), text.end(), kEntry), end; it != end; ++it) {
    const int index = std::stoi((*it)[1]);
    EP_CHECK(index >= 0 && index < 100000, "model metadata 'names': class index {} out of range",
             index);
    by_index[index] = (*it)[2].matched ? (*it)[2].str() : (*it)[3].str();
  }
  std::vector<std::string> names;
  for (const auto& [index, name] : by_index) {
    while (static_cast<int>(names.size()) < index)
      names.push_back("class " + std::to_string(names.size()));
    names.push_back(name);
  }
  return names;
}

std::array<float, 3> three_floats(const std::string& key, const std::string& text) {
  std::array<float, 3> values{};
  char comma1 = 0, comma2 = 0, extra = 0;
  std::istringstream in(text);
  EP_CHECK(in >> values[0] >> comma1 >> values[1] >> comma2 >> values[2] && comma1 == ',' &&
               comma2 == ',' && !(in >> extra),
           "model metadata '{}': expected R,G,B numbers, got '{}'", key, text);
  return values;
}

}  // namespace

ModelHints hints_from_metadata(const std::map<std::string, std::string>& metadata) {
  ModelHints hints;
  const auto get = [&](const char* key) -> const std::string* {
    const auto it = metadata.find(key);
    return it == metadata.end() ? nullptr : &it->second;
  };
  const std::string* author = get("author");
  const bool ultralytics = author != nullptr && author->find("Ultralytics") != std::string::npos &&
                           get("stride") != nullptr;
  if (ultralytics) {
    hints.source = "Ultralytics";
    hints.fit = Fit::letterbox;
    hints.mean = std::array<float, 3>{0, 0, 0};
    hints.std = std::array<float, 3>{1, 1, 1};
    if (const std::string* names = get("names")) hints.labels = names_from_dict(*names);
  } else if (const std::string* labels = get("labels")) {
    std::istringstream lines(*labels);
    for (std::string line; std::getline(lines, line);) hints.labels.push_back(line);
  }
  if (const std::string* task = get("task")) hints.task = task_from(*task);
  if (const std::string* mean = get("mean")) hints.mean = three_floats("mean", *mean);
  if (const std::string* std = get("std")) hints.std = three_floats("std", *std);
  if (hints.source.empty() && (hints.task || !hints.labels.empty() || hints.mean || hints.std)) {
    hints.source = "metadata";
  }
  return hints;
}

}  // namespace edgeperf::vision
