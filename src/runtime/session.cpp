#include "edgeperf/runtime/session.h"

#include <omp.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <thread>

#include "contention_guard.h"
#include "edgeperf/core/clock.h"
#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/random.h"
#include "edgeperf/runtime/backend.h"
#include "edgeperf/runtime/expand_fused_ops.h"
#include "edgeperf/runtime/expand_nbits_matmuls.h"
#include "edgeperf/runtime/fuse_decomposed_ops.h"
#include "edgeperf/runtime/input_shapes.h"
#include "edgeperf/runtime/reference.h"
#include "layout_tuning.h"
#include "plan.h"
#include "providers.h"
#include "thread_tuning.h"

namespace edgeperf::runtime {

namespace {

constexpr auto kBackends = enum_names<BackendKind>("backend",
                                                   {{BackendKind::automatic, "auto"},
                                                    {BackendKind::onednn, "onednn"},
                                                    {BackendKind::reference, "reference"}},
                                                   "?");

}  // namespace

BackendKind parse_backend(const std::string& name) { return kBackends.parse(name); }

std::string backend_name(BackendKind kind) { return std::string(kBackends.name(kind)); }

std::map<std::string, Tensor> random_inputs(const Session& session, std::uint64_t seed,
                                            std::int64_t batch,
                                            const std::map<std::string, Tensor>& given) {
  return random_inputs(session.inputs(), seed, batch, given);
}

std::map<std::string, Tensor> random_inputs(const std::vector<graph::ValueInfo>& inputs,
                                            std::uint64_t seed, std::int64_t batch,
                                            const std::map<std::string, Tensor>& given) {
  std::map<std::string, Tensor> feeds = given;
  std::uint64_t stream = 0;
  for (const graph::ValueInfo& input : inputs) {
    ++stream;
    if (feeds.count(input.name)) continue;
    Shape shape = input.resolved_shape();
    if (batch > 0 && !shape.empty()) shape[0] = batch;
    const bool is_float = input.dtype == DType::f32 || input.dtype == DType::f16;
    feeds[input.name] = random_tensor(input.dtype, shape, seed * 1000003 + stream,
                                      is_float ? -1.0 : 0.0, is_float ? 1.0 : 2.0);
  }
  return feeds;
}

int physical_core_count() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, physical_id = "0";
  while (std::getline(cpuinfo, line)) {
    const auto value = [&] { return line.substr(line.find(':') + 1); };
    if (line.rfind("physical id", 0) == 0) physical_id = value();
    if (line.rfind("core id", 0) == 0) cores.emplace(physical_id, value());
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {

using UnsupportedOps = std::map<std::string, std::vector<std::string>>;

// Subgraphs (If's branches) included: the interpreter runs their nodes.
void collect_unsupported_ops(const graph::Graph& graph, UnsupportedOps& unsupported) {
  for (const graph::Node& node : graph.nodes) {
    for (const auto& [key, value] : node.attrs) {
      if (const auto* subgraph = std::get_if<graph::SubgraphPtr>(&value); subgraph && *subgraph) {
        collect_unsupported_ops(**subgraph, unsupported);
      }
    }
    if (find_reference_kernel(node) != nullptr || is_expandable_fused_op(node)) continue;
    unsupported[registry_key(node)].push_back(node.name.empty() ? node.outputs.at(0) : node.name);
  }
}

}  // namespace

void check_supported_ops(const graph::Graph& graph) {
  UnsupportedOps unsupported;
  collect_unsupported_ops(graph, unsupported);
  if (unsupported.empty()) return;
  std::string listing;
  for (const auto& [op, nodes] : unsupported) {
    if (!listing.empty()) listing += "; ";
    listing += fmt::format("{} (node{} ", op, nodes.size() > 1 ? "s" : "");
    for (std::size_t i = 0; i < nodes.size() && i < 5; ++i) {
      listing += fmt::format("{}'{}'", i ? ", " : "", nodes[i]);
    }
    if (nodes.size() > 5) listing += fmt::format(", and {} more", nodes.size() - 5);
    listing += ")";
  }
  fail("model '{}' uses {} unsupported op{}: {}", graph.name, unsupported.size(),
       unsupported.size() > 1 ? "s" : "", listing);
}

struct Session::Impl {
  graph::Graph graph;
  SessionOptions options;
  int threads = 1;
  std::vector<std::unique_ptr<Backend>> providers;
  std::vector<Backend*> provider_list;
  struct CachedPlan {
    InputShapes shapes;
    std::unique_ptr<Plan> plan;
    ThreadChoice threads;
    ActivationLayout layout = ActivationLayout::automatic;
    LayoutChoice layout_choice;
    std::unique_ptr<Plan> single;  // the standby on one thread (contention_guard.h)
    std::optional<ContentionGuard> guard;
    double single_build_ms = 0;
  };
  // Plans by input shapes, most recently used last; `current` is the back one.
  std::vector<CachedPlan> plans;
  std::size_t plans_built = 0;
  // Why there is no plan yet: the options left symbolic input dims open. The first run
  // binds them.
  std::string unbound_reason;
  InitializerReleases releases;

  Plan& current() {
    EP_CHECK(!plans.empty(), "{}", unbound_reason);
    return *plans.back().plan;
  }
  const ThreadChoice& current_threads() const { return plans.back().threads; }
  void use_plan_for(const InputShapes& shapes);
  TunedPlan build_plan(const InputShapes& shapes);
  std::map<std::string, Tensor> run_current(const std::map<std::string, Tensor>& inputs,
                                            ProfileSink* profile);
  void build_standby(CachedPlan& entry);
  void keep_released_only_where_packed(const Plan& newest);
};

// Makes the plan for `shapes` current: from the cache, or built (the cache keeps the
// most recently used ones). A shape that does not fit the model throws and leaves the
// current plan as it was.
void Session::Impl::use_plan_for(const InputShapes& shapes) {
  auto cached = std::find_if(plans.begin(), plans.end(),
                             [&](const auto& entry) { return entry.shapes == shapes; });
  if (cached != plans.end()) {
    std::rotate(cached, cached + 1, plans.end());
    return;
  }
  // The new plan's static evaluation and packing read the initializers' values.
  releases.refill_all();
  TunedPlan tuned;
  try {
    tuned = build_plan(shapes);
  } catch (...) {
    releases.refill_all();
    throw;
  }
  ++plans_built;
  if (!plans.empty() && plans.size() >= std::max<std::size_t>(options.plan_cache_size, 1)) {
    plans.erase(plans.begin());
  }
  keep_released_only_where_packed(*tuned.plan);
  InputShapes resolved;  // the key: every input's shape, as run() sees them
  for (const graph::ValueInfo& input : tuned.plan->inputs())
    resolved[input.name] = input.resolved_shape();
  std::optional<ContentionGuard> guard;
  if (options.contention_fallback && tuned.choice.used > 1 && tuned.choice.single_ms > 0) {
    guard.emplace(tuned.choice.single_ms);
  }
  plans.push_back(CachedPlan{std::move(resolved), std::move(tuned.plan), tuned.choice, tuned.layout,
                             tuned.layout_choice, nullptr, guard, 0});
}

// The plan on the requested threads, or on one when that measures faster, in the activation
// layout measured faster. A plan that released initializers is not tuned: a second build
// would need their bytes again.
TunedPlan Session::Impl::build_plan(const InputShapes& shapes) {
  ActivationLayout layout = ActivationLayout::automatic;
  const std::function<std::unique_ptr<Plan>(int)> build = [&](int count) {
    return std::make_unique<Plan>(PlanRequest{graph, shapes, options.symbolic_dim_size, count,
                                              provider_list, &releases, layout});
  };
  std::unique_ptr<Plan> plan = build(threads);
  const bool tunable = plan->released_initializers().empty();
  LayoutChoice layout_choice;
  if (options.tune_layout && tunable && plan->layout_sensitive()) {
    LayoutTunedPlan tuned = tune_layout(std::move(plan), threads, options.max_tuned_plan_ms,
                                        [&](ActivationLayout candidate) {
                                          layout = candidate;
                                          return build(threads);
                                        });
    plan = std::move(tuned.plan);
    layout = tuned.layout;
    layout_choice = tuned.choice;
  }
  TunedPlan result;
  if (threads == 1 || !options.tune_threads || !tunable) {
    result.plan = std::move(plan);
    result.choice =
        ThreadChoice{threads, threads, 0, 0,
                     threads == 1 || !options.tune_threads
                         ? "as requested"
                         : "as requested (not timed: the plan released packed weights)"};
  } else {
    result = tune_threads(std::move(plan), threads, options.max_tuned_plan_ms, build);
  }
  result.layout = layout;
  result.layout_choice = layout_choice;
  return result;
}

// An initializer stays released only while no cached plan reads it: each must serve it
// from a packed copy (an earlier plan may have run its reader on another backend).
void Session::Impl::keep_released_only_where_packed(const Plan& newest) {
  for (const std::string& name : newest.released_initializers()) {
    const bool read_by_cached_plan = std::any_of(
        plans.begin(), plans.end(),
        [&](const auto& entry) { return !entry.plan->released_initializers().count(name); });
    if (read_by_cached_plan) releases.refill(name);
  }
}

Session::Session(graph::Graph graph, SessionOptions options) : impl_(std::make_unique<Impl>()) {
  expand_fused_ops(graph);
  expand_nbits_matmuls(graph);
  fuse_decomposed_ops(graph);
  graph::validate(graph);
  check_supported_ops(graph);
  impl_->graph = std::move(graph);
  impl_->options = std::move(options);
  if (impl_->options.release_packed_initializers) {
    constexpr std::size_t kMinReleasedBytes = std::size_t{1} << 20;
    impl_->releases = InitializerReleases(releasable_initializers(impl_->graph, kMinReleasedBytes));
  }
  EP_CHECK(impl_->options.threads >= 0 && impl_->options.threads <= 1024,
           "--threads must be between 1 and 1024, got {}", impl_->options.threads);
  impl_->threads = impl_->options.threads > 0 ? impl_->options.threads : physical_core_count();
  omp_set_num_threads(impl_->threads);
  impl_->providers = make_providers(impl_->options);
  for (const auto& provider : impl_->providers) impl_->provider_list.push_back(provider.get());
  const BoundInputShapes bound = bind_input_shapes(impl_->graph, impl_->options.input_shapes,
                                                   impl_->options.symbolic_dim_size);
  if (bound.complete()) {
    impl_->use_plan_for(bound.shapes);
  } else {
    impl_->unbound_reason = bound.unbound.front();
  }
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

std::map<std::string, Tensor> Session::run(const std::map<std::string, Tensor>& inputs) {
  return run_with(inputs, nullptr);
}

std::map<std::string, Tensor> Session::run(const std::map<std::string, Tensor>& inputs,
                                           ProfileSink& profile) {
  return run_with(inputs, &profile);
}

std::map<std::string, Tensor> Session::run_with(const std::map<std::string, Tensor>& inputs,
                                                ProfileSink* profile) {
  const std::vector<graph::ValueInfo>& expected_inputs =
      impl_->plans.empty() ? impl_->graph.inputs : impl_->current().inputs();
  InputShapes shapes;
  bool same_shapes = true;
  for (const auto& [name, tensor] : inputs) {
    const auto expected = std::find_if(expected_inputs.begin(), expected_inputs.end(),
                                       [&](const auto& input) { return input.name == name; });
    if (expected == expected_inputs.end()) {
      std::string known;
      for (const auto& input : expected_inputs) known += (known.empty() ? "" : ", ") + input.name;
      fail("unknown input '{}' (the model's inputs: {})", name, known);
    }
    EP_CHECK(tensor.dtype() == expected->dtype, "input '{}' has dtype {} but the model expects {}",
             name, dtype_name(tensor.dtype()), dtype_name(expected->dtype));
    shapes[name] = tensor.shape();
    same_shapes = same_shapes && !impl_->plans.empty() &&
                  tensor.shape() == impl_->current().descs().at(name).shape;
  }
  for (const auto& input : expected_inputs) {
    EP_CHECK(inputs.count(input.name), "missing input '{}' ({})", input.name, input.to_string());
  }
  if (!same_shapes) impl_->use_plan_for(shapes);
  return impl_->run_current(inputs, profile);
}

// The one-thread plan beside `entry`'s wide one, sharing its buffers and the weights both
// pack the same way. It releases no initializers: the wide plan may read them.
void Session::Impl::build_standby(CachedPlan& entry) {
  const Stopwatch clock;
  entry.single = std::make_unique<Plan>(PlanRequest{graph, entry.shapes, options.symbolic_dim_size,
                                                    1, provider_list, nullptr, entry.layout});
  entry.plan->share_buffers_with(*entry.single);
  entry.single_build_ms = clock.elapsed_ms();
}

// A profiled run always takes the wide plan: its steps are the ones steps() describes.
std::map<std::string, Tensor> Session::Impl::run_current(
    const std::map<std::string, Tensor>& inputs, ProfileSink* profile) {
  CachedPlan& entry = plans.back();
  if (!entry.guard || profile != nullptr) {
    return entry.plan->run(inputs, entry.threads.used, profile);
  }
  const bool single = entry.guard->use_single();
  if (single && !entry.single) build_standby(entry);
  const Stopwatch clock;
  std::map<std::string, Tensor> outputs =
      single ? entry.single->run(inputs, 1, nullptr)
             : entry.plan->run(inputs, entry.threads.used, nullptr);
  entry.guard->record(clock.elapsed_ms());
  return outputs;
}

const graph::Graph& Session::graph() const { return impl_->graph; }
const std::map<std::string, TensorDesc>& Session::value_descs() const {
  return impl_->current().descs();
}
const std::vector<graph::ValueInfo>& Session::inputs() const { return impl_->current().inputs(); }
const std::vector<graph::ValueInfo>& Session::outputs() const { return impl_->current().outputs(); }
MemoryPlanInfo Session::memory_plan() const {
  MemoryPlanInfo info = impl_->current().memory();
  info.released_initializer_bytes = impl_->releases.released_bytes();
  return info;
}
int Session::threads() const { return impl_->threads; }
const ThreadChoice& Session::thread_choice() const {
  EP_CHECK(!impl_->plans.empty(), "{}", impl_->unbound_reason);
  return impl_->current_threads();
}
const LayoutChoice& Session::layout_choice() const {
  EP_CHECK(!impl_->plans.empty(), "{}", impl_->unbound_reason);
  return impl_->plans.back().layout_choice;
}
ContentionStats Session::contention() const {
  EP_CHECK(!impl_->plans.empty(), "{}", impl_->unbound_reason);
  const Impl::CachedPlan& entry = impl_->plans.back();
  if (!entry.guard) return {};
  return ContentionStats{true, entry.single != nullptr, entry.single_build_ms,
                         entry.guard->single_runs(), entry.guard->switches()};
}
std::size_t Session::plans_built() const { return impl_->plans_built; }
std::optional<std::string> Session::unbound_inputs() const {
  if (!impl_->plans.empty()) return std::nullopt;
  return impl_->unbound_reason;
}
std::vector<StepInfo> Session::steps() const { return impl_->current().step_infos(); }

}  // namespace edgeperf::runtime
