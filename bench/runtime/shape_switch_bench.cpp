// What an input-shape change costs a loaded session. For each zoo model: the time to
// create a session, the first run at a new batch size (a plan is built), and then runs
// that alternate between two batch sizes, with the plan cache (each shape planned once)
// and without it (plan_cache_size 1: a re-plan on every switch, as sessions did before
// plans were cached). Each timed query runs batch A then batch B. The plan for B shares
// the weights A's plan packed; a Winograd conv, whose weight layout depends on the batch,
// runs A's primitive over parts of B's batch when A divides B. The table gives the packed
// megabytes reused and in all.
//
//   shape_switch_bench [--models mobilenet_v2,resnet18] [--threads 1] [--runs 30]
//                      [--batches 1,2]
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "edgeperf/bench/runner.h"
#include "edgeperf/bench/stats.h"
#include "edgeperf/runtime/session.h"
#include "edgeperf/zoo/zoo.h"

namespace {

using namespace edgeperf;

struct Args {
  std::vector<std::string> models{"mobilenet_v2", "resnet18"};
  int threads = 1;
  std::size_t runs = 30;
  std::int64_t batch_a = 1, batch_b = 2;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

// A positive integer flag value; anything else is a one-line error naming the flag.
long long positive(const std::string& flag, const std::string& value) {
  std::size_t used = 0;
  long long number = 0;
  try {
    number = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  EP_CHECK(used == value.size() && number > 0, "{} takes a positive integer, got '{}'", flag,
           value);
  return number;
}

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--models")
      args.models = split(value);
    else if (flag == "--threads")
      args.threads = static_cast<int>(positive(flag, value));
    else if (flag == "--runs")
      args.runs = static_cast<std::size_t>(positive(flag, value));
    else if (flag == "--batches") {
      const auto batches = split(value);
      EP_CHECK(batches.size() == 2, "--batches takes two sizes, got '{}'", value);
      args.batch_a = positive(flag, batches[0]);
      args.batch_b = positive(flag, batches[1]);
    } else {
      fail("unknown flag '{}' (expected --models, --threads, --runs or --batches)", flag);
    }
  }
  EP_CHECK(argc % 2 == 1, "flag '{}' has no value", argv[argc - 1]);
  return args;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// One query: batch A, then batch B, on the same session.
class AlternatingShapes final : public bench::SystemUnderTest {
 public:
  AlternatingShapes(runtime::Session& session, std::map<std::string, Tensor> a,
                    std::map<std::string, Tensor> b)
      : session_(session), a_(std::move(a)), b_(std::move(b)) {}
  void process_query() override {
    session_.run(a_);
    session_.run(b_);
  }

 private:
  runtime::Session& session_;
  std::map<std::string, Tensor> a_, b_;
};

double median_ms(runtime::Session& session, const std::map<std::string, Tensor>& a,
                 const std::map<std::string, Tensor>& b, std::size_t runs) {
  AlternatingShapes sut(session, a, b);
  const bench::Measurement measurement = bench::measure(sut, bench::RunConfig{runs, 0, 600, 2});
  return bench::summarize(measurement.latencies_ms).p50;
}

void measure_model(const Args& args, const std::string& name) {
  const graph::Graph graph = zoo::build_zoo_model(name);
  runtime::SessionOptions options{.backend = runtime::BackendKind::automatic,
                                  .threads = args.threads};
  options.input_shapes[graph.inputs[0].name] = graph.inputs[0].resolved_shape(args.batch_a);
  auto start = std::chrono::steady_clock::now();
  runtime::Session cached(graph, options);
  const double create_ms = ms_since(start);
  const std::size_t packed_at_a = cached.memory_plan().packed_weight_bytes;
  const auto a = runtime::random_inputs(cached, 1, args.batch_a);
  const auto b = runtime::random_inputs(cached, 2, args.batch_b);
  start = std::chrono::steady_clock::now();
  cached.run(b);
  const double first_switch_ms = ms_since(start);
  const runtime::MemoryPlanInfo at_b = cached.memory_plan();
  start = std::chrono::steady_clock::now();
  cached.run(b);
  const double same_shape_ms = ms_since(start);
  const double with_cache = median_ms(cached, a, b, args.runs);

  options.plan_cache_size = 1;
  runtime::Session uncached(graph, options);
  const double without_cache = median_ms(uncached, a, b, args.runs);
  fmt::print(
      "| {} | {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} / {:.1f} | {:.2f} | {:.2f} | {:.2f} | {:.1f}x "
      "| {} / "
      "{} |\n",
      name, args.threads, create_ms, packed_at_a / 1e6, first_switch_ms,
      at_b.reused_weight_bytes / 1e6, at_b.packed_weight_bytes / 1e6, same_shape_ms, with_cache,
      without_cache, without_cache / with_cache, cached.plans_built(), uncached.plans_built());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse(argc, argv);
    fmt::print("batch A = {}, batch B = {}; alternating: p50 of {} queries (A then B)\n\n",
               args.batch_a, args.batch_b, args.runs);
    fmt::print(
        "| model | threads | create ms | A's packed weights MB | first run at B ms | B's packed "
        "weights reused / all MB "
        "| next run at B ms | A+B alternating, cached ms | A+B alternating, re-plan each switch ms "
        "| saved | plans built (cached / not) |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const std::string& model : args.models) measure_model(args, model);
  } catch (const std::exception& error) {
    fmt::print(stderr, "shape_switch_bench: error: {}\n", error.what());
    return 1;
  }
  return 0;
}
