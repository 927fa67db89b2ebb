// Each model benchmarked in a process of its own (as MLPerf's and ONNX Runtime's
// perf tools effectively do): peak RSS and load time then do not depend on which
// models ran before. The child inherits the options through fork() and sends its
// ModelResult back as JSON through a pipe.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

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
                                   scenario, profile, trace, rounds, round_positions, turns)

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

// The result a child sent as `text` before it exited with `status`, or its error.
ModelResult result_from_child(const std::string& text, int status,
                              const std::filesystem::path& model) {
  nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
  if (message.is_object() && message.contains("error")) {
    fail("{}", message["error"].get<std::string>());
  }
  EP_CHECK(message.is_object() && message.contains("result"),
           "bench: the process measuring model '{}' {} without a result", model.string(),
           describe_exit(status));
  return message["result"].get<ModelResult>();
}

int reap(pid_t child) {
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Turn-taking: the parent writes kGo on a child's control pipe to give it a turn; the
// child answers on its status pipe with kYielded when it hands the CPU back, or with its
// result (a JSON object) when it is done.
constexpr char kGo = 'g';
constexpr char kYielded = 'y';

bool read_byte(int fd, char& byte) {
  for (;;) {
    const ssize_t got = ::read(fd, &byte, 1);
    if (got < 0 && errno == EINTR) continue;
    return got == 1;
  }
}

// In a child: returns when the parent gives it a turn; leaves when the parent is gone.
void wait_for_turn(int control) {
  char byte = 0;
  if (!read_byte(control, byte)) ::_exit(1);
}

[[noreturn]] void run_turn_taking_child(int control, int status, const TurnJob& job) {
  wait_for_turn(control);
  // The process before this one may have left OpenMP threads spinning on these cores;
  // load and its timed tuning runs must not share the cores with them.
  std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(job.options.rewarm_ms));
  ModelBenchOptions options = job.options;
  options.yield_turn = [control, status] {
    write_all(status, std::string(1, kYielded));
    wait_for_turn(control);
  };
  run_child(status, job.model, options, {});
}

struct TurnTaker {
  pid_t pid = -1;
  int control = -1;  // the parent's ends
  int status = -1;
  bool done = false;
};

// The children of bench_models_in_turns, reaped however the parent leaves: a child still
// waiting for a turn reads the end of its control pipe and exits.
class TurnTakers {
 public:
  TurnTakers() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    // A child that died must fail the bench with its story, not kill it with SIGPIPE.
    ::sigaction(SIGPIPE, &ignore, &saved_sigpipe_);
  }
  TurnTakers(const TurnTakers&) = delete;
  TurnTakers& operator=(const TurnTakers&) = delete;
  ~TurnTakers() {
    for (TurnTaker& child : children_) {
      if (child.done) continue;
      ::close(child.control);
      ::close(child.status);
      reap(child.pid);
    }
    ::sigaction(SIGPIPE, &saved_sigpipe_, nullptr);
  }

  void reserve(std::size_t jobs) { children_.reserve(jobs); }

  void start(const TurnJob& job) {
    int control[2], status[2];
    EP_CHECK(::pipe(control) == 0, "bench: cannot create a pipe: {}", std::strerror(errno));
    if (::pipe(status) != 0) {
      ::close(control[0]);
      ::close(control[1]);
      fail("bench: cannot create a pipe: {}", std::strerror(errno));
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(control[1]);
      ::close(status[0]);
      for (const TurnTaker& other : children_) {
        ::close(other.control);
        ::close(other.status);
      }
      run_turn_taking_child(control[0], status[1], job);
    }
    ::close(control[0]);
    ::close(status[1]);
    if (pid < 0) {
      ::close(control[1]);
      ::close(status[0]);
      fail("bench: cannot start the process for model '{}': {}", job.model.string(),
           std::strerror(errno));
    }
    children_.push_back({pid, control[1], status[0]});
  }

  // Gives child `i` a turn; returns its result when that turn was its last.
  std::optional<ModelResult> give_turn(std::size_t i, const std::filesystem::path& model) {
    TurnTaker& child = children_[i];
    char byte = kGo;
    ssize_t written = 0;
    do {
      written = ::write(child.control, &byte, 1);
    } while (written < 0 && errno == EINTR);
    const bool given = written == 1;
    const bool answered = given && read_byte(child.status, byte);
    if (answered && byte == kYielded) return std::nullopt;
    std::string text;
    if (answered) {
      text.push_back(byte);
      text += read_all(child.status);
    }
    ::close(child.control);
    ::close(child.status);
    child.done = true;
    return result_from_child(text, reap(child.pid), model);
  }

  bool done(std::size_t i) const { return children_[i].done; }

 private:
  std::vector<TurnTaker> children_;
  struct sigaction saved_sigpipe_ {};
};

}  // namespace

std::vector<ModelResult> bench_models_in_turns(const std::vector<TurnJob>& jobs,
                                               const ProgressFn& progress) {
  if (jobs.size() == 1) {  // nobody to take turns with: measured alone, energy included
    return {bench_model_isolated(jobs.front().model, jobs.front().options)};
  }
  TurnTakers children;
  children.reserve(jobs.size());  // no allocation between a fork and its record
  for (const TurnJob& job : jobs) children.start(job);
  std::vector<ModelResult> results(jobs.size());
  std::size_t finished = 0;
  while (finished < jobs.size()) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (children.done(i)) continue;
      std::optional<ModelResult> result = children.give_turn(i, jobs[i].model);
      if (!result) continue;
      results[i] = std::move(*result);
      ++finished;
      if (progress) progress(finished, jobs.size());
    }
  }
  return results;
}

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
  return result_from_child(text, reap(child), model);
}

}  // namespace bench
}  // namespace edgeperf
