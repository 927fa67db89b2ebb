#include "plan.h"

#include <omp.h>

#include <algorithm>
#include <limits>
#include <set>

#include "edgeperf/core/clock.h"
#include "edgeperf/runtime/memory_planner.h"
#include "edgeperf/runtime/reference.h"

namespace edgeperf::runtime {
namespace {

// Folds everything it can, recording the folds the providers look behind.
StaticEvalOptions evaluation_for(std::span<Backend* const> providers) {
  StaticEvalOptions options;
  for (const Backend* provider : providers) {
    for (std::string& op : provider->folds_to_trace()) options.traced_ops.insert(std::move(op));
  }
  return options;
}

}  // namespace

// Traced folds from this size on wait until something needs their values.
constexpr std::size_t kDeferFoldBytes = std::size_t{64} << 10;

Plan::Plan(const PlanRequest& request) : graph_(request.graph) {
  const std::map<std::string, TensorDesc> inputs = resolve_inputs(request);
  StaticEvalOptions options = evaluation_for(request.providers);
  options.defer_traced_bytes = kDeferFoldBytes;
  known_ = evaluate_static(graph_, inputs, options);
  const std::size_t releases_before = request.releases ? request.releases->size() : 0;
  bool lowered = false;
  try {
    lower(request);
    lowered = placeholders_unread();
  } catch (const Error&) {
    if (known_.deferred.empty()) throw;
  }
  if (!lowered) {
    // Some step read a value still deferred (or lowering failed on its zeros): everything
    // again, with every fold computed.
    steps_.clear();
    interpreter_reads_.clear();
    if (request.releases) request.releases->refill_from(releases_before);
    options.defer_traced_bytes = std::numeric_limits<std::size_t>::max();
    known_ = evaluate_static(graph_, inputs, options);
    lower(request);
  }
  plan_memory();
  bind_steps();
  resolve_outputs();
  release_unread_constants();
  if (request.releases) {
    const std::vector<std::string> names = request.releases->released_names();
    released_.insert(names.begin() + static_cast<std::ptrdiff_t>(releases_before), names.end());
  }
}

// Whether every deferred value stayed unread: no step or interpreted node reads it at run
// time, and each node consuming it is in a step that packed from its origin instead.
bool Plan::placeholders_unread() const {
  if (known_.deferred.empty()) return true;
  std::set<std::pair<std::string, const graph::Node*>> packed;
  for (const Step& step : steps_) {
    for (const std::string& value : step.inputs) {
      if (known_.deferred.count(value)) return false;
    }
    packed.insert(step.packed_from_origin.begin(), step.packed_from_origin.end());
  }
  for (const graph::Node* node : known_.interpreted_nodes) {
    for (const std::string& value : node->inputs) {
      if (known_.deferred.count(value)) return false;
    }
  }
  for (const PlannedNode& node : known_.runtime_nodes) {
    for (const std::string& value : node.node->inputs) {
      if (known_.deferred.count(value) && !packed.count({value, node.node})) return false;
    }
  }
  return true;
}

// Values folded at plan time that no step reads once lowered (a oneDNN region packed
// what it needed, e.g. the f32 weights DequantizeLinear of int8 weights folds to, four
// times their size) go back to the allocator. The graph's own initializers stay: the
// graph holds them anyway.
void Plan::release_unread_constants() {
  std::set<std::string> read;
  for (const Step& step : steps_) read.insert(step.inputs.begin(), step.inputs.end());
  for (const graph::Node* node : known_.interpreted_nodes)
    read.insert(node->inputs.begin(), node->inputs.end());
  for (const graph::ValueInfo& output : graph_.outputs) read.insert(output.name);
  for (const auto& [name, fold] : known_.deferred) {
    memory_.deferred_fold_bytes += known_.descs.at(name).nbytes();
  }
  for (auto& [name, constant] : known_.constants) {
    if (graph_.initializers.count(name)) continue;
    if (read.count(name)) {
      memory_.folded_constant_bytes += constant.nbytes();
    } else {
      constant = Tensor();
    }
  }
}

std::map<std::string, TensorDesc> Plan::resolve_inputs(const PlanRequest& request) {
  std::map<std::string, TensorDesc> descs;
  for (const graph::ValueInfo& input : graph_.inputs) {
    graph::ValueInfo resolved = input;
    Shape shape;
    if (auto given = request.input_shapes.find(input.name); given != request.input_shapes.end()) {
      shape = given->second;
      if (input.has_shape) {
        EP_CHECK(shape.size() == input.dims.size(),
                 "input '{}' has rank {} but the model expects {}", input.name, shape.size(),
                 input.to_string());
        for (std::size_t i = 0; i < shape.size(); ++i) {
          EP_CHECK(!input.dims[i].is_static() || input.dims[i].size == shape[i],
                   "input '{}' has shape {} but the model expects {}", input.name,
                   shape_to_string(shape), input.to_string());
        }
      }
    } else {
      EP_CHECK(input.has_shape, "input '{}' has no shape in the model; give one", input.name);
      shape = input.resolved_shape(request.symbolic_dim_size);
    }
    element_count(shape, "input '" + input.name + "'");
    resolved.dims.clear();
    for (std::int64_t dim : shape) resolved.dims.push_back(graph::Dim::fixed(dim));
    resolved.has_shape = true;
    inputs_.push_back(resolved);
    descs[input.name] = TensorDesc{input.dtype, shape};
  }
  return descs;
}

void Plan::lower(const PlanRequest& request) {
  LoweringInput input;
  input.nodes = known_.runtime_nodes;
  input.threads = request.threads;
  input.layout = request.layout;
  input.layout_sensitive = &layout_sensitive_;
  input.opset = graph_.opset;
  input.folded_from = known_.folded_from;
  input.releases = request.releases;
  for (const auto& [value, fold] : known_.deferred) input.deferred.insert(value);
  for (std::size_t i = 0; i < input.nodes.size(); ++i) {
    for (const std::string& value : input.nodes[i].node->inputs) {
      if (!value.empty()) input.consumers[value].push_back(i);
    }
  }
  for (const graph::ValueInfo& output : graph_.outputs) input.graph_outputs.push_back(output.name);
  std::set<std::string> planned;
  for (const PlannedNode& node : known_.runtime_nodes) {
    for (const std::string& output : node.node->outputs) planned.insert(output);
  }
  for (const graph::Node* node : known_.interpreted_nodes) {
    for (const std::string& value : node->inputs) {
      if (!planned.count(value)) continue;
      if (std::find(interpreter_reads_.begin(), interpreter_reads_.end(), value) ==
          interpreter_reads_.end()) {
        interpreter_reads_.push_back(value);
        input.graph_outputs.push_back(value);
      }
    }
  }
  steps_ = lower_with(input, request.providers);
  std::size_t covered = 0;
  for (const Step& step : steps_) covered += step.nodes.size();
  EP_CHECK(covered == input.nodes.size(), "internal: the backends left {} of {} nodes unclaimed",
           input.nodes.size() - covered, input.nodes.size());
}

void Plan::plan_memory() {
  std::map<std::string, std::size_t> last_use;
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    for (const std::string& value : steps_[s].inputs) last_use[value] = s;
  }
  for (const graph::ValueInfo& output : graph_.outputs) last_use[output.name] = steps_.size();
  for (const std::string& value : interpreter_reads_) last_use[value] = steps_.size();

  std::vector<BufferRequest> requests;
  std::vector<std::string> names;
  for (std::size_t s = 0; s < steps_.size(); ++s) {
    for (std::size_t o = 0; o < steps_[s].outputs.size(); ++o) {
      const std::string& value = steps_[s].outputs[o];
      if (value.empty()) continue;
      const TensorDesc& desc = steps_[s].output_descs.at(o);
      const auto last = last_use.find(value);
      requests.push_back(
          BufferRequest{desc.nbytes(), s, last == last_use.end() ? s : last->second});
      names.push_back(value);
      slots_[value] = Slot{desc, 0};
    }
    memory_.kernel_workspace_bytes += steps_[s].kernel->workspace_bytes();
    memory_.packed_weight_bytes += steps_[s].kernel->packed_weight_bytes();
    memory_.reused_weight_bytes += steps_[s].kernel->reused_weight_bytes();
  }
  std::size_t transient_bytes = 0;
  for (const Step& step : steps_)
    transient_bytes = std::max(transient_bytes, step.kernel->transient_bytes());
  memory_.kernel_workspace_bytes += transient_bytes;
  transient_ =
      Tensor(DType::u8, {static_cast<std::int64_t>(std::max<std::size_t>(transient_bytes, 1))});
  for (const Step& step : steps_) step.kernel->use_transient(transient_.bytes().data());
  const ArenaPlan plan = plan_arena(requests);
  for (std::size_t i = 0; i < names.size(); ++i) slots_[names[i]].offset = plan.offsets[i];
  memory_.arena_bytes = plan.arena_bytes;
  for (const PlannedNode& node : known_.runtime_nodes) {
    for (const TensorDesc& desc : node.outputs) memory_.activation_bytes_total += desc.nbytes();
  }
  arena_ =
      Tensor(DType::u8, {static_cast<std::int64_t>(std::max<std::size_t>(plan.arena_bytes, 1))});
}

void Plan::share_buffers_with(Plan& other) {
  const auto larger = [](const Tensor& a, const Tensor& b) {
    return a.nbytes() >= b.nbytes() ? a : b;
  };
  const Tensor arena = larger(arena_, other.arena_);
  const Tensor transient = larger(transient_, other.transient_);
  use_buffers(arena, transient);
  other.use_buffers(arena, transient);
}

void Plan::use_buffers(const Tensor& arena, const Tensor& transient) {
  arena_ = arena;
  transient_ = transient;
  for (const Step& step : steps_) step.kernel->use_transient(transient_.bytes().data());
  bindings_.clear();
  bind_steps();
}

void Plan::resolve_outputs() {
  outputs_ = graph_.outputs;
  for (graph::ValueInfo& output : outputs_) {
    if (known_.interpreted_values.count(output.name)) continue;  // as the model declares it
    const TensorDesc& desc = known_.descs.at(output.name);
    output.dtype = desc.dtype;
    output.dims.clear();
    for (std::int64_t dim : desc.shape) output.dims.push_back(graph::Dim::fixed(dim));
    output.has_shape = true;
  }
}

Tensor Plan::resolve(const std::string& name, const std::map<std::string, Tensor>& feeds) {
  if (name.empty()) return Tensor();
  if (auto slot = slots_.find(name); slot != slots_.end()) {
    return Tensor::view(slot->second.desc.dtype, slot->second.desc.shape,
                        arena_.bytes().data() + slot->second.offset);
  }
  if (auto constant = known_.constants.find(name); constant != known_.constants.end()) {
    return constant->second;
  }
  if (auto feed = feeds.find(name); feed != feeds.end()) return feed->second;
  fail("internal: value '{}' has no storage", name);
}

void Plan::bind_steps() {
  for (const Step& step : steps_) {
    StepBinding binding;
    for (const std::string& name : step.inputs) {
      const bool is_feed = !name.empty() && !slots_.count(name) && !known_.constants.count(name);
      if (is_feed) binding.feed_positions.emplace_back(binding.inputs.size(), name);
      binding.inputs.push_back(is_feed ? Tensor() : resolve(name, {}));
    }
    for (const std::string& name : step.outputs) binding.outputs.push_back(resolve(name, {}));
    bindings_.push_back(std::move(binding));
  }
}

std::map<std::string, Tensor> Plan::run(const std::map<std::string, Tensor>& feeds, int threads,
                                        ProfileSink* profile) {
  omp_set_num_threads(threads);
  RunContext context{threads, profile};
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    StepBinding& binding = bindings_[i];
    for (const auto& [position, name] : binding.feed_positions)
      binding.inputs[position] = feeds.at(name);
    if (profile == nullptr) {
      steps_[i].kernel->run(context, binding.inputs, binding.outputs);
    } else {
      context.step = i;
      const std::int64_t start = monotonic_ns();
      steps_[i].kernel->run(context, binding.inputs, binding.outputs);
      profile->record(i, ProfileSink::kWholeStep, start, monotonic_ns());
    }
    for (const auto& [position, name] : binding.feed_positions) binding.inputs[position] = Tensor();
  }
  std::map<std::string, Tensor> interpreted;
  if (!known_.interpreted_nodes.empty()) {
    const std::int64_t start = profile ? monotonic_ns() : 0;
    interpret(feeds, interpreted);
    if (profile) profile->record(steps_.size(), ProfileSink::kWholeStep, start, monotonic_ns());
  }
  std::map<std::string, Tensor> results;
  for (const graph::ValueInfo& output : graph_.outputs) {
    auto value = interpreted.find(output.name);
    results[output.name] =
        value != interpreted.end() ? std::move(value->second) : resolve(output.name, feeds).clone();
  }
  return results;
}

void Plan::interpret(const std::map<std::string, Tensor>& feeds,
                     std::map<std::string, Tensor>& values) {
  for (const graph::Node* node : known_.interpreted_nodes) {
    std::vector<Tensor> inputs;
    for (const std::string& input : node->inputs) {
      auto value = values.find(input);
      inputs.push_back(value != values.end() ? value->second : resolve(input, feeds));
    }
    std::vector<Tensor> outputs = evaluate_node(*node, graph_.opset, inputs);
    for (std::size_t i = 0; i < node->outputs.size(); ++i) {
      if (!node->outputs[i].empty()) values[node->outputs[i]] = std::move(outputs[i]);
    }
  }
}

std::vector<std::size_t> Plan::part_counts() const {
  std::vector<std::size_t> counts;
  for (const Step& step : steps_) counts.push_back(step.kernel->parts().size());
  return counts;
}

void Plan::set_part_threads(std::size_t step, std::size_t part, int threads) {
  steps_.at(step).kernel->set_part_threads(part, threads);
}

std::vector<StepInfo> Plan::step_infos() const {
  std::vector<StepInfo> infos;
  for (const Step& step : steps_) {
    StepInfo info;
    info.label = step.label;
    info.backend = step.backend;
    for (std::size_t node : step.nodes) {
      info.ops.push_back(known_.runtime_nodes[node].node->op_type);
      info.node_names.push_back(known_.runtime_nodes[node].node->name);
    }
    info.input_descs = step.input_descs;
    info.output_descs = step.output_descs;
    info.parts = step.kernel->parts();
    info.implementation = step.kernel->implementation();
    infos.push_back(std::move(info));
  }
  if (!known_.interpreted_nodes.empty()) {
    StepInfo tail;
    tail.label = fmt::format("{} nodes with data-dependent shapes, interpreted",
                             known_.interpreted_nodes.size());
    tail.backend = "interpreter";
    for (const graph::Node* node : known_.interpreted_nodes) {
      tail.ops.push_back(node->op_type);
      tail.node_names.push_back(node->name);
    }
    tail.implementation = "reference kernels, shapes from the values";
    infos.push_back(std::move(tail));
  }
  return infos;
}

}  // namespace edgeperf::runtime
