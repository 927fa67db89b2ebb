#include "train_flags.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/passes/passes.h"

namespace edgeperf::cli::training {

namespace fs = std::filesystem;

void add_common_flags(CLI::App& command, CommonFlags& flags) {
  command.add_option("-o,--output", flags.output, "Trained model to write")->required();
  command.add_option("--train", flags.train,
                     "Training data: FILE.npy, PREFIX (PREFIX_inputs.npy [+ PREFIX_labels.npy]) "
                     "or a directory; labels give a cross-entropy term");
  command.add_option("--data", flags.data, "Labeled held-out data: accuracy after every epoch");
  command.add_option("--teacher", flags.teacher,
                     "Float ONNX model to distill from (KL on softened logits)");
  command.add_option("--epochs", flags.options.epochs, "Passes over the training data")
      ->capture_default_str();
  command
      .add_option("--lr", flags.options.lr,
                  "Adam learning rate at the start (cosine decay to 0 at the end)")
      ->capture_default_str();
  command.add_option("--batch", flags.options.batch, "Samples per step")->capture_default_str();
  command.add_option("--seed", flags.options.seed, "Seed: the same seed gives the same file");
  command.add_option("--threads", flags.options.threads,
                     "Training threads (results depend on it: the same seed and threads give "
                     "the same file)");
  command.add_option("--temperature", flags.options.temperature, "Distillation temperature");
  command.add_option("--alpha", flags.options.alpha,
                     "Weight of the distillation term when labels are given (0..1)");
  command.add_option("--report", flags.report,
                     "Write a JSON report: options, what was trained, loss and held-out "
                     "accuracy per epoch");
}

eval::Dataset load_for(const std::string& spec, const graph::Graph& model, bool labels,
                       const std::string& what) {
  return with_error_context(what, [&] {
    eval::LoadOptions load;
    load.require_labels = labels;
    load.input = model.inputs.front();
    return eval::load_dataset(spec, load);
  });
}

std::optional<eval::Dataset> held_out_for(const CommonFlags& flags, const graph::Graph& model) {
  if (flags.data.empty()) return std::nullopt;
  return load_for(flags.data, model, true, "--data");
}

std::optional<graph::Graph> teacher_for(const CommonFlags& flags) {
  if (flags.teacher.empty()) return std::nullopt;
  return with_error_context("--teacher", [&] { return load_for_training(flags.teacher); });
}

void write_report(const CommonFlags& flags, const std::string& command,
                  const train::TrainResult& result, std::int64_t samples, bool labeled,
                  nlohmann::json extra) {
  if (flags.report.empty()) return;
  nlohmann::json epochs = nlohmann::json::array();
  for (const train::EpochReport& epoch : result.epochs) {
    epochs.push_back({{"epoch", epoch.epoch},
                      {"loss", epoch.loss},
                      {"held_out_accuracy",
                       epoch.held_out ? nlohmann::json(*epoch.held_out) : nlohmann::json(nullptr)},
                      {"seconds", epoch.seconds}});
  }
  const train::TrainOptions& options = flags.options;
  nlohmann::json report = {
      {"command", command},
      {"model", flags.model},
      {"output", flags.output},
      {"train", flags.train.empty() ? nlohmann::json(nullptr) : nlohmann::json(flags.train)},
      {"teacher", flags.teacher.empty() ? nlohmann::json(nullptr) : nlohmann::json(flags.teacher)},
      {"held_out", flags.data.empty() ? nlohmann::json(nullptr) : nlohmann::json(flags.data)},
      {"training_samples", samples},
      {"labeled", labeled},
      {"options",
       {{"epochs", options.epochs},
        {"lr", options.lr},
        {"batch", options.batch},
        {"seed", options.seed},
        {"threads", options.threads},
        {"temperature", options.temperature},
        {"alpha", options.alpha}}},
      {"trained", result.log},
      {"epochs", epochs}};
  report.update(extra);
  write_file_atomic(flags.report, report.dump(2) + "\n");
}

graph::Graph load_for_training(const std::string& path) {
  EP_CHECK(fs::is_regular_file(path), "model '{}' does not exist", path);
  passes::OptimizeOptions options;
  options.passes = {"fold-constants", "remove-identity", "dce"};
  return passes::optimize(onnx_io::load_model(path), options).graph;
}

train::Progress progress_printer() {
  train::Progress progress;
  if (isatty(fileno(stderr)) != 0) {
    progress.on_batch = [](int epoch, std::int64_t done, std::int64_t total, double loss) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(kWidth * done / std::max<std::int64_t>(1, total));
      fmt::print(stderr, "\repoch {:>3} [{:<{}}] {}/{} loss {:.4f}", epoch,
                 std::string(static_cast<std::size_t>(filled), '#'), kWidth, done, total, loss);
    };
  }
  const bool tty = static_cast<bool>(progress.on_batch);
  progress.on_epoch = [tty](const train::EpochReport& epoch) {
    const std::string held_out =
        epoch.held_out ? fmt::format("  held-out {:.2f}%", 100.0 * *epoch.held_out) : "";
    fmt::print(stderr, "{}epoch {}/{}  loss {:.4f}{}  ({:.1f} s)\n", tty ? "\r\033[K" : "",
               epoch.epoch, epoch.epochs, epoch.loss, held_out, epoch.seconds);
  };
  return progress;
}

void print_result(const train::TrainResult& result, const std::string& output) {
  for (const std::string& line : result.log) fmt::print("{}\n", line);
  if (!result.epochs.empty()) {
    fmt::print("| epoch | loss | held-out accuracy (training engine) |\n|---|---|---|\n");
    for (const train::EpochReport& epoch : result.epochs) {
      fmt::print("| {} | {:.4f} | {} |\n", epoch.epoch, epoch.loss,
                 epoch.held_out ? fmt::format("{:.2f}%", 100.0 * *epoch.held_out) : "-");
    }
  }
  fmt::print("wrote {}\n", output);
}

}  // namespace edgeperf::cli::training
