#pragma once
// The state of one oneDNN region while it is built, and the only API the op
// lowerings (ops/) use: values and their layouts, storage, constants, ops, the
// int8 aliases of dequantized values and the fusion chains.
#include <omp.h>

#include <algorithm>
#include <dnnl.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgeperf/runtime/backend.h"
#include "int8_patterns.h"
#include "node_specs.h"
#include "packed_constants.h"
#include "region.h"
#include "squeeze_excite.h"

namespace edgeperf::runtime::onednn {

using ArgMap = std::unordered_map<int, dnnl::memory>;
// An op of ours that runs between oneDNN primitives on the same memories.
using CustomOp = std::function<void(const ArgMap&)>;
using OpArgs = std::vector<std::pair<int, int>>;  // (DNNL_ARG_*, slot)

// An op of ours whose work splits into parts that write disjoint outputs and may run on
// any thread in any order; `finish` (if set) runs once after every part, on one thread.
// The region runs a sequence of them in one parallel region with a spin barrier between
// ops, instead of forking and joining the threads once per op (parted_ops.h).
struct PartedOp {
  int max_parts = 1;  // parts = min(max_parts, threads)
  std::function<void(const ArgMap&, int part, int parts)> run_part;
  std::function<void(const ArgMap&, int parts)> finish;
};

// The threads a custom op made for `planned` runs on now: fewer when its region runs it
// narrowed (Kernel::set_part_threads lowers OpenMP's count around the op).
inline int run_threads(int planned) { return std::min(planned, omp_get_max_threads()); }

// A DequantizeLinear output: the int8 value `source` with its quantization.
struct QuantizedAlias {
  std::string source;
  ActivationQuant quant;
};

// An f32 value never computed: activation(DequantizeLinear(source)), which its one
// remaining reader (a squeeze-and-excitation gate) computes from the bytes itself.
struct DeferredActivation {
  std::string source;
  ActivationQuant quant;
  Activation activation;
};

// One node fused into the f32 op that anchors a chain.
struct ChainLink {
  std::size_t node = 0;
  std::vector<std::size_t> gate_nodes;  // x * gate(x): the gate, fused with `node` (the Mul)
  bool fold_batch_norm = false;
  bool sum = false;  // residual Add: the anchor writes into `sum_operand`'s buffer
  std::string sum_operand;
  std::vector<EltwiseOp> eltwise;
  std::string output;
};

// f32 work after a QuantizeLinear: DequantizeLinear with the same parameters, an
// optional Add of a constant (one value, or one per output channel), activations, then
// the final QuantizeLinear, or an f32 result when no QuantizeLinear follows (a bias Add
// read by f32 ops). The primitive rounds and clamps to the first quantization exactly
// and carries on in f32, with no int8 buffer in between (the bias Add and activation
// after a quantized MatMul, as quantizers write them).
struct QuantizedBridge {
  std::vector<float> addend;             // empty: no Add
  std::vector<EltwiseOp> eltwise;        // in real units, after the Add
  std::optional<ActivationQuant> quant;  // the final QuantizeLinear; none: f32 out
};

// Activations then (optionally) a QuantizeLinear that follow an int8 op.
struct QuantizedChain {
  std::vector<std::size_t> nodes;
  std::vector<EltwiseOp> eltwise;         // in real units
  std::optional<ActivationQuant> quant;   // set when the chain ends in QuantizeLinear
  std::optional<QuantizedBridge> bridge;  // only after `quant`
  std::string output;

  dnnl::memory::data_type dst_type() const {
    if (bridge) return bridge->quant ? bridge->quant->type : dnnl::memory::data_type::f32;
    return quant ? quant->type : dnnl::memory::data_type::f32;
  }
  // The scale the op's output scales aim at: the first quantization's.
  float dst_scale() const { return quant ? quant->scale : 1.0f; }
};

// What an op's match may ask: the node, the lowering input, and which values are
// kept as their int8 source. Before a region exists no value is (this base class).
class MatchView {
 public:
  explicit MatchView(const LoweringInput& input) : input_(input) {}
  virtual ~MatchView() = default;
  MatchView(const MatchView&) = delete;
  MatchView& operator=(const MatchView&) = delete;

  const LoweringInput& input() const { return input_; }
  const PlannedNode& planned(std::size_t index) const { return input_.nodes[index]; }
  const std::string& output_of(std::size_t index) const { return planned(index).node->outputs[0]; }
  virtual const QuantizedAlias* alias_of(const std::string&) const { return nullptr; }
  // Input `slot` of node `index` is a dequantized value kept as int8.
  bool reads_alias(std::size_t index, std::size_t slot) const {
    const auto& inputs = planned(index).node->inputs;
    return slot < inputs.size() && alias_of(inputs[slot]) != nullptr;
  }

 private:
  const LoweringInput& input_;
};

// Buffers and ops as recorded while building; finish() lays them out.
struct Storage {
  std::size_t bytes = 0;
  int input_index = -1;   // >= 0: the step's input tensor
  int output_index = -1;  // >= 0: the step's output tensor
  int within = -1;        // >= 0: these bytes are part of that internal storage,
  std::size_t offset = 0;  // from this byte on (a part of a Concat written in place)
};
// The storage whose bytes `storage` uses: the one it lies within, or itself.
inline int outer_storage(const std::vector<Storage>& storages, int storage) {
  return storages[storage].within >= 0 ? storages[storage].within : storage;
}
struct Slot {
  int storage = -1;  // -1: `owned` holds packed constants
  dnnl::memory::desc md;
  dnnl::memory owned;
  Tensor borrowed;  // a constant read in place: `owned` views it, the kernel keeps it alive
  std::shared_ptr<const void> owner;  // keeps `owned`'s bytes alive when it views them
  bool reused = false;                // `owned` was packed by an earlier plan
};
struct PendingOp {
  dnnl::primitive primitive;
  OpArgs args;
  dnnl::memory::desc scratchpad;
  CustomOp custom;
  std::size_t anchor = 0;  // the node whose lowering added it (for profiles)
  std::string note;        // what `custom` adds to `primitive`, for profiles
  std::shared_ptr<const PartedOp> parted;  // set: `custom` runs it alone
};
struct Value {
  int storage = -1;
  dnnl::memory::desc md;
};
// A reordered copy of value `name` in layout `md`.
struct Variant {
  std::string name;
  dnnl::memory::desc md;
  int storage = -1;
};

// A 3x3 stride-1 conv that oneDNN can run in the Winograd domain.
bool is_winograd_candidate(const ConvSpec& spec);
// 1x1, stride 1, no padding, one group: each output pixel from the same input pixel.
bool is_pointwise(const ConvSpec& spec);

class RegionContext final : public MatchView {
 public:
  // Nodes [first, last), all `enabled` (claimable by the backend).
  RegionContext(const LoweringInput& input, std::size_t first, std::size_t last,
                const std::vector<bool>& enabled, const RegionSettings& settings);
  // A region dropped before finish() refills the initializers it released.
  ~RegionContext() override;
  RegionContext(const RegionContext&) = delete;
  RegionContext& operator=(const RegionContext&) = delete;

  const RegionSettings& settings() const { return settings_; }

  const dnnl::engine& engine() const { return engine_; }
  // The region has Winograd convs, which work in the 16-channel blocked layout.
  bool prefer_blocked() const { return prefer_blocked_; }
  // The plan asked for 16-channel blocks from the image's first conv (ActivationLayout).
  bool blocked_activations() const { return input().layout == ActivationLayout::blocked; }
  // An op here would lower differently in the other ActivationLayout.
  void note_layout_sensitive() const {
    if (input().layout_sensitive != nullptr) *input().layout_sensitive = true;
  }
  bool is_claimed(std::size_t index) const { return claimed_[index]; }
  void claim(std::size_t index);
  // Ops added and nodes claimed from here on belong to node `anchor` (for profiles).
  void begin_node(std::size_t anchor) { anchor_ = anchor; }
  dnnl::primitive_attr base_attr() const;

  // ---- values ----
  const Value& value(const std::string& name) const;
  // A slot holding `name` in layout `md`, reordering (once) when it lives in another.
  int use_as(const std::string& name, const dnnl::memory::desc& md);
  int new_storage(std::size_t bytes);
  int activation_slot(int storage, const dnnl::memory::desc& md);
  int storage_of(int slot) const { return slots_[slot].storage; }
  // Registers a computed value in `storage`; see the .cpp for region outputs.
  int define_value(const std::string& name, int storage, const dnnl::memory::desc& md);
  // A fresh buffer for `name` (the step's output tensor when it can be), or its slice
  // of the buffer of the Concat that alone reads it (concat_in_place).
  int define_new(const std::string& name, const dnnl::memory::desc& md);
  // The buffer where Concat node `index` finds its parts already written in `md`'s
  // layout, and which of its inputs are there; nullopt when none is.
  struct InPlaceConcat {
    int storage = -1;
    std::vector<bool> parts;
  };
  std::optional<InPlaceConcat> concat_in_place(std::size_t index,
                                               const dnnl::memory::desc& md) const;
  bool is_region_output(const std::string& name) const { return output_index_.count(name) > 0; }

  // ---- constants ----
  // Constants given as `source` (a view of `data`) in the layout `target` wants: a copy
  // made now, or one an earlier plan of the session made (settings().packed_constants).
  PackedConstant pack(const dnnl::memory::desc& target, const dnnl::memory::desc& source,
                      const void* data);
  int constant_slot(PackedConstant packed);
  int constant_slot(dnnl::memory packed);
  // `constant` read in place as `md` (its own row-major bytes): no packed copy.
  int borrowed_constant_slot(const dnnl::memory::desc& md, const Tensor& constant);
  // Input `slot` of node `index` is an initializer the session lets go once packed for
  // this, its only reader (LoweringInput::releases).
  bool may_release_input(std::size_t index, std::size_t slot) const;
  // Releases it: `packed` holds its bytes, which laid out as `plain` are the original.
  void release_input(std::size_t index, std::size_t slot, const PackedConstant& packed,
                     const dnnl::memory::desc& plain);
  int scalar_s32_slot(std::int32_t value);
  // Memory our own kernels hold, reported by the step's kernel.
  void add_custom_bytes(std::size_t packed_weights, std::size_t workspace);

  // ---- ops ----
  // `note` says what `custom` does beyond running `primitive` (profiles show it).
  void add_op(dnnl::primitive primitive, OpArgs args, const dnnl::memory::desc& scratchpad,
              CustomOp custom = {}, std::string note = {});
  // Adds the op computing the values just defined, then their export reorders.
  void add_compute_op(dnnl::primitive primitive, OpArgs args, const dnnl::memory::desc& scratchpad,
                      CustomOp custom = {}, std::string note = {});
  void add_compute_op(dnnl::primitive primitive, OpArgs args, const dnnl::memory::desc& scratchpad,
                      PartedOp parted, std::string note = {});
  void flush_exports();

  // ---- int8 aliases ----
  const QuantizedAlias* alias_of(const std::string& name) const override;
  void define_alias(const std::string& name, QuantizedAlias alias);
  // Computes a DequantizeLinear output in f32, in the layout of its int8 source.
  void materialize(const std::string& name);
  void materialize_inputs(std::size_t index);
  // ---- deferred activations ----
  void defer_activation(const std::string& name, DeferredActivation deferred);
  const DeferredActivation* deferred_activation(const std::string& name) const;

  // ---- fusion chains ----
  std::vector<ChainLink> collect_chain(std::size_t anchor, bool allow_fold, bool allow_sum) const;
  // The chain after `value` (the anchor's output, or a node the anchor already absorbed).
  std::vector<ChainLink> collect_chain_from(std::size_t anchor, const std::string& value,
                                            bool allow_fold, bool allow_sum) const;
  // The only reader of `value`, if it may join a chain anchored at `anchor`.
  std::optional<std::size_t> sole_joining_reader(std::size_t anchor,
                                                 const std::string& value) const {
    return chain_successor(anchor, value);
  }
  // With `bridge_channels` > 0 (the extent of the anchor's output channel axis, which
  // is its last), the chain may go on through a QuantizedBridge.
  QuantizedChain collect_quantized_chain(std::size_t anchor,
                                         std::int64_t bridge_channels = 0) const;
  // Node `node` is after `anchor`, in this region, enabled and not yet claimed.
  bool may_join(std::size_t anchor, std::size_t node) const;
  void claim_links(const std::vector<ChainLink>& links, std::size_t count);
  void claim_chain(const QuantizedChain& chain);
  // Node `index` packed the origin of its folded input `value` (LoweringInput::folded_from)
  // and never reads that input's values (Step::packed_from_origin).
  void note_packed_from_origin(const std::string& value, std::size_t index);
  // Defines the chain's final output: a fresh buffer, or the sum operand's buffer.
  int define_chain_output(const std::vector<ChainLink>& links, std::size_t count,
                          const std::string& anchor_output, const dnnl::memory::desc& dst);

  // Everything lowering a node may change, to undo a node oneDNN refuses.
  struct Checkpoint {
    std::size_t ops = 0, slots = 0, storages = 0, values = 0, variants = 0, aliases = 0;
    std::size_t deferred = 0;
    std::vector<bool> claimed;
    std::size_t packed_weight_bytes = 0, custom_workspace_bytes = 0;
    std::size_t origin_packs = 0;
    std::size_t releases = 0;
  };
  Checkpoint checkpoint() const;
  void roll_back(const Checkpoint& checkpoint);
  // Ends the region before node `end` (whose work was rolled back): values computed
  // before it that later nodes read become outputs. False when a chain already fused
  // a node from `end` on.
  bool end_before(std::size_t end);

  Step finish();  // region_finish.cpp

 private:
  void collect_boundary();
  bool has_winograd_candidate() const;
  bool in_region(std::size_t index) const { return index >= first_ && index < last_; }
  // Next node of a chain after `current` (its only reader), if it may join the chain.
  std::optional<std::size_t> chain_successor(std::size_t anchor, const std::string& current) const;
  // `current` read by exactly gate(current) and current * gate(current), as one link.
  std::optional<ChainLink> gated_link(std::size_t anchor, const std::string& current) const;
  void extend_through_bridge(std::size_t anchor, std::int64_t channels,
                             QuantizedChain& chain) const;
  bool can_sum_into(const std::string& other, std::size_t anchor, std::size_t add_node) const;
  void add_output(const std::string& name, const TensorDesc& desc);
  void export_value(const std::string& name);  // a reorder into its output tensor
  // A slice of the buffer of the Concat that alone reads `name`, for `name` in `md`.
  std::optional<int> concat_slice(const std::string& name, const dnnl::memory::desc& md);
  bool read_by_batch_norm(const std::string& name) const;

  std::size_t first_;
  std::size_t last_;
  std::size_t releases_at_start_ = 0;
  bool finished_ = false;
  const std::vector<bool>& enabled_;
  RegionSettings settings_;
  std::vector<bool> claimed_;
  std::vector<std::size_t> claimed_by_;  // the anchor whose lowering claimed each node
  std::size_t anchor_ = 0;
  bool prefer_blocked_ = false;
  dnnl::engine engine_;
  Step step_;
  std::map<std::string, std::size_t> output_index_;
  std::map<std::string, Value> values_;
  std::vector<std::string> value_order_;  // names in values_, as defined
  std::vector<Variant> variants_;
  // Step inputs and outputs seen up to each node, for end_before.
  std::vector<std::pair<std::size_t, std::size_t>> boundary_counts_;
  std::vector<Storage> storages_;
  std::vector<Slot> slots_;
  std::vector<PendingOp> ops_;
  std::size_t packed_weight_bytes_ = 0;
  std::size_t custom_workspace_bytes_ = 0;
  std::vector<std::pair<std::string, const graph::Node*>> origin_packs_;
  struct PendingExport {
    int from;
    int to;
    dnnl::reorder::primitive_desc pd;
  };
  std::vector<PendingExport> pending_exports_;
  // Concat node -> the buffer its parts are written into, and its layout (concat_slice).
  struct ConcatStorage {
    int storage = -1;
    dnnl::memory::desc whole;
  };
  std::map<std::size_t, ConcatStorage> concat_storages_;
  std::map<std::string, QuantizedAlias> aliases_;
  std::vector<std::string> alias_order_;
  std::vector<std::pair<std::string, DeferredActivation>> deferred_;  // in definition order
};

}  // namespace edgeperf::runtime::onednn
