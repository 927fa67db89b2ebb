// Each model benchmarked in a process of its own (as MLPerf's and ONNX Runtime's
// perf tools effectively do): peak RSS and load time then do not depend on which
// models ran before. The child inherits the options through fork() and sends its
// ModelResult back as JSON through a pipe.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>

#include "edgeperf/bench/model_bench.h"
#include "edgeperf/core/error.h"

namespace nlohmann {
template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& out, const std::optional<T>& value) {
    out = value ? json(*value) : json(nullptr);
  }
  static void from_json(const json& in, std::optional<T>& value) {
    value = in.is_null() ? std::nullopt : std::optional<T>(in.get<T>());
  }
};
}  // namespace nlohmann

namespace edgeperf {
namespace bench {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Summary, n, mean, stddev, min, max, median, p50, p90, p95, p99,
                                   ci95_low, ci95_high, cv, outliers)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Measurement, latencies_ms, warmup_runs_done, warmup_stabilized,
                                   wall_seconds, throughput_qps, throughput_sps)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BatchResult, batch, measurement, latency)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(EnergyResult, method, joules_per_inference, mean_watts, note)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ScenarioResult, scenario, metric, value, latency, achieved_qps,
                                   samples_per_query, max_qps_within_bound)
}  // namespace bench
namespace eval {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Accuracy, samples, top1_correct, top5_correct, top1, top5,
                                   per_class, confusion)
// SQNR is +inf for identical outputs, which JSON numbers cannot hold.
void to_json(nlohmann::json& out, const Fidelity& f) {
  out = {{"top1_agreement", f.top1_agreement},
         {"sqnr_db", std::isinf(f.sqnr_db) ? nlohmann::json("inf") : nlohmann::json(f.sqnr_db)},
         {"cosine", f.cosine}};
}
void from_json(const nlohmann::json& in, Fidelity& f) {
  f.top1_agreement = in.at("top1_agreement").get<double>();
  f.sqnr_db = in.at("sqnr_db").is_string() ? INFINITY : in.at("sqnr_db").get<double>();
  f.cosine = in.at("cosine").get<double>();
}
}  // namespace eval

namespace bench {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ModelResult, label, path, backend, threads, threads_used,
                                   thread_choice, layout, layout_choice, contention, pinned_cores,
                                   input_shapes, shape_notes, file_bytes, weight_bytes, parameters,
                                   macs, load_ms, first_run_ms, batches, peak_rss_bytes,
                                   baseline_rss_bytes, arena_bytes, energy, temperature_before_c,
                                   temperature_after_c, throttled, noisy, accuracy, fidelity,
                                   scenario, profile, trace, rounds, round_positions)

namespace {

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t written = ::write(fd, text.data() + done, text.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    done += static_cast<std::size_t>(written);
  }
}

std::string read_all(int fd) {
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return text;
    text.append(buffer, static_cast<std::size_t>(got));
  }
}

[[noreturn]] void run_child(int fd, const std::filesystem::path& model,
                            const ModelBenchOptions& options, const ProgressFn& progress) {
  int status = 0;
  nlohmann::json message;
  try {
    message = {{"result", bench_model(model, options, progress)}};
  } catch (const std::exception& error) {
    message = {{"error", error.what()}};
    status = 1;
  }
  write_all(fd, message.dump());
  ::close(fd);
  std::fflush(stdout);
  ::_exit(status);  // no atexit handlers or static destructors of the parent's state
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    return fmt::format("died with signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  }
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

}  // namespace

ModelResult bench_model_isolated(const std::filesystem::path& model,
                                 const ModelBenchOptions& options, const ProgressFn& progress) {
  int fds[2];
  EP_CHECK(::pipe(fds) == 0, "bench: cannot create a pipe: {}", std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    fail("bench: cannot start the process for model '{}': {}", model.string(),
         std::strerror(errno));
  }
  if (child == 0) {
    ::close(fds[0]);
    run_child(fds[1], model, options, progress);
  }
  ::close(fds[1]);
  const std::string text = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
  if (message.is_object() && message.contains("error")) {
    fail("{}", message["error"].get<std::string>());
  }
  EP_CHECK(message.is_object() && message.contains("result"),
           "bench: the process measuring model '{}' {} without a result", model.string(),
           describe_exit(status));
  return message["result"].get<ModelResult>();
}

}  // namespace bench
}  // namespace edgeperf
