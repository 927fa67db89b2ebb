// Turns a built RegionContext into its step: the internal buffers laid out by
// runtime::plan_arena in the plan's shared transient buffer, and the kernel that runs
// the ops.
#include <dnnl_debug.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "aligned_buffer.h"
#include "edgeperf/core/clock.h"
#include "edgeperf/runtime/memory_planner.h"
#include "edgeperf/runtime/scoped_omp_threads.h"
#include "one_thread_primitive.h"
#include "parted_ops.h"
#include "region_context.h"

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::memory;

// A primitive reading and writing at most this many bytes (a squeeze-and-excitation
// vector's eltwise op or reorder) runs for a microsecond or two: on one thread, inside a
// sequence of parted ops, rather than forking the threads for it.
constexpr std::size_t kOneThreadOpBytes = std::size_t{16} * 1024;

struct CompiledOp {
  dnnl::primitive primitive;
  ArgMap args;
  CustomOp custom;  // set: runs instead of `primitive`
  std::shared_ptr<const PartedOp> parted;  // set: `custom` runs it alone
  int threads = 0;  // > 0: runs on this many threads (Kernel::set_part_threads)
  // `primitive` made again on one thread, run when `threads` is 1 (one_thread_primitive.h).
  std::optional<dnnl::primitive> single;
  ArgMap single_args;
  std::shared_ptr<const PartedOp> single_parted;  // `single` as one part
  bool single_tried = false;
};

// The primitive kind ("convolution", "reorder") and oneDNN's implementation name
// ("brg:avx512_core", "jit:avx2"), or ours for a custom op. A custom op that runs a
// primitive (in parts of the batch, or with work of ours after it) is described by its
// primitive and its note.
KernelPart describe_op(const PendingOp& op) {
  KernelPart part;
  if (op.custom && !op.primitive) {
    part.kind = "custom";
    part.implementation = "edgeperf" + op.note;
    return part;
  }
  part.kind = dnnl_prim_kind2str(static_cast<dnnl_primitive_kind_t>(op.primitive.get_kind()));
  const char* info = nullptr;
  if (dnnl_primitive_desc_query(op.primitive.get_primitive_desc(), dnnl_query_impl_info_str, 0,
                                &info) == dnnl_success &&
      info != nullptr) {
    part.implementation = info;
    part.implementation += op.note;
  }
  const dnnl_memory_desc_t* src =
      dnnl_primitive_desc_query_md(op.primitive.get_primitive_desc(), dnnl_query_src_md, 0);
  part.int8 = src != nullptr && (src->data_type == dnnl_u8 || src->data_type == dnnl_s8);
  return part;
}

struct ExternalBinding {
  memory handle;
  std::size_t index;
};

// An internal buffer or scratchpad at `offset` in the transient buffer.
struct TransientBinding {
  memory handle;
  std::size_t offset;
};

std::size_t aligned_size(std::size_t bytes) {
  return (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

class RegionKernel final : public Kernel {
 public:
  explicit RegionKernel(dnnl::engine engine) : engine_(std::move(engine)), stream_(engine_) {}

  void run(const RunContext& context, std::span<const Tensor> inputs,
           std::span<Tensor> outputs) override {
    EP_CHECK(inputs.size() == input_count_ && outputs.size() == output_count_,
             "onednn region: got {} inputs and {} outputs, expected {} and {}", inputs.size(),
             outputs.size(), input_count_, output_count_);
    if (!transient_bound_) {  // run outside a plan: a buffer of its own
      own_transient_ = aligned_array<std::byte>(transient_bytes());
      use_transient(own_transient_.get());
    }
    // Region inputs are only read; oneDNN's handle API is not const-qualified.
    for (ExternalBinding& binding : input_bindings_) {
      binding.handle.set_data_handle(const_cast<void*>(inputs[binding.index].raw()));
    }
    for (ExternalBinding& binding : output_bindings_) {
      binding.handle.set_data_handle(outputs[binding.index].raw());
    }
    // CPU primitives run synchronously, so custom ops can interleave with them.
    const int threads = omp_get_max_threads();
    for (std::size_t i = 0; i < ops_.size();) {
      const std::size_t end = threads > 1 ? parted_sequence_end(i) : i;
      if (end - i >= 2) {
        run_sequence(context, i, end, threads);
        i = end;
        continue;
      }
      const std::int64_t start = context.profile != nullptr ? monotonic_ns() : 0;
      execute(ops_[i]);
      if (context.profile != nullptr)
        context.profile->record(context.step, i, start, monotonic_ns());
      ++i;
    }
    stream_.wait();
  }
  // The op as a step of a sequence of parted ops, if it can be one: a parted op on the
  // region's threads, or on the first thread only when set to one thread, or a primitive
  // made again on one thread.
  static std::optional<PartedStep> sequence_step(const CompiledOp& op) {
    if (op.parted && op.threads == 0) return PartedStep{op.parted.get(), &op.args};
    if (op.threads != 1) return std::nullopt;
    if (op.parted) return PartedStep{op.parted.get(), &op.args, 1};
    if (op.single_parted) return PartedStep{op.single_parted.get(), &op.single_args, 1};
    return std::nullopt;
  }
  // The end of the run of ops that can be steps of one sequence, from `first`.
  std::size_t parted_sequence_end(std::size_t first) const {
    std::size_t end = first;
    while (end < ops_.size() && sequence_step(ops_[end])) ++end;
    return end;
  }
  void run_sequence(const RunContext& context, std::size_t first, std::size_t end, int threads) {
    std::vector<PartedStep>& steps = sequence_steps_;
    steps.clear();
    for (std::size_t i = first; i < end; ++i) steps.push_back(*sequence_step(ops_[i]));
    if (context.profile == nullptr) {
      run_parted_sequence(steps, threads, barrier_);
      return;
    }
    std::int64_t start = monotonic_ns();
    run_parted_sequence(steps, threads, barrier_, [&](std::size_t index) {
      const std::int64_t now = monotonic_ns();
      context.profile->record(context.step, first + index, start, now);
      start = now;
    });
  }
  std::vector<KernelPart> parts() const override {
    std::vector<KernelPart> parts = parts_;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (ops_[i].threads > 0) {
        parts[i].implementation +=
            fmt::format(" on {} thread{}", ops_[i].threads, ops_[i].threads == 1 ? "" : "s");
      }
    }
    return parts;
  }
  void set_part_threads(std::size_t part, int threads) override {
    CompiledOp& op = ops_.at(part);
    op.threads = std::max(threads, 0);
    if (op.threads == 1 && !op.custom && !op.single_tried) make_single(op);
  }
  std::size_t workspace_bytes() const override { return custom_workspace_bytes_; }
  std::size_t packed_weight_bytes() const override { return packed_weight_bytes_; }
  std::size_t reused_weight_bytes() const override { return reused_weight_bytes_; }
  // The internal buffers, then the largest op's scratchpad.
  std::size_t transient_bytes() const override {
    return aligned_size(arena_bytes_) + scratchpad_bytes_;
  }
  void use_transient(std::byte* buffer) override {
    for (TransientBinding& binding : transient_bindings_) {
      binding.handle.set_data_handle(buffer + binding.offset);
    }
    transient_ = buffer;
    transient_bound_ = true;
  }

  void make_single(CompiledOp& op) {
    op.single_tried = true;
    std::vector<int> args;
    for (const auto& [arg, handle] : op.args) {
      if (arg != DNNL_ARG_SCRATCHPAD) args.push_back(arg);
    }
    std::optional<OneThreadPrimitive> made =
        make_one_thread_primitive(op.primitive, engine_, scratchpad_bytes_, args);
    if (!made) return;
    op.single_args = op.args;
    op.single_args.erase(DNNL_ARG_SCRATCHPAD);
    if (made->scratchpad.get_size() > 0) {
      memory scratchpad(made->scratchpad, engine_, DNNL_MEMORY_NONE);
      const std::size_t offset = aligned_size(arena_bytes_);
      if (transient_ != nullptr) scratchpad.set_data_handle(transient_ + offset);
      transient_bindings_.push_back(TransientBinding{scratchpad, offset});
      op.single_args.emplace(DNNL_ARG_SCRATCHPAD, scratchpad);
    }
    op.single = std::move(made->primitive);
    op.single_parted =
        std::make_shared<const PartedOp>(one_part_primitive(*op.single, engine_, op.single_args));
  }

  // A small primitive made again on one thread runs as a parted op of one part (true).
  bool make_small_op_parted(CompiledOp& op) {
    if (op.custom || !op.primitive) return false;
    std::size_t bytes = 0;
    for (const auto& [arg, handle] : op.args) {
      if (arg != DNNL_ARG_SCRATCHPAD) bytes += handle.get_desc().get_size();
    }
    if (bytes > kOneThreadOpBytes) return false;
    make_single(op);
    if (!op.single) return false;
    op.parted = op.single_parted;
    op.custom = run_alone(op.parted);
    return true;
  }

  void execute(CompiledOp& op) {
    if (op.threads > 0) {
      const ScopedOmpThreads narrowed(op.threads);
      run_op(op);
    } else {
      run_op(op);
    }
  }

  void run_op(CompiledOp& op) {
    if (op.custom) {
      op.custom(op.args);
    } else if (op.threads == 1 && op.single) {
      op.single->execute(stream_, op.single_args);
    } else {
      op.primitive.execute(stream_, op.args);
    }
  }

  dnnl::engine engine_;
  dnnl::stream stream_;
  AlignedArray<std::byte> own_transient_;  // only when no plan gave one
  bool transient_bound_ = false;
  std::byte* transient_ = nullptr;
  std::size_t arena_bytes_ = 0;
  std::size_t scratchpad_bytes_ = 0;
  std::size_t custom_workspace_bytes_ = 0;  // held by custom ops
  std::size_t packed_weight_bytes_ = 0;
  std::size_t reused_weight_bytes_ = 0;
  std::size_t input_count_ = 0;
  std::size_t output_count_ = 0;
  std::vector<CompiledOp> ops_;
  std::vector<PartedStep> sequence_steps_;
  SpinBarrier barrier_;
  std::vector<KernelPart> parts_;  // one per op
  std::vector<ExternalBinding> input_bindings_;
  std::vector<ExternalBinding> output_bindings_;
  std::vector<TransientBinding> transient_bindings_;
  std::vector<Tensor> borrowed_constants_;                  // read in place by ops_
  std::vector<std::shared_ptr<const void>> packed_owners_;  // packed constants, maybe shared
};

// The first and last op using each storage (-1: none); a slice counts as a use of the
// storage it lies in.
std::vector<std::pair<int, int>> storage_lifetimes(const std::vector<Storage>& storages,
                                                   const std::vector<Slot>& slots,
                                                   const std::vector<PendingOp>& ops) {
  std::vector<std::pair<int, int>> lifetimes(storages.size(), {-1, -1});
  for (std::size_t position = 0; position < ops.size(); ++position) {
    for (const auto& [arg, slot] : ops[position].args) {
      if (slots[slot].storage < 0) continue;
      auto& [first, last] = lifetimes[outer_storage(storages, slots[slot].storage)];
      if (first < 0) first = static_cast<int>(position);
      last = static_cast<int>(position);
    }
  }
  return lifetimes;
}

// Arena offsets of the internal storages (others keep 0): two buffers share bytes
// only when no op uses both.
std::vector<std::size_t> plan_storages(const std::vector<Storage>& storages,
                                       const std::vector<std::pair<int, int>>& lifetimes,
                                       std::size_t& arena_bytes) {
  std::vector<BufferRequest> requests;
  std::vector<std::size_t> requested;
  for (std::size_t i = 0; i < storages.size(); ++i) {
    const Storage& storage = storages[i];
    const auto [first, last] = lifetimes[i];
    if (storage.input_index >= 0 || storage.output_index >= 0 || storage.within >= 0 || first < 0)
      continue;
    requests.push_back(
        {storage.bytes, static_cast<std::size_t>(first), static_cast<std::size_t>(last)});
    requested.push_back(i);
  }
  const ArenaPlan plan = plan_arena(requests);
  std::vector<std::size_t> offsets(storages.size(), 0);
  for (std::size_t i = 0; i < requested.size(); ++i) offsets[requested[i]] = plan.offsets[i];
  arena_bytes = plan.arena_bytes;
  return offsets;
}

memory make_memory(const Slot& slot, const std::vector<Storage>& storages,
                   const std::vector<std::size_t>& offsets, RegionKernel& kernel) {
  if (slot.storage < 0) return slot.owned;
  const Storage& storage = storages[slot.storage];
  if (storage.input_index >= 0 || storage.output_index >= 0) {
    memory handle(slot.md, kernel.engine_, DNNL_MEMORY_NONE);
    const bool is_input = storage.input_index >= 0;
    auto& bindings = is_input ? kernel.input_bindings_ : kernel.output_bindings_;
    bindings.push_back(ExternalBinding{
        handle, static_cast<std::size_t>(is_input ? storage.input_index : storage.output_index)});
    return handle;
  }
  memory handle(slot.md, kernel.engine_, DNNL_MEMORY_NONE);
  const std::size_t offset =
      storage.within >= 0 ? offsets[storage.within] + storage.offset : offsets[slot.storage];
  kernel.transient_bindings_.push_back(TransientBinding{handle, offset});
  return handle;
}

}  // namespace

Step RegionContext::finish() {
  auto kernel = std::make_unique<RegionKernel>(engine_);
  const std::vector<std::size_t> offsets =
      plan_storages(storages_, storage_lifetimes(storages_, slots_, ops_), kernel->arena_bytes_);
  std::size_t scratchpad = 0;
  for (const PendingOp& op : ops_) scratchpad = std::max(scratchpad, op.scratchpad.get_size());
  kernel->scratchpad_bytes_ = scratchpad;
  kernel->packed_weight_bytes_ = packed_weight_bytes_;
  kernel->custom_workspace_bytes_ = custom_workspace_bytes_;
  kernel->input_count_ = step_.inputs.size();
  kernel->output_count_ = step_.outputs.size();

  std::vector<memory> memories;
  for (const Slot& slot : slots_) {
    memories.push_back(make_memory(slot, storages_, offsets, *kernel));
    if (!slot.borrowed.empty()) kernel->borrowed_constants_.push_back(slot.borrowed);
    if (slot.owner) kernel->packed_owners_.push_back(slot.owner);
    if (slot.reused) kernel->reused_weight_bytes_ += slot.md.get_size();
  }
  for (PendingOp& op : ops_) {
    KernelPart part = describe_op(op);
    for (std::size_t i = 0; i < step_.nodes.size(); ++i) {
      const std::size_t node = step_.nodes[i];
      // A reorder names only the node it feeds or exports; a compute op its whole chain.
      const bool belongs = part.kind == "reorder"
                               ? node == op.anchor
                               : claimed_[node] && claimed_by_[node] == op.anchor;
      if (belongs) part.nodes.push_back(i);
    }
    kernel->parts_.push_back(std::move(part));
    CompiledOp compiled;
    compiled.primitive = std::move(op.primitive);
    compiled.custom = std::move(op.custom);
    compiled.parted = std::move(op.parted);
    for (const auto& [arg, slot] : op.args) compiled.args.emplace(arg, memories[slot]);
    if (op.scratchpad.get_size() > 0) {
      memory scratchpad_memory(op.scratchpad, engine_, DNNL_MEMORY_NONE);
      kernel->transient_bindings_.push_back(
          TransientBinding{scratchpad_memory, aligned_size(kernel->arena_bytes_)});
      compiled.args.emplace(DNNL_ARG_SCRATCHPAD, scratchpad_memory);
    }
    if (input().threads > 1 && kernel->make_small_op_parted(compiled))
      kernel->parts_.back().implementation += " (small: made for one thread)";
    kernel->ops_.push_back(std::move(compiled));
  }
  step_.kernel = std::move(kernel);
  step_.packed_from_origin = std::move(origin_packs_);
  step_.backend = "onednn";
  step_.label =
      fmt::format("oneDNN region '{}'..'{}' ({} nodes, {} primitives)", planned(first_).node->name,
                  planned(last_ - 1).node->name, last_ - first_, ops_.size());
  finished_ = true;
  return std::move(step_);
}

}  // namespace edgeperf::runtime::onednn
