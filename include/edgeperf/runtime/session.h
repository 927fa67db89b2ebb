#pragma once
// Session: the C++ API to run a model. Build it from a file, bytes or a Graph,
// then call run(). Everything that can fail because of the model (unsupported ops,
// bad shapes) fails in the constructor; run() fails only on bad inputs.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/kernel.h"
#include "edgeperf/runtime/sparse.h"

namespace edgeperf::runtime {

enum class BackendKind { automatic, onednn, reference };
BackendKind parse_backend(const std::string& name);  // "auto" | "onednn" | "reference"
std::string backend_name(BackendKind kind);

struct SessionOptions {
  BackendKind backend = BackendKind::automatic;
  int threads = 0;  // 0: the number of physical cores
  // Size given to symbolic dimensions (the batch) when no input fixes them.
  std::int64_t symbolic_dim_size = 1;
  // Fixed input shapes by input name (overrides symbolic resolution).
  std::map<std::string, Shape> input_shapes;
  // FC and 1x1 conv layers with sparse constant weights: timed against the dense path
  // (auto), never sparse (off), or sparse wherever supported (force).
  SparseMode sparse = SparseMode::automatic;
  // Our own int8 kernels (3x3 depthwise u8) where they apply; false: oneDNN's only,
  // for A/B comparisons.
  bool own_int8_kernels = true;
  // Plans kept for the most recently used input shapes: switching back to one of them
  // costs no re-planning.
  std::size_t plan_cache_size = 4;
  // Large initializers the session alone owns (the graph was moved in), once packed for
  // their only reader, give their pages back to the OS (runtime/initializer_releases.h):
  // the weights are held once. Their bytes in graph() then read as zeros.
  bool release_packed_initializers = true;
  // With more than one thread, a plan that runs in under max_tuned_plan_ms is also built
  // for one thread and the two are timed one after the other on seeded inputs (one plan
  // alive at a time); the session keeps the one-thread plan only when it measures at
  // least 5% faster. A thread fork and join per primitive costs microseconds, which on
  // some machines (virtual CPUs) outweighs the split work of a small model
  // (thread_tuning.cpp). When the plan on `threads` is kept, its ops are also timed one
  // by one on one thread and on `threads`, and those measured faster on one run there
  // (part_threads.h). false: always `threads`, every op.
  bool tune_threads = true;
  double max_tuned_plan_ms = 20.0;
  // When tuning keeps more than one thread, runs that the wide plan would lose to another
  // process taking a core go to a one-thread plan (runtime/contention_guard.h), built
  // the first time they do; Session::contention() tells how often.
  bool contention_fallback = true;
  // A plan that runs in under max_tuned_plan_ms and that ActivationLayout::blocked would
  // change (backend.h: an f32 conv over a plain image of at most 4 channels let oneDNN pick
  // the layout) is also built in blocks, each timed on the requested
  // threads one after the other (one plan alive at a time); the session keeps the blocked
  // plan only when it measures at least 3% faster. Thread tuning then starts from the plan
  // kept. false: always the automatic layout.
  bool tune_layout = true;
};

// How a session's runs went between its wide plan and the one-thread standby.
struct ContentionStats {
  bool guarded = false;         // the current plan's runs are watched (a tuned wide plan)
  bool standby_built = false;   // contention was seen and the one-thread plan built
  double standby_build_ms = 0;  // how long that took, inside the run that saw it
  std::size_t single_runs = 0;  // runs made on it (probes of the wide plan excluded)
  std::size_t switches = 0;     // to the standby and back, each counted
};

// The thread count a plan runs on, and how it was chosen.
struct ThreadChoice {
  int requested = 1;
  int used = 1;
  double requested_ms = 0;  // median timed run on `requested` threads (0: not timed)
  double single_ms = 0;     // median timed run on one thread (0: not timed)
  std::string reason;       // one line: why `used`
  // Ops that run on one thread within a plan on `used` > 1 threads (part_threads.h).
  std::size_t single_thread_ops = 0;
};

// The activation layout a plan uses, and how it was chosen (SessionOptions::tune_layout).
struct LayoutChoice {
  std::string used = "automatic";  // layout_name()
  double automatic_ms = 0;         // median timed run of each (0: not timed)
  double blocked_ms = 0;
  std::string reason = "as built";  // one line: why `used`
};

struct StepInfo {
  std::string label;
  std::string backend;
  std::vector<std::string> ops;         // per covered node
  std::vector<std::string> node_names;  // per covered node
  std::vector<TensorDesc> input_descs, output_descs;
  std::vector<KernelPart> parts;  // a composite kernel's own ops (see Kernel::parts)
  std::string implementation;
};

struct MemoryPlanInfo {
  std::size_t arena_bytes = 0;             // planned activation arena
  std::size_t activation_bytes_total = 0;  // sum of every runtime activation's size
  // Intermediates inside fused steps: the one scratch buffer they share while each
  // runs, plus what kernels hold for themselves.
  std::size_t kernel_workspace_bytes = 0;
  std::size_t packed_weight_bytes = 0;
  // Of those, the bytes this plan shares with plans made earlier for other input shapes
  // (packed once per session; only layouts that depend on the shape are packed again).
  std::size_t reused_weight_bytes = 0;
  // Values folded from constants at plan time that steps still read (the rest are freed).
  std::size_t folded_constant_bytes = 0;
  // Folds never computed: every step that consumed them packed their origin (the f32 size
  // of int8 weights behind DequantizeLinear that oneDNN packed as int8).
  std::size_t deferred_fold_bytes = 0;
  // Size of the initializers the session released (packed copies serve their readers):
  // all their whole pages went back to the OS, the partial first and last pages stay.
  std::size_t released_initializer_bytes = 0;
};

class Session {
 public:
  Session(graph::Graph graph, SessionOptions options = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  // Runs the model. Inputs by name; every graph input must be given with its
  // planned dtype. A shape not seen before builds a plan for it (re-plans); the
  // plans of recent shapes are cached. Returns outputs by name.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs);
  // The same, timing every step (and every part of a composite step) into `profile`.
  // The steps are those of steps() after this run.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs,
                                    ProfileSink& profile);

  // The graph's structure. Its initializers' values may not be read while the session
  // lives: the bytes of those released (MemoryPlanInfo::released_initializer_bytes) read
  // as zeros. Copy the graph before constructing the session to keep the weights.
  const graph::Graph& graph() const;
  // Inferred dtype and shape of every value for the current input shapes.
  const std::map<std::string, TensorDesc>& value_descs() const;
  const std::vector<graph::ValueInfo>& inputs() const;  // with resolved static shapes
  const std::vector<graph::ValueInfo>& outputs() const;
  std::vector<StepInfo> steps() const;
  MemoryPlanInfo memory_plan() const;
  int threads() const;  // as requested (SessionOptions::threads, 0 resolved)
  // The current plan's thread count and how it was chosen (SessionOptions::tune_threads).
  const ThreadChoice& thread_choice() const;
  // The current plan's activation layout and how it was chosen (SessionOptions::tune_layout).
  const LayoutChoice& layout_choice() const;
  // The current plan's runs on its one-thread standby (SessionOptions::contention_fallback).
  ContentionStats contention() const;
  // Plans built so far: one at construction (none while input dims are unbound), then
  // one per input shape not cached.
  std::size_t plans_built() const;
  // Why the session has no plan yet (the options left symbolic input dims open, which
  // the first run() binds); nullopt once it has one. Until then, the accessors that
  // describe a plan (inputs, outputs, steps, memory_plan, value_descs) throw this reason.
  std::optional<std::string> unbound_inputs() const;

 private:
  std::map<std::string, Tensor> run_with(const std::map<std::string, Tensor>& inputs,
                                         ProfileSink* profile);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Seeded random data for every session input not already in `given`: floats uniform in
// [-1, 1), integers in [0, 2). `batch` > 0 replaces the first dimension. The same seed
// gives the same data on every machine.
std::map<std::string, Tensor> random_inputs(const Session& session, std::uint64_t seed,
                                            std::int64_t batch = 0,
                                            const std::map<std::string, Tensor>& given = {});
// The same for a list of inputs (a plan's, before any session holds it).
std::map<std::string, Tensor> random_inputs(const std::vector<graph::ValueInfo>& inputs,
                                            std::uint64_t seed, std::int64_t batch = 0,
                                            const std::map<std::string, Tensor>& given = {});

// Default thread count: physical cores (not hyperthreads).
int physical_core_count();

// Every op the graph uses that no backend supports, as one error listing each op
// and the nodes using it. Does nothing when all are supported.
void check_supported_ops(const graph::Graph& graph);

}  // namespace edgeperf::runtime
