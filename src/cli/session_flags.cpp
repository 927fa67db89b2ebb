#include "edgeperf/cli/session_flags.h"

#include "edgeperf/audio/mfcc.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/npy.h"
#include "edgeperf/runtime/input_shapes.h"

namespace edgeperf::cli {

void add_session_flags(CLI::App& command, runtime::SessionOptions& options,
                       const SessionFlagSet& which) {
  if (which.threads) {
    command
        .add_option("--threads", options.threads,
                    which.min_threads == 0 ? "Threads (0: physical cores)"
                                           : "Threads (default: physical cores)")
        ->check(CLI::Range(which.min_threads, 1024));
  }
  command.add_flag_callback(
      "--no-thread-tuning", [&options] { options.tune_threads = false; },
      "Run on all --threads threads even where one thread measures faster (by default a "
      "plan under 20 ms is timed on both and the faster kept)");
  command.add_flag_callback(
      "--no-layout-tuning", [&options] { options.tune_layout = false; },
      "Keep the automatic activation layout (by default an image model's plan under 20 ms is "
      "also built with 16-channel blocks from its first conv, both timed and the faster kept)");
  command.add_flag_callback(
      "--no-contention-fallback", [&options] { options.contention_fallback = false; },
      "Keep a tuned multi-thread plan even when another process takes a core (by default "
      "runs then go to a one-thread plan, built when first needed, until the wide plan "
      "measures faster again)");
  if (which.backend) {
    command
        .add_option_function<std::string>(
            "--backend",
            [&options](const std::string& name) { options.backend = runtime::parse_backend(name); },
            "auto | onednn | reference")
        ->check(CLI::IsMember({"auto", "onednn", "reference"}));
  }
  if (which.sparse) {
    command
        .add_option_function<std::string>(
            "--sparse",
            [&options](const std::string& mode) {
              options.sparse = runtime::parse_sparse_mode(mode);
            },
            "auto (sparse FC/1x1 conv kernels where measured faster) | off | force")
        ->check(CLI::IsMember({"auto", "off", "force"}));
  }
  if (which.shapes) {
    command.add_option_function<std::vector<std::string>>(
        "--shape",
        [&options](const std::vector<std::string>& specs) {
          for (const std::string& spec : specs) {
            auto [name, shape] = runtime::parse_shape_spec(spec);
            EP_CHECK(options.input_shapes.emplace(name, std::move(shape)).second,
                     "--shape '{}': input '{}' is given twice", spec, name);
          }
        },
        "NAME=DIMS, e.g. images=1x3x640x640 (repeatable): binds the input's symbolic dims");
  }
  if (which.onednn_kernels_only) {
    command.add_flag_callback(
        "--onednn-kernels-only", [&options] { options.own_int8_kernels = false; },
        "Run int8 layers on oneDNN only, not on edgeperf's own kernels (A/B)");
  }
}

namespace {

bool is_wav(const std::string& file) {
  return file.size() > 4 && (file.ends_with(".wav") || file.ends_with(".WAV"));
}

// One second of 16 kHz audio (cut or padded with silence) as MLPerf Tiny's KWS features.
Tensor wav_features(const std::string& file) {
  audio::Audio sound = audio::read_wav(file);
  const audio::MfccConfig config;
  EP_CHECK(sound.sample_rate == config.sample_rate,
           "{}: {} Hz audio; the MFCC front end takes {} Hz (resample it, e.g. sox IN -r {} OUT)",
           file, sound.sample_rate, config.sample_rate, config.sample_rate);
  const std::vector<float> features =
      audio::mfcc(audio::fit_length(std::move(sound.samples), config.sample_rate), config);
  const auto frames = static_cast<std::int64_t>(features.size()) / config.coefficients;
  Tensor tensor(DType::f32, {frames, config.coefficients});
  std::copy(features.begin(), features.end(), tensor.data<float>());
  return tensor;
}

}  // namespace

std::map<std::string, Tensor> load_input_files(const std::vector<std::string>& specs) {
  std::map<std::string, Tensor> feeds;
  for (const std::string& spec : specs) {
    const auto equals = spec.find('=');
    EP_CHECK(equals != std::string::npos && equals > 0 && equals + 1 < spec.size(),
             "--input '{}' is not NAME=FILE.npy", spec);
    const std::string name = spec.substr(0, equals);
    EP_CHECK(!feeds.count(name), "--input '{}' is given twice", name);
    const std::string file = spec.substr(equals + 1);
    feeds[name] = is_wav(file) ? wav_features(file) : read_npy(file);
  }
  return feeds;
}

void shape_audio_features(const std::vector<std::string>& specs, const graph::Graph& graph,
                          std::map<std::string, Tensor>& feeds) {
  for (const std::string& spec : specs) {
    const auto equals = spec.find('=');
    const std::string name = spec.substr(0, equals);
    if (!is_wav(spec.substr(equals + 1))) continue;
    const graph::ValueInfo* input = graph.find_input(name);
    EP_CHECK(input != nullptr, "--input {}: the model has no input '{}'", spec, name);
    const Shape shape = input->resolved_shape(1);
    Tensor& features = feeds.at(name);
    EP_CHECK(element_count(shape) == features.numel(),
             "--input {}: the audio gives {} MFCC features ({}), the input {} holds {}", spec,
             features.numel(), shape_to_string(features.shape()), input->to_string(),
             element_count(shape));
    features = features.reshaped(shape);
  }
}

void add_seed_flag(CLI::App& command, std::uint64_t& seed, const std::string& help) {
  command.add_option("--seed", seed, help);
}

}  // namespace edgeperf::cli
