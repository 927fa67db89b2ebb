#include "edgeperf/runtime/session.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <thread>

#include "edgeperf/core/random.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/runtime/backend.h"
#include "edgeperf/runtime/expand_fused_ops.h"
#include "edgeperf/runtime/memory_planner.h"
#include "edgeperf/runtime/reference.h"

namespace edgeperf::runtime {

BackendKind parse_backend(const std::string& name) {
  if (name == "auto") return BackendKind::automatic;
  if (name == "onednn") return BackendKind::onednn;
  if (name == "reference") return BackendKind::reference;
  fail("unknown backend '{}' (expected auto, onednn or reference)", name);
}

std::string backend_name(BackendKind kind) {
  switch (kind) {
    case BackendKind::automatic:
      return "auto";
    case BackendKind::onednn:
      return "onednn";
    case BackendKind::reference:
      return "reference";
  }
  return "?";
}

std::map<std::string, Tensor> random_inputs(const Session& session, std::uint64_t seed,
                                            std::int64_t batch,
                                            const std::map<std::string, Tensor>& given) {
  std::map<std::string, Tensor> feeds = given;
  std::uint64_t stream = 0;
  for (const graph::ValueInfo& input : session.inputs()) {
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

void check_supported_ops(const graph::Graph& graph) {
  std::map<std::string, std::vector<std::string>> unsupported;
  for (const graph::Node& node : graph.nodes) {
    if (find_reference_kernel(node) != nullptr || is_expandable_fused_op(node)) continue;
    unsupported[registry_key(node)].push_back(node.name.empty() ? node.outputs.at(0) : node.name);
  }
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

namespace {

// Where a value lives while the plan runs.
struct Slot {
  TensorDesc desc;
  std::size_t offset = 0;
};

}  // namespace

struct Session::Impl {
  graph::Graph graph;
  SessionOptions options;
  int threads = 1;
  std::vector<graph::ValueInfo> inputs;  // resolved static shapes
  std::vector<graph::ValueInfo> outputs;
  std::map<std::string, Tensor> constants;  // initializers and folded values
  std::map<std::string, TensorDesc> descs;
  std::vector<PlannedNode> runtime_nodes;
  std::vector<Step> steps;
  std::map<std::string, Slot> slots;
  Tensor arena;  // u8, 64-byte aligned; every runtime activation is a view into it
  MemoryPlanInfo memory;
  std::map<std::string, Shape> planned_shapes;  // input shapes the current plan is for
  // Per step, the tensors it reads and writes, bound once per plan; only the positions
  // that read graph inputs are filled in on each run.
  struct StepBinding {
    std::vector<Tensor> inputs, outputs;
    std::vector<std::pair<std::size_t, std::string>> feed_positions;
  };
  std::vector<StepBinding> bindings;

  void prepare(const std::map<std::string, Shape>& input_shapes);
  void resolve_inputs(const std::map<std::string, Shape>& input_shapes);
  void infer_and_fold();
  void lower();
  void plan_memory();
  void bind_steps();
  Tensor resolve(const std::string& name, const std::map<std::string, Tensor>& feeds);
  std::map<std::string, Tensor> execute(const std::map<std::string, Tensor>& feeds);
};

void Session::Impl::resolve_inputs(const std::map<std::string, Shape>& input_shapes) {
  inputs.clear();
  descs.clear();
  for (const graph::ValueInfo& input : graph.inputs) {
    graph::ValueInfo resolved = input;
    Shape shape;
    if (auto given = input_shapes.find(input.name); given != input_shapes.end()) {
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
      shape = input.resolved_shape(options.symbolic_dim_size);
    }
    element_count(shape, "input '" + input.name + "'");
    resolved.dims.clear();
    for (std::int64_t dim : shape) resolved.dims.push_back(graph::Dim::fixed(dim));
    resolved.has_shape = true;
    inputs.push_back(resolved);
    descs[input.name] = TensorDesc{input.dtype, shape};
  }
  for (const auto& [name, tensor] : graph.initializers) {
    descs[name] = TensorDesc{tensor.dtype(), tensor.shape()};
  }
}

void Session::Impl::infer_and_fold() {
  constants = graph.initializers;
  runtime_nodes.clear();
  for (const graph::Node& node : graph.nodes) {
    PrepareContext context{node, {}, {}, {}, {}, graph.opset};
    bool all_constant = true;
    for (const std::string& input : node.inputs) {
      if (input.empty()) {
        context.inputs.push_back(TensorDesc{DType::f32, {}, false});
        context.constants.push_back(nullptr);
        continue;
      }
      context.inputs.push_back(descs.at(input));
      auto constant = constants.find(input);
      context.constants.push_back(constant == constants.end() ? nullptr : &constant->second);
      all_constant = all_constant && constant != constants.end();
    }
    const KernelRegistration* kernel = find_reference_kernel(node);
    with_error_context("node " + node.label(), [&] {
      kernel->infer(context);
      EP_CHECK(context.outputs.size() >= node.outputs.size(),
               "shape inference produced {} outputs for {}", context.outputs.size(),
               node.outputs.size());
    });
    for (std::size_t i = 0; i < node.outputs.size(); ++i) {
      if (!node.outputs[i].empty()) {
        element_count(context.outputs[i].shape, "output '" + node.outputs[i] + "'");
        descs[node.outputs[i]] = context.outputs[i];
      }
    }
    const bool values_known =
        !context.output_values.empty() &&
        std::all_of(context.output_values.begin(), context.output_values.end(),
                    [](const auto& value) { return value.has_value(); });
    if (values_known) {
      for (std::size_t i = 0; i < node.outputs.size(); ++i) {
        constants[node.outputs[i]] = *context.output_values[i];
      }
      continue;
    }
    if (all_constant && !node.inputs.empty()) {  // fold at load time
      std::vector<Tensor> in;
      for (std::size_t i = 0; i < node.inputs.size(); ++i) {
        in.push_back(context.constants[i] ? *context.constants[i] : Tensor());
      }
      std::vector<Tensor> out;
      for (const TensorDesc& desc : context.outputs) out.emplace_back(desc.dtype, desc.shape);
      with_error_context("node " + node.label(),
                         [&] { kernel->create(context)->run(RunContext{1}, in, out); });
      for (std::size_t i = 0; i < node.outputs.size(); ++i) {
        if (!node.outputs[i].empty()) constants[node.outputs[i]] = out[i];
      }
      continue;
    }
    runtime_nodes.push_back(PlannedNode{&node, context.inputs, context.constants, context.outputs});
  }
}

void Session::Impl::lower() {
  steps.clear();
  LoweringInput input;
  input.nodes = runtime_nodes;
  input.threads = threads;
  input.own_int8_kernels = options.own_int8_kernels;
  input.graph = &graph;
  for (std::size_t i = 0; i < runtime_nodes.size(); ++i) {
    for (const std::string& value : runtime_nodes[i].node->inputs) {
      if (!value.empty()) input.consumers[value].push_back(i);
    }
  }
  for (const graph::ValueInfo& output : graph.outputs) input.graph_outputs.push_back(output.name);

  std::vector<Step> claimed;
  if (options.backend != BackendKind::reference) {
    claimed = lower_sparse_then(input, SparseOptions{options.sparse}, *make_onednn_backend());
  }
  std::vector<int> owner(runtime_nodes.size(), -1);
  for (std::size_t s = 0; s < claimed.size(); ++s) {
    for (std::size_t node : claimed[s].nodes) {
      EP_CHECK(node < owner.size() && owner[node] < 0, "backend claimed node {} twice", node);
      owner[node] = static_cast<int>(s);
    }
  }
  std::vector<bool> emitted(claimed.size(), false);
  for (std::size_t i = 0; i < runtime_nodes.size(); ++i) {
    if (owner[i] >= 0) {
      if (!emitted[owner[i]]) steps.push_back(std::move(claimed[owner[i]]));
      emitted[owner[i]] = true;
      continue;
    }
    const PlannedNode& planned = runtime_nodes[i];
    PrepareContext context{*planned.node, planned.inputs, planned.constants, planned.outputs, {},
                           graph.opset};
    Step step;
    step.kernel = with_error_context("node " + planned.node->label(), [&] {
      return find_reference_kernel(*planned.node)->create(context);
    });
    step.inputs = planned.node->inputs;
    step.input_descs = planned.inputs;
    step.outputs = planned.node->outputs;
    step.output_descs = planned.outputs;
    step.nodes = {i};
    step.backend = "reference";
    step.label = planned.node->label();
    steps.push_back(std::move(step));
  }
}

void Session::Impl::plan_memory() {
  slots.clear();
  std::map<std::string, std::size_t> last_use;
  for (std::size_t s = 0; s < steps.size(); ++s) {
    for (const std::string& value : steps[s].inputs) last_use[value] = s;
  }
  for (const graph::ValueInfo& output : graph.outputs) last_use[output.name] = steps.size();

  std::vector<BufferRequest> requests;
  std::vector<std::string> names;
  memory = MemoryPlanInfo{};
  for (std::size_t s = 0; s < steps.size(); ++s) {
    for (std::size_t o = 0; o < steps[s].outputs.size(); ++o) {
      const std::string& value = steps[s].outputs[o];
      if (value.empty()) continue;
      const TensorDesc& desc = steps[s].output_descs.at(o);
      const auto last = last_use.find(value);
      requests.push_back(
          BufferRequest{desc.nbytes(), s, last == last_use.end() ? s : last->second});
      names.push_back(value);
      slots[value] = Slot{desc, 0};
    }
    memory.kernel_workspace_bytes += steps[s].kernel->workspace_bytes();
    memory.packed_weight_bytes += steps[s].kernel->packed_weight_bytes();
  }
  const ArenaPlan plan = plan_arena(requests);
  for (std::size_t i = 0; i < names.size(); ++i) slots[names[i]].offset = plan.offsets[i];
  memory.arena_bytes = plan.arena_bytes;
  for (const PlannedNode& node : runtime_nodes) {
    for (const TensorDesc& desc : node.outputs) memory.activation_bytes_total += desc.nbytes();
  }
  arena =
      Tensor(DType::u8, {static_cast<std::int64_t>(std::max<std::size_t>(plan.arena_bytes, 1))});
}

void Session::Impl::prepare(const std::map<std::string, Shape>& input_shapes) {
  planned_shapes = input_shapes;
  resolve_inputs(input_shapes);
  infer_and_fold();
  lower();
  plan_memory();
  bind_steps();
  outputs = graph.outputs;
  for (graph::ValueInfo& output : outputs) {
    const TensorDesc& desc = descs.at(output.name);
    output.dtype = desc.dtype;
    output.dims.clear();
    for (std::int64_t dim : desc.shape) output.dims.push_back(graph::Dim::fixed(dim));
    output.has_shape = true;
  }
}

Tensor Session::Impl::resolve(const std::string& name, const std::map<std::string, Tensor>& feeds) {
  if (name.empty()) return Tensor();
  if (auto slot = slots.find(name); slot != slots.end()) {
    return Tensor::view(slot->second.desc.dtype, slot->second.desc.shape,
                        arena.bytes().data() + slot->second.offset);
  }
  if (auto constant = constants.find(name); constant != constants.end()) return constant->second;
  if (auto feed = feeds.find(name); feed != feeds.end()) return feed->second;
  fail("internal: value '{}' has no storage", name);
}

void Session::Impl::bind_steps() {
  bindings.clear();
  for (const Step& step : steps) {
    StepBinding binding;
    for (const std::string& name : step.inputs) {
      const bool is_feed = !name.empty() && !slots.count(name) && !constants.count(name);
      if (is_feed) binding.feed_positions.emplace_back(binding.inputs.size(), name);
      binding.inputs.push_back(is_feed ? Tensor() : resolve(name, {}));
    }
    for (const std::string& name : step.outputs) binding.outputs.push_back(resolve(name, {}));
    bindings.push_back(std::move(binding));
  }
}

std::map<std::string, Tensor> Session::Impl::execute(const std::map<std::string, Tensor>& feeds) {
  omp_set_num_threads(threads);
  const RunContext context{threads};
  for (std::size_t i = 0; i < steps.size(); ++i) {
    StepBinding& binding = bindings[i];
    for (const auto& [position, name] : binding.feed_positions)
      binding.inputs[position] = feeds.at(name);
    steps[i].kernel->run(context, binding.inputs, binding.outputs);
    for (const auto& [position, name] : binding.feed_positions) binding.inputs[position] = Tensor();
  }
  std::map<std::string, Tensor> results;
  for (const graph::ValueInfo& output : graph.outputs) {
    results[output.name] = resolve(output.name, feeds).clone();
  }
  return results;
}

Session::Session(graph::Graph graph, SessionOptions options) : impl_(std::make_unique<Impl>()) {
  expand_fused_ops(graph);
  graph::validate(graph);
  check_supported_ops(graph);
  impl_->graph = std::move(graph);
  impl_->options = std::move(options);
  EP_CHECK(impl_->options.threads >= 0 && impl_->options.threads <= 1024,
           "--threads must be between 1 and 1024, got {}", impl_->options.threads);
  impl_->threads = impl_->options.threads > 0 ? impl_->options.threads : physical_core_count();
  omp_set_num_threads(impl_->threads);
  impl_->prepare(impl_->options.input_shapes);
}

Session Session::from_file(const std::filesystem::path& path, SessionOptions options) {
  return Session(onnx_io::load_model(path), std::move(options));
}

Session Session::from_bytes(const std::string& bytes, SessionOptions options) {
  return Session(onnx_io::load_model_from_bytes(bytes), std::move(options));
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

std::map<std::string, Tensor> Session::run(const std::map<std::string, Tensor>& inputs) {
  std::map<std::string, Shape> shapes;
  bool same_shapes = true;
  for (const auto& [name, tensor] : inputs) {
    const auto expected = std::find_if(impl_->inputs.begin(), impl_->inputs.end(),
                                       [&](const auto& input) { return input.name == name; });
    if (expected == impl_->inputs.end()) {
      std::string known;
      for (const auto& input : impl_->inputs) known += (known.empty() ? "" : ", ") + input.name;
      fail("unknown input '{}' (the model's inputs: {})", name, known);
    }
    EP_CHECK(tensor.dtype() == expected->dtype, "input '{}' has dtype {} but the model expects {}",
             name, dtype_name(tensor.dtype()), dtype_name(expected->dtype));
    shapes[name] = tensor.shape();
    same_shapes = same_shapes && tensor.shape() == impl_->descs.at(name).shape;
  }
  for (const auto& input : impl_->inputs) {
    EP_CHECK(inputs.count(input.name), "missing input '{}' ({})", input.name, input.to_string());
  }
  if (!same_shapes) {
    // Plan for the new shapes; when they do not fit the model, keep the previous plan.
    const std::map<std::string, Shape> previous = impl_->planned_shapes;
    try {
      impl_->prepare(shapes);
    } catch (const Error&) {
      impl_->prepare(previous);
      throw;
    }
  }
  return impl_->execute(inputs);
}

const graph::Graph& Session::graph() const { return impl_->graph; }
const std::map<std::string, TensorDesc>& Session::value_descs() const { return impl_->descs; }
const std::vector<graph::ValueInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<graph::ValueInfo>& Session::outputs() const { return impl_->outputs; }
MemoryPlanInfo Session::memory_plan() const { return impl_->memory; }
int Session::threads() const { return impl_->threads; }

std::vector<StepInfo> Session::steps() const {
  std::vector<StepInfo> infos;
  for (const Step& step : impl_->steps) {
    StepInfo info{step.label, step.backend, {}};
    for (std::size_t node : step.nodes)
      info.ops.push_back(impl_->runtime_nodes[node].node->op_type);
    infos.push_back(std::move(info));
  }
  return infos;
}

}  // namespace edgeperf::runtime
