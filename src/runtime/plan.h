#pragma once
// A plan: everything the session needs to run its graph at one set of input shapes
// (inferred descriptors, folded constants, lowered steps, the activation arena and
// each step's bound tensors). The session caches plans by input shapes.
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "edgeperf/runtime/backend.h"
#include "edgeperf/runtime/session.h"
#include "edgeperf/runtime/static_eval.h"

namespace edgeperf::runtime {

using InputShapes = std::map<std::string, Shape>;

struct PlanRequest {
  const graph::Graph& graph;
  const InputShapes& input_shapes;  // inputs not named here take their model shape
  std::int64_t symbolic_dim_size = 1;
  int threads = 1;
  std::span<Backend* const> providers;
  InitializerReleases* releases = nullptr;  // the session's; null: nothing is released
  ActivationLayout layout = ActivationLayout::automatic;
};

class Plan {
 public:
  explicit Plan(const PlanRequest& request);
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // `profile` set: every step (and every part of a composite kernel) is timed into it.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& feeds, int threads,
                                    ProfileSink* profile = nullptr);

  const std::vector<graph::ValueInfo>& inputs() const { return inputs_; }
  const std::vector<graph::ValueInfo>& outputs() const { return outputs_; }
  const std::map<std::string, TensorDesc>& descs() const { return known_.descs; }
  const MemoryPlanInfo& memory() const { return memory_; }
  std::vector<StepInfo> step_infos() const;
  // Parts per step (Kernel::parts(); 0 for a step that is one op), and the thread count
  // of one part (Kernel::set_part_threads).
  std::vector<std::size_t> part_counts() const;
  void set_part_threads(std::size_t step, std::size_t part, int threads);
  // The initializers this plan's steps serve from packed copies and released (the
  // request's InitializerReleases): no step of this plan reads their bytes.
  const std::set<std::string>& released_initializers() const { return released_; }
  // Whether the request's other ActivationLayout would lower some node differently
  // (LoweringInput::layout_sensitive).
  bool layout_sensitive() const { return layout_sensitive_; }
  // From now on this plan and `other` keep their activations and step scratch in one
  // pair of buffers, each the larger of the two: for plans never run at the same time
  // (a session's wide plan and its one-thread standby). Outputs of run() are copies, so
  // a run of one leaves what the other returned intact.
  void share_buffers_with(Plan& other);

 private:
  struct Slot {
    TensorDesc desc;
    std::size_t offset = 0;
  };
  // Per step, the tensors it reads and writes, bound once; only the positions that
  // read graph inputs are filled in on each run.
  struct StepBinding {
    std::vector<Tensor> inputs, outputs;
    std::vector<std::pair<std::size_t, std::string>> feed_positions;
  };

  std::map<std::string, TensorDesc> resolve_inputs(const PlanRequest& request);
  void lower(const PlanRequest& request);
  void plan_memory();
  void use_buffers(const Tensor& arena, const Tensor& transient);
  void bind_steps();
  void resolve_outputs();
  bool placeholders_unread() const;
  void release_unread_constants();
  Tensor resolve(const std::string& name, const std::map<std::string, Tensor>& feeds);
  // Runs the interpreted nodes (see StaticEvaluation) after the steps; adds the values
  // they compute to `values`.
  void interpret(const std::map<std::string, Tensor>& feeds, std::map<std::string, Tensor>& values);

  const graph::Graph& graph_;
  std::vector<graph::ValueInfo> inputs_;  // with resolved static shapes
  std::vector<graph::ValueInfo> outputs_;
  StaticEvaluation known_;
  std::vector<Step> steps_;
  std::map<std::string, Slot> slots_;
  Tensor arena_;      // u8, 64-byte aligned; every runtime activation is a view into it
  Tensor transient_;  // u8: every step's scratch while it runs (Kernel::transient_bytes)
  MemoryPlanInfo memory_;
  std::vector<StepBinding> bindings_;
  // Planned values the interpreted nodes read: the steps export them and keep them to the end.
  std::vector<std::string> interpreter_reads_;
  std::set<std::string> released_;
  bool layout_sensitive_ = false;
};

}  // namespace edgeperf::runtime
