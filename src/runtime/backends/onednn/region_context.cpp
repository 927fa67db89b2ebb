#include "region_context.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "memory_descs.h"
#include "parted_ops.h"

namespace edgeperf::runtime::onednn {

using dnnl::memory;

RegionContext::RegionContext(const LoweringInput& input, std::size_t first, std::size_t last,
                             const std::vector<bool>& enabled, const RegionSettings& settings)
    : MatchView(input),
      first_(first),
      last_(last),
      enabled_(enabled),
      settings_(settings),
      claimed_(input.nodes.size(), false),
      claimed_by_(input.nodes.size(), 0),
      engine_(dnnl::engine::kind::cpu, 0) {
  collect_boundary();
  prefer_blocked_ = has_winograd_candidate();
  for (std::size_t index = first_; index < last_; ++index) step_.nodes.push_back(index);
  if (input.releases != nullptr) releases_at_start_ = input.releases->size();
}

RegionContext::~RegionContext() {
  if (!finished_ && input().releases != nullptr) input().releases->refill_from(releases_at_start_);
}

// Region inputs (runtime values read but not produced here) and outputs (values
// read outside the region or graph outputs).
void RegionContext::collect_boundary() {
  std::set<std::string> produced;
  for (std::size_t index = first_; index < last_; ++index) {
    const PlannedNode& node = planned(index);
    for (std::size_t slot = 0; slot < node.node->inputs.size(); ++slot) {
      const std::string& name = node.node->inputs[slot];
      const bool constant = slot < node.constants.size() && node.constants[slot] != nullptr;
      if (name.empty() || constant || produced.count(name) || values_.count(name)) continue;
      const int storage = new_storage(node.inputs[slot].nbytes());
      storages_[storage].input_index = static_cast<int>(step_.inputs.size());
      step_.inputs.push_back(name);
      step_.input_descs.push_back(node.inputs[slot]);
      define_value(name, storage, plain_desc(node.inputs[slot]));
    }
    for (std::size_t slot = 0; slot < node.node->outputs.size(); ++slot) {
      const std::string& name = node.node->outputs[slot];
      produced.insert(name);
      bool outside = input().is_graph_output(name);
      for (std::size_t consumer : input().consumers_of(name)) {
        outside = outside || !in_region(consumer);
      }
      if (outside) add_output(name, node.outputs[slot]);
    }
    boundary_counts_.emplace_back(step_.inputs.size(), step_.outputs.size());
  }
}

void RegionContext::add_output(const std::string& name, const TensorDesc& desc) {
  output_index_[name] = step_.outputs.size();
  step_.outputs.push_back(name);
  step_.output_descs.push_back(desc);
}

namespace {

bool all_equal(const Dims& values, dnnl::memory::dim value) {
  return std::all_of(values.begin(), values.end(), [&](auto v) { return v == value; });
}

bool has_kernel(const ConvSpec& spec, std::int64_t size) {
  const Shape& w = spec.weights->shape();
  return spec.group == 1 && w.size() == 4 && w[2] == size && w[3] == size &&
         all_equal(spec.strides, 1);
}

}  // namespace

bool is_winograd_candidate(const ConvSpec& spec) {
  return has_kernel(spec, 3) && spec.dilations.size() == 2 && all_equal(spec.dilations, 0);
}

bool is_pointwise(const ConvSpec& spec) {
  return has_kernel(spec, 1) && all_equal(spec.pad_left, 0) && all_equal(spec.pad_right, 0);
}

bool RegionContext::has_winograd_candidate() const {
  for (std::size_t index = first_; index < last_; ++index) {
    if (!enabled_[index]) continue;
    const std::optional<ConvSpec> spec = parse_conv(planned(index));
    if (spec && is_winograd_candidate(*spec)) return true;
  }
  return false;
}

dnnl::primitive_attr RegionContext::base_attr() const {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// ---- values ----

const Value& RegionContext::value(const std::string& name) const {
  auto found = values_.find(name);
  EP_CHECK(found != values_.end(), "onednn region: value '{}' used before it is computed", name);
  return found->second;
}

int RegionContext::new_storage(std::size_t bytes) {
  Storage storage;
  storage.bytes = bytes;
  storages_.push_back(storage);
  return static_cast<int>(storages_.size()) - 1;
}

int RegionContext::activation_slot(int storage, const memory::desc& md) {
  slots_.push_back(Slot{storage, md, {}, {}, {}, false});
  return static_cast<int>(slots_.size()) - 1;
}

int RegionContext::use_as(const std::string& name, const memory::desc& md) {
  const Value current = value(name);
  if (current.md == md) return activation_slot(current.storage, md);
  for (const Variant& variant : variants_) {
    if (variant.name == name && variant.md == md) return activation_slot(variant.storage, md);
  }
  const int from = activation_slot(current.storage, current.md);
  const int storage = new_storage(md.get_size());
  const int to = activation_slot(storage, md);
  dnnl::reorder::primitive_desc pd(engine_, current.md, engine_, md, base_attr());
  add_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, pd.scratchpad_desc());
  variants_.push_back(Variant{name, md, storage});
  return to;
}

// Values read outside the region are copied out right after the op computing them
// (see add_compute_op), so their buffer may be reused or written in place by a sum
// post-op afterwards.
int RegionContext::define_value(const std::string& name, int storage, const memory::desc& md) {
  // Values are defined once (SSA), so roll_back can forget them by definition order.
  if (values_.insert_or_assign(name, Value{storage, md}).second) value_order_.push_back(name);
  const int slot = activation_slot(storage, md);
  auto output = output_index_.find(name);
  if (output != output_index_.end() && storages_[storage].output_index < 0) {
    const TensorDesc& desc = step_.output_descs[output->second];
    const int external = new_storage(desc.nbytes());
    storages_[external].output_index = static_cast<int>(output->second);
    const int to = activation_slot(external, plain_desc(desc));
    pending_exports_.push_back(
        {slot, to,
         dnnl::reorder::primitive_desc(engine_, md, engine_, plain_desc(desc), base_attr())});
  }
  return slot;
}

// A region output in plain layout is written straight into the step's output tensor
// instead of being copied there; a Concat's part into its slice (concat_in_place.cpp).
int RegionContext::define_new(const std::string& name, const memory::desc& md) {
  if (const std::optional<int> slice = concat_slice(name, md))
    return define_value(name, *slice, md);
  const int storage = new_storage(md.get_size());
  auto output = output_index_.find(name);
  if (output != output_index_.end() && md == plain_desc(step_.output_descs[output->second])) {
    storages_[storage].output_index = static_cast<int>(output->second);
  }
  return define_value(name, storage, md);
}

// ---- constants ----

PackedConstant RegionContext::pack(const memory::desc& target, const memory::desc& source,
                                   const void* data) {
  if (settings_.packed_constants != nullptr)
    return settings_.packed_constants->pack(engine_, target, source, data);
  return pack_constant(engine_, target, source, data);
}

int RegionContext::constant_slot(PackedConstant packed) {
  packed_weight_bytes_ += packed.memory.get_desc().get_size();
  slots_.push_back(Slot{
      -1, packed.memory.get_desc(), packed.memory, {}, std::move(packed.owner), packed.reused});
  return static_cast<int>(slots_.size()) - 1;
}

int RegionContext::constant_slot(memory packed) {
  return constant_slot(PackedConstant{std::move(packed), {}, false});
}

int RegionContext::borrowed_constant_slot(const memory::desc& md, const Tensor& constant) {
  EP_CHECK(md.get_size() == constant.nbytes(), "internal: a {}-byte view of a {}-byte constant",
           md.get_size(), constant.nbytes());
  slots_.push_back(
      Slot{-1, md, memory(md, engine_, const_cast<void*>(constant.raw())), constant, {}, false});
  return static_cast<int>(slots_.size()) - 1;
}

bool RegionContext::may_release_input(std::size_t index, std::size_t slot) const {
  const PlannedNode& node = planned(index);
  return input().releases != nullptr && slot < node.constants.size() &&
         node.constants[slot] != nullptr && input().releases->may_release(node.node->inputs[slot]);
}

void RegionContext::release_input(std::size_t index, std::size_t slot, const PackedConstant& packed,
                                  const memory::desc& plain) {
  const PlannedNode& node = planned(index);
  EP_CHECK(plain.get_size() == node.constants[slot]->nbytes(),
           "internal: a {}-byte layout for the {}-byte initializer '{}'", plain.get_size(),
           node.constants[slot]->nbytes(), node.node->inputs[slot]);
  input().releases->release(
      node.node->inputs[slot], *node.constants[slot],
      [engine = engine_, packed_memory = packed.memory, owner = packed.owner, plain](void* bytes) {
        memory from = packed_memory;
        memory to(plain, engine, bytes);
        dnnl::stream stream(engine);
        dnnl::reorder(from, to).execute(stream, from, to);
        stream.wait();
      });
}

int RegionContext::scalar_s32_slot(std::int32_t value) {
  memory result(memory::desc({1}, memory::data_type::s32, memory::format_tag::x), engine_);
  *static_cast<std::int32_t*>(result.get_data_handle()) = value;
  return constant_slot(result);
}

void RegionContext::add_custom_bytes(std::size_t packed_weights, std::size_t workspace) {
  packed_weight_bytes_ += packed_weights;
  custom_workspace_bytes_ += workspace;
}

// ---- ops ----

// A primitive made while OpenMP had one thread (an op too small to split: see
// ScopedOmpThreads at its lowering) never forks, so it can run on the first thread inside
// a sequence of parted ops as their one part.
void RegionContext::add_op(dnnl::primitive primitive, OpArgs args, const memory::desc& scratchpad,
                           CustomOp custom, std::string note) {
  std::shared_ptr<const PartedOp> parted;
  if (primitive && !custom && input().threads > 1 && omp_get_max_threads() == 1) {
    parted = std::make_shared<const PartedOp>(one_part_primitive(primitive, engine_));
    custom = run_alone(parted);
  }
  ops_.push_back(PendingOp{std::move(primitive), std::move(args), scratchpad, std::move(custom),
                           anchor_, std::move(note), std::move(parted)});
}

void RegionContext::add_compute_op(dnnl::primitive primitive, OpArgs args,
                                   const memory::desc& scratchpad, CustomOp custom,
                                   std::string note) {
  add_op(std::move(primitive), std::move(args), scratchpad, std::move(custom), std::move(note));
  flush_exports();
}

void RegionContext::add_compute_op(dnnl::primitive primitive, OpArgs args,
                                   const memory::desc& scratchpad, PartedOp parted,
                                   std::string note) {
  auto shared = std::make_shared<const PartedOp>(std::move(parted));
  add_op(std::move(primitive), std::move(args), scratchpad, run_alone(shared), std::move(note));
  ops_.back().parted = std::move(shared);
  flush_exports();
}

void RegionContext::flush_exports() {
  for (const auto& [from, to, pd] : pending_exports_) {
    add_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, pd.scratchpad_desc());
  }
  pending_exports_.clear();
}

// ---- int8 aliases ----
// A DequantizeLinear output stays an alias of its int8 source: int8 consumers read
// the source directly; anything else gets the f32 value computed on first use.

const QuantizedAlias* RegionContext::alias_of(const std::string& name) const {
  auto found = aliases_.find(name);
  return found == aliases_.end() ? nullptr : &found->second;
}

void RegionContext::define_alias(const std::string& name, QuantizedAlias alias) {
  if (aliases_.insert_or_assign(name, std::move(alias)).second) alias_order_.push_back(name);
  if (is_region_output(name)) materialize(name);
}

void RegionContext::materialize(const std::string& name) {
  const QuantizedAlias* alias = alias_of(name);
  if (alias == nullptr || values_.count(name)) return;
  const Value source = value(alias->source);
  const memory::desc md = with_type(source.md, memory::data_type::f32);
  dnnl::primitive_attr attr = base_attr();
  attr.set_output_scales(0, {alias->quant.scale});
  if (alias->quant.zero_point != 0) {
    attr.set_zero_points(DNNL_ARG_SRC, 0, {alias->quant.zero_point});
  }
  dnnl::reorder::primitive_desc pd(engine_, source.md, engine_, md, attr);
  const int from = activation_slot(source.storage, source.md);
  const int to = define_new(name, md);
  add_compute_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
                 pd.scratchpad_desc());
}

void RegionContext::defer_activation(const std::string& name, DeferredActivation deferred) {
  deferred_.emplace_back(name, std::move(deferred));
}

const DeferredActivation* RegionContext::deferred_activation(const std::string& name) const {
  for (const auto& [deferred_name, deferred] : deferred_) {
    if (deferred_name == name) return &deferred;
  }
  return nullptr;
}

void RegionContext::materialize_inputs(std::size_t index) {
  for (const std::string& name : planned(index).node->inputs) {
    if (!name.empty()) materialize(name);
  }
}

// ---- fusion chains ----

std::optional<std::size_t> RegionContext::chain_successor(std::size_t anchor,
                                                          const std::string& current) const {
  const std::vector<std::size_t>& readers = input().consumers_of(current);
  if (input().is_graph_output(current) || readers.size() != 1) return std::nullopt;
  if (!may_join(anchor, readers[0])) return std::nullopt;
  return readers[0];
}

bool RegionContext::may_join(std::size_t anchor, std::size_t node) const {
  return node > anchor && in_region(node) && enabled_[node] && !claimed_[node];
}

std::optional<ChainLink> RegionContext::gated_link(std::size_t anchor,
                                                   const std::string& current) const {
  const std::vector<std::size_t>& readers = input().consumers_of(current);
  if (input().is_graph_output(current) || readers.size() != 2) return std::nullopt;
  for (std::size_t side = 0; side < 2; ++side) {
    const std::size_t gate = readers[side];
    const std::size_t mul = readers[1 - side];
    if (!may_join(anchor, gate) || !may_join(anchor, mul)) continue;
    const PlannedNode& gate_node = planned(gate);
    const std::optional<EltwiseOp> op = parse_gate(gate_node, input().opset);
    if (!op || gate_node.node->inputs[0] != current) continue;
    const std::string& gate_output = output_of(gate);
    const std::vector<std::size_t>& gate_readers = input().consumers_of(gate_output);
    if (input().is_graph_output(gate_output) || gate_readers.size() != 1 ||
        gate_readers[0] != mul || !is_gating_mul(planned(mul), current, gate_output)) {
      continue;
    }
    ChainLink link;
    link.node = mul;
    link.gate_nodes = {gate};
    link.eltwise = {*op};
    link.output = output_of(mul);
    return link;
  }
  return std::nullopt;
}

// The residual operand `other` of an Add at `add_node` may receive the anchor's
// output in place: it is computed, internal, and nothing still to run reads its buffer.
bool RegionContext::can_sum_into(const std::string& other, std::size_t anchor,
                                 std::size_t add_node) const {
  auto found = values_.find(other);
  if (found == values_.end()) return false;
  const int storage = found->second.storage;
  if (storages_[storage].input_index >= 0 || storages_[storage].output_index >= 0 ||
      storages_[storage].within >= 0)
    return false;
  for (const auto& [name, sharing] : values_) {
    // A Concat's part computed in its slice (concat_in_place.cpp) shares its bytes too.
    if (outer_storage(storages_, sharing.storage) != storage) continue;
    for (std::size_t consumer : input().consumers_of(name)) {
      if (consumer != add_node && consumer >= anchor && consumer < last_) return false;
    }
  }
  return true;
}

std::vector<ChainLink> RegionContext::collect_chain(std::size_t anchor, bool allow_fold,
                                                    bool allow_sum) const {
  return collect_chain_from(anchor, output_of(anchor), allow_fold, allow_sum);
}

std::vector<ChainLink> RegionContext::collect_chain_from(std::size_t anchor,
                                                         const std::string& value, bool allow_fold,
                                                         bool allow_sum) const {
  std::vector<ChainLink> links;
  std::string current = value;
  bool has_sum = false;
  while (true) {
    if (std::optional<ChainLink> gated = gated_link(anchor, current)) {
      links.push_back(std::move(*gated));
      current = links.back().output;
      continue;
    }
    const std::optional<std::size_t> next = chain_successor(anchor, current);
    if (!next) break;
    const PlannedNode& node = planned(*next);
    ChainLink link;
    link.node = *next;
    link.output = output_of(*next);
    if (allow_fold && links.empty() && node.node->inputs[0] == current && parse_batch_norm(node)) {
      link.fold_batch_norm = true;
    } else if (auto activation = parse_activation(node, input().opset);
               activation && node.node->inputs[0] == current) {
      link.eltwise = *activation;
    } else if (allow_sum && !has_sum && is_same_shape_add(node)) {
      const std::vector<std::string>& operands = node.node->inputs;
      const std::string& other = operands[0] == current ? operands[1] : operands[0];
      if (other == current || !can_sum_into(other, anchor, *next)) break;
      link.sum = true;
      link.sum_operand = other;
      has_sum = true;
    } else {
      break;
    }
    links.push_back(std::move(link));
    current = links.back().output;
  }
  return links;
}

QuantizedChain RegionContext::collect_quantized_chain(std::size_t anchor,
                                                      std::int64_t bridge_channels) const {
  QuantizedChain chain;
  chain.output = output_of(anchor);
  while (const std::optional<std::size_t> next = chain_successor(anchor, chain.output)) {
    const PlannedNode& node = planned(*next);
    if (node.node->inputs[0] != chain.output) break;
    if (auto quant = parse_quantize(node)) {
      if (quantized_activation(chain.eltwise, quant->scale, quant->zero_point)) {
        chain.quant = quant;
        chain.nodes.push_back(*next);
        chain.output = output_of(*next);
      }
      break;
    }
    auto activation = parse_activation(node, input().opset);
    if (!activation) break;
    chain.eltwise.insert(chain.eltwise.end(), activation->begin(), activation->end());
    chain.nodes.push_back(*next);
    chain.output = output_of(*next);
  }
  if (chain.quant && bridge_channels > 0) extend_through_bridge(anchor, bridge_channels, chain);
  return chain;
}

namespace {

// A constant Add operand as one value, or one per channel of the last axis.
std::optional<std::vector<float>> channel_addend(const Tensor& constant, std::int64_t channels,
                                                 std::size_t output_rank) {
  if (constant.dtype() != DType::f32 || static_cast<std::size_t>(constant.rank()) > output_rank) {
    return std::nullopt;
  }
  const std::int64_t count = constant.numel();
  if (count != 1) {
    const Shape& shape = constant.shape();
    for (std::size_t i = 0; i + 1 < shape.size(); ++i) {
      if (shape[i] != 1) return std::nullopt;
    }
    if (shape.empty() || shape.back() != channels) return std::nullopt;
  }
  auto values = constant.values<float>();
  return std::vector<float>(values.begin(), values.end());
}

}  // namespace

void RegionContext::extend_through_bridge(std::size_t anchor, std::int64_t channels,
                                          QuantizedChain& chain) const {
  std::vector<std::size_t> nodes;
  QuantizedBridge bridge;
  std::string current = chain.output;
  const auto step = [&](std::size_t node) {
    nodes.push_back(node);
    current = output_of(node);
  };
  const std::optional<std::size_t> dequantize = chain_successor(anchor, current);
  if (!dequantize) return;
  const std::optional<ActivationQuant> through = parse_dequantize(planned(*dequantize));
  if (!through || through->scale != chain.quant->scale ||
      through->zero_point != chain.quant->zero_point || through->type != chain.quant->type) {
    return;
  }
  step(*dequantize);
  const auto take = [&] {
    chain.nodes.insert(chain.nodes.end(), nodes.begin(), nodes.end());
    chain.output = current;
    chain.bridge = std::move(bridge);
  };
  while (const std::optional<std::size_t> next = chain_successor(anchor, current)) {
    const PlannedNode& node = planned(*next);
    const graph::Node& graph_node = *node.node;
    if (auto quant = parse_quantize(node); quant && graph_node.inputs[0] == current) {
      bridge.quant = *quant;
      step(*next);
      return take();
    }
    if (graph_node.op_type == "Add" && graph_node.domain.empty() && bridge.addend.empty() &&
        bridge.eltwise.empty() && node.inputs.size() == 2 && node.constants.size() == 2) {
      const std::size_t side = graph_node.inputs[0] == current ? 1 : 0;
      if (graph_node.inputs[1 - side] != current || node.constants[side] == nullptr) return;
      auto addend = channel_addend(*node.constants[side], channels, node.outputs[0].shape.size());
      if (!addend || node.outputs[0].shape != node.inputs[1 - side].shape) return;
      bridge.addend = std::move(*addend);
      step(*next);
      continue;
    }
    auto activation = parse_activation(node, input().opset);
    if (!activation || graph_node.inputs[0] != current) break;
    bridge.eltwise.insert(bridge.eltwise.end(), activation->begin(), activation->end());
    step(*next);
  }
  // No QuantizeLinear: an f32 result, worth it when the Add is there (it saves the f32
  // copy of the int8 output and the binary op; the bare dequantized value stays int8).
  if (!bridge.addend.empty()) take();
}

void RegionContext::claim(std::size_t index) {
  claimed_[index] = true;
  claimed_by_[index] = anchor_;
}

void RegionContext::claim_links(const std::vector<ChainLink>& links, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    claim(links[i].node);
    for (std::size_t gate : links[i].gate_nodes) claim(gate);
  }
}

void RegionContext::claim_chain(const QuantizedChain& chain) {
  for (std::size_t node : chain.nodes) claim(node);
}

int RegionContext::define_chain_output(const std::vector<ChainLink>& links, std::size_t count,
                                       const std::string& anchor_output, const memory::desc& dst) {
  const std::string& name = count == 0 ? anchor_output : links[count - 1].output;
  for (std::size_t i = 0; i < count; ++i) {
    if (links[i].sum) return define_value(name, value(links[i].sum_operand).storage, dst);
  }
  return define_new(name, dst);
}

void RegionContext::note_packed_from_origin(const std::string& value, std::size_t index) {
  origin_packs_.emplace_back(value, planned(index).node);
}

// ---- ending a region early ----

RegionContext::Checkpoint RegionContext::checkpoint() const {
  Checkpoint point;
  point.ops = ops_.size();
  point.slots = slots_.size();
  point.storages = storages_.size();
  point.values = value_order_.size();
  point.variants = variants_.size();
  point.aliases = alias_order_.size();
  point.deferred = deferred_.size();
  point.claimed = claimed_;
  point.packed_weight_bytes = packed_weight_bytes_;
  point.custom_workspace_bytes = custom_workspace_bytes_;
  point.origin_packs = origin_packs_.size();
  point.releases = input().releases != nullptr ? input().releases->size() : 0;
  return point;
}

void RegionContext::roll_back(const Checkpoint& checkpoint) {
  ops_.resize(checkpoint.ops);
  slots_.resize(checkpoint.slots);
  storages_.resize(checkpoint.storages);
  std::erase_if(concat_storages_, [&](const auto& entry) {
    return entry.second.storage >= static_cast<int>(checkpoint.storages);
  });
  for (std::size_t i = checkpoint.values; i < value_order_.size(); ++i) {
    values_.erase(value_order_[i]);
  }
  value_order_.resize(checkpoint.values);
  variants_.resize(checkpoint.variants);
  for (std::size_t i = checkpoint.aliases; i < alias_order_.size(); ++i) {
    aliases_.erase(alias_order_[i]);
  }
  alias_order_.resize(checkpoint.aliases);
  deferred_.resize(checkpoint.deferred);
  claimed_ = checkpoint.claimed;
  packed_weight_bytes_ = checkpoint.packed_weight_bytes;
  custom_workspace_bytes_ = checkpoint.custom_workspace_bytes;
  origin_packs_.resize(checkpoint.origin_packs);
  pending_exports_.clear();
  if (input().releases != nullptr) input().releases->refill_from(checkpoint.releases);
}

void RegionContext::export_value(const std::string& name) {
  const Value source = value(name);
  const std::size_t index = output_index_.at(name);
  const memory::desc plain = plain_desc(step_.output_descs[index]);
  const int from = activation_slot(source.storage, source.md);
  const int external = new_storage(step_.output_descs[index].nbytes());
  storages_[external].output_index = static_cast<int>(index);
  const int to = activation_slot(external, plain);
  dnnl::reorder::primitive_desc pd(engine_, source.md, engine_, plain, base_attr());
  add_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, pd.scratchpad_desc());
}

// Exports run after every op, so their buffers stay intact until then: a value read
// from `end` on was never summed into (can_sum_into saw that reader in the region).
bool RegionContext::end_before(std::size_t end) {
  for (std::size_t index = end; index < last_; ++index) {
    if (claimed_[index]) return false;
  }
  // Inputs and outputs are listed in node order: keep those of the nodes before `end`.
  const auto [inputs, outputs] = boundary_counts_[end - 1 - first_];
  for (Storage& storage : storages_) {
    if (storage.input_index >= static_cast<int>(inputs)) storage.input_index = -1;
  }
  step_.inputs.resize(inputs);
  step_.input_descs.resize(inputs);
  for (std::size_t index = outputs; index < step_.outputs.size(); ++index) {
    output_index_.erase(step_.outputs[index]);
  }
  step_.outputs.resize(outputs);
  step_.output_descs.resize(outputs);
  const std::size_t old_last = last_;
  last_ = end;
  step_.nodes.resize(end - first_);
  for (std::size_t index = first_; index < end; ++index) {
    const PlannedNode& node = planned(index);
    for (std::size_t slot = 0; slot < node.node->outputs.size(); ++slot) {
      const std::string& name = node.node->outputs[slot];
      if (is_region_output(name)) continue;
      const std::vector<std::size_t>& readers = input().consumers_of(name);
      if (std::none_of(readers.begin(), readers.end(),
                       [&](std::size_t reader) { return reader >= end && reader < old_last; })) {
        continue;
      }
      if (!values_.count(name) && !alias_of(name)) return false;
      add_output(name, node.outputs[slot]);
      if (values_.count(name)) {
        export_value(name);
      } else {
        materialize(name);
      }
    }
  }
  return true;
}

}  // namespace edgeperf::runtime::onednn
