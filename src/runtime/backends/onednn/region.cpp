#include "region.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <unordered_map>

#include "depthwise_u8.h"
#include "image_quantize.h"
#include "int8_patterns.h"
#include "node_specs.h"

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

constexpr std::size_t kAlignment = 64;

memory::desc plain_desc(const Shape& shape, memory::data_type type = memory::data_type::f32) {
  return memory::desc(shape, type, contiguous_strides(shape));
}

memory::desc plain_desc(const TensorDesc& desc) {
  return plain_desc(desc.shape, dnnl_type(desc.dtype));
}

memory::desc any_desc(const Shape& shape) {
  return memory::desc(shape, memory::data_type::f32, memory::format_tag::any);
}

std::size_t align_up(std::size_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

struct AlignedFree {
  void operator()(std::byte* pointer) const { std::free(pointer); }
};
using AlignedBuffer = std::unique_ptr<std::byte, AlignedFree>;

AlignedBuffer allocate_aligned(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  auto* pointer = static_cast<std::byte*>(std::aligned_alloc(kAlignment, align_up(bytes)));
  EP_CHECK(pointer != nullptr, "onednn region: cannot allocate {} bytes", bytes);
  std::memset(pointer, 0, bytes);
  return AlignedBuffer(pointer);
}

using ArgMap = std::unordered_map<int, memory>;
// An op of ours that runs between oneDNN primitives on the same memories.
using CustomOp = std::function<void(const ArgMap&)>;

struct CompiledOp {
  dnnl::primitive primitive;
  ArgMap args;
  CustomOp custom;  // set: runs instead of `primitive`
};

struct ExternalBinding {
  memory handle;
  std::size_t index;
};

class RegionKernel final : public Kernel {
 public:
  explicit RegionKernel(dnnl::engine engine) : engine_(std::move(engine)), stream_(engine_) {}

  void run(const RunContext&, std::span<const Tensor> inputs, std::span<Tensor> outputs) override {
    EP_CHECK(inputs.size() == input_count_ && outputs.size() == output_count_,
             "onednn region: got {} inputs and {} outputs, expected {} and {}", inputs.size(),
             outputs.size(), input_count_, output_count_);
    // Region inputs are only read; oneDNN's handle API is not const-qualified.
    for (ExternalBinding& binding : input_bindings_) {
      binding.handle.set_data_handle(const_cast<void*>(inputs[binding.index].raw()));
    }
    for (ExternalBinding& binding : output_bindings_) {
      binding.handle.set_data_handle(outputs[binding.index].raw());
    }
    // CPU primitives run synchronously, so custom ops can interleave with them.
    for (CompiledOp& op : ops_) {
      if (op.custom) {
        op.custom(op.args);
      } else {
        op.primitive.execute(stream_, op.args);
      }
    }
    stream_.wait();
  }
  std::size_t workspace_bytes() const override {
    return arena_bytes_ + scratchpad_bytes_ + custom_workspace_bytes_;
  }
  std::size_t packed_weight_bytes() const override { return packed_weight_bytes_; }

  dnnl::engine engine_;
  dnnl::stream stream_;
  AlignedBuffer arena_;
  AlignedBuffer scratchpad_;
  std::size_t arena_bytes_ = 0;
  std::size_t scratchpad_bytes_ = 0;
  std::size_t custom_workspace_bytes_ = 0;  // held by custom ops
  std::size_t packed_weight_bytes_ = 0;
  std::size_t input_count_ = 0;
  std::size_t output_count_ = 0;
  std::vector<CompiledOp> ops_;
  std::vector<ExternalBinding> input_bindings_;
  std::vector<ExternalBinding> output_bindings_;
};

// A DequantizeLinear output: the int8 value `source` with its quantization.
struct QuantizedAlias {
  std::string source;
  ActivationQuant quant;
};

// One node fused into the op that anchors a chain.
struct ChainLink {
  std::size_t node = 0;
  bool fold_batch_norm = false;
  bool sum = false;  // residual Add: the anchor writes into `sum_operand`'s buffer
  std::string sum_operand;
  std::vector<EltwiseOp> eltwise;
  std::string output;
};

class RegionBuilder {
 public:
  RegionBuilder(const LoweringInput& input, std::size_t first, std::size_t last,
                const std::vector<bool>& enabled)
      : input_(input),
        first_(first),
        last_(last),
        enabled_(enabled),
        claimed_(input.nodes.size(), false),
        engine_(dnnl::engine::kind::cpu, 0) {}

  Step build() {
    collect_boundary();
    prefer_blocked_ = has_winograd_candidate();
    for (std::size_t index = first_; index < last_; ++index) {
      if (claimed_[index]) continue;
      claimed_[index] = true;
      try {
        lower_node(index);
      } catch (const dnnl::error&) {
        throw NodeRejected{index};
      }
    }
    return finish();
  }

 private:
  struct Storage {
    std::size_t bytes = 0;
    int input_index = -1;
    int output_index = -1;
    int first_op = -1;
    int last_op = -1;
    std::size_t offset = 0;
    std::vector<std::string> values;
  };
  struct Slot {
    int storage = -1;  // -1: `owned` holds packed constants
    memory::desc md;
    memory owned;
  };
  struct PendingOp {
    dnnl::primitive primitive;
    std::vector<std::pair<int, int>> args;  // (DNNL_ARG_*, slot)
    memory::desc scratchpad;
    CustomOp custom;
  };
  struct Value {
    int storage = -1;
    memory::desc md;
    std::vector<std::pair<memory::desc, int>> variants;  // reordered copies: md -> storage
  };

  const PlannedNode& planned(std::size_t index) const { return input_.nodes[index]; }
  const std::string& output_of(std::size_t index) const { return planned(index).node->outputs[0]; }
  bool in_region(std::size_t index) const { return index >= first_ && index < last_; }

  bool is_graph_output(const std::string& name) const {
    return std::find(input_.graph_outputs.begin(), input_.graph_outputs.end(), name) !=
           input_.graph_outputs.end();
  }

  const std::vector<std::size_t>& consumers(const std::string& name) const {
    static const std::vector<std::size_t> kNone;
    auto found = input_.consumers.find(name);
    return found == input_.consumers.end() ? kNone : found->second;
  }

  // Region inputs (runtime values read but not produced here) and outputs (values
  // read outside the region or graph outputs).
  void collect_boundary() {
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
        bool outside = is_graph_output(name);
        for (std::size_t consumer : consumers(name)) outside = outside || !in_region(consumer);
        if (outside) {
          output_index_[name] = step_.outputs.size();
          step_.outputs.push_back(name);
          step_.output_descs.push_back(node.outputs[slot]);
        }
      }
    }
  }

  int new_storage(std::size_t bytes) {
    Storage storage;
    storage.bytes = bytes;
    storages_.push_back(storage);
    return static_cast<int>(storages_.size()) - 1;
  }

  int activation_slot(int storage, const memory::desc& md) {
    slots_.push_back(Slot{storage, md, {}});
    return static_cast<int>(slots_.size()) - 1;
  }

  int constant_slot(memory packed) {
    packed_weight_bytes_ += packed.get_desc().get_size();
    slots_.push_back(Slot{-1, packed.get_desc(), packed});
    return static_cast<int>(slots_.size()) - 1;
  }

  // Copies constants given as a strided f32 view into the layout `target` wants.
  memory pack(const memory::desc& target, const memory::desc& source, const void* data) {
    memory packed(target, engine_);
    memory user(source, engine_, const_cast<void*>(data));  // read only
    dnnl::stream stream(engine_);
    dnnl::reorder(user, packed).execute(stream, user, packed);
    stream.wait();
    return packed;
  }

  void add_op(dnnl::primitive primitive, std::vector<std::pair<int, int>> args,
              const memory::desc& scratchpad, CustomOp custom = {}) {
    const int position = static_cast<int>(ops_.size());
    for (const auto& [arg, slot] : args) {
      const int storage = slots_[slot].storage;
      if (storage < 0) continue;
      Storage& used = storages_[storage];
      if (used.first_op < 0) used.first_op = position;
      used.last_op = position;
    }
    ops_.push_back(PendingOp{std::move(primitive), std::move(args), scratchpad, std::move(custom)});
  }

  dnnl::primitive_attr base_attr() const {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
  }

  const Value& value(const std::string& name) const {
    auto found = values_.find(name);
    EP_CHECK(found != values_.end(), "onednn region: value '{}' used before it is computed", name);
    return found->second;
  }

  // A slot holding `name` in layout `md`, reordering (once) when it lives in another.
  int use_as(const std::string& name, const memory::desc& md) {
    Value& current = values_.at(name);
    if (current.md == md) return activation_slot(current.storage, md);
    for (const auto& [variant_md, storage] : current.variants) {
      if (variant_md == md) return activation_slot(storage, md);
    }
    const int from = activation_slot(current.storage, current.md);
    const int storage = new_storage(md.get_size());
    const int to = activation_slot(storage, md);
    dnnl::reorder::primitive_desc pd(engine_, current.md, engine_, md, base_attr());
    add_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, pd.scratchpad_desc());
    values_.at(name).variants.emplace_back(md, storage);
    return to;
  }

  // Registers a computed value. Values read outside the region are copied out right
  // after the op computing them (see add_compute_op), so their buffer may be reused
  // or written in place by a sum post-op afterwards.
  int define_value(const std::string& name, int storage, const memory::desc& md) {
    values_[name] = Value{storage, md, {}};
    storages_[storage].values.push_back(name);
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

  // A fresh buffer for `name`; a region output in plain layout is written straight
  // into the step's output tensor instead of being copied there.
  int define_new(const std::string& name, const memory::desc& md) {
    const int storage = new_storage(md.get_size());
    auto output = output_index_.find(name);
    if (output != output_index_.end() && md == plain_desc(step_.output_descs[output->second])) {
      storages_[storage].output_index = static_cast<int>(output->second);
    }
    return define_value(name, storage, md);
  }

  // ---- fusion chains ----

  // The residual operand `other` of an Add at `add_node` may receive the anchor's
  // output in place: it is computed, internal, and nothing still to run reads its buffer.
  bool can_sum_into(const std::string& other, std::size_t anchor, std::size_t add_node) const {
    auto found = values_.find(other);
    if (found == values_.end()) return false;
    const Storage& storage = storages_[found->second.storage];
    if (storage.input_index >= 0 || storage.output_index >= 0) return false;
    for (const std::string& alias : storage.values) {
      for (std::size_t consumer : consumers(alias)) {
        if (consumer != add_node && consumer >= anchor && consumer < last_) return false;
      }
    }
    return true;
  }

  std::vector<ChainLink> collect_chain(std::size_t anchor, bool allow_fold, bool allow_sum) const {
    std::vector<ChainLink> links;
    std::string current = output_of(anchor);
    bool has_sum = false;
    while (!is_graph_output(current) && consumers(current).size() == 1) {
      const std::size_t next = consumers(current)[0];
      if (next <= anchor || !in_region(next) || !enabled_[next] || claimed_[next]) break;
      const PlannedNode& node = planned(next);
      ChainLink link;
      link.node = next;
      link.output = output_of(next);
      if (allow_fold && links.empty() && node.node->inputs[0] == current &&
          parse_batch_norm(node)) {
        link.fold_batch_norm = true;
      } else if (auto activation = parse_activation(node);
                 activation && node.node->inputs[0] == current) {
        link.eltwise = *activation;
      } else if (allow_sum && !has_sum && is_same_shape_add(node)) {
        const std::vector<std::string>& operands = node.node->inputs;
        const std::string& other = operands[0] == current ? operands[1] : operands[0];
        if (other == current || !can_sum_into(other, anchor, next)) break;
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

  static dnnl::post_ops make_post_ops(const std::vector<ChainLink>& links, std::size_t count) {
    dnnl::post_ops post_ops;
    for (std::size_t i = 0; i < count; ++i) {
      if (links[i].sum) post_ops.append_sum(1.0f);
      for (const EltwiseOp& op : links[i].eltwise) {
        post_ops.append_eltwise(1.0f, op.algorithm, op.alpha, op.beta);
      }
    }
    return post_ops;
  }

  static const ChainLink* sum_link(const std::vector<ChainLink>& links, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      if (links[i].sum) return &links[i];
    }
    return nullptr;
  }

  void claim(const std::vector<ChainLink>& links, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) claimed_[links[i].node] = true;
  }

  // Defines the chain's final output: a fresh buffer, or the sum operand's buffer.
  int define_chain_output(const std::vector<ChainLink>& links, std::size_t count,
                          const std::string& anchor_output, const memory::desc& dst) {
    const std::string& name = count == 0 ? anchor_output : links[count - 1].output;
    if (const ChainLink* sum = sum_link(links, count)) {
      return define_value(name, value(sum->sum_operand).storage, dst);
    }
    return define_new(name, dst);
  }

  // ---- nodes ----

  void lower_node(std::size_t index) {
    const PlannedNode& node = planned(index);
    if (auto dequantize = parse_dequantize(node)) return lower_dequantize(index, *dequantize);
    if (auto qlinear = parse_qlinear(node)) {
      if (lower_qlinear(index, *qlinear)) return;
      throw NodeRejected{index};
    }
    if (lower_int8_node(index)) return;
    if (auto quantize = parse_quantize(node); quantize && lower_requantize(index, *quantize)) {
      return;
    }
    materialize_inputs(index);
    if (auto quantize = parse_quantize(node)) return lower_quantize(index, *quantize);
    if (auto conv = parse_conv(node)) return lower_conv(index, *conv);
    if (auto gemm = parse_gemm(node)) return lower_gemm(index, *gemm);
    if (auto pool = parse_pool(node)) return lower_pool(index, *pool);
    if (auto activation = parse_activation(node)) return lower_activation(index, *activation);
    if (auto batch_norm = parse_batch_norm(node)) return lower_batch_norm(index, *batch_norm);
    if (is_same_shape_add(node)) return lower_add(index);
    if (is_free_reshape(node)) return lower_reshape(index);
    throw NodeRejected{index};
  }

  struct PackedWeights {
    std::vector<float> weights;  // [out_channels, ...] row-major
    std::vector<float> bias;     // empty: no bias
  };

  static std::vector<float> to_vector(const Tensor* tensor) {
    if (tensor == nullptr) return {};
    auto values = tensor->values<float>();
    return {values.begin(), values.end()};
  }

  // Folds an inference BatchNormalization that follows the op into its weights and bias:
  // w' = w * s, b' = (b - mean) * s + shift with s = scale / sqrt(var + eps), per channel.
  static PackedWeights fold_batch_norm(PackedWeights packed, std::int64_t out_channels,
                                       const PlannedNode* batch_norm) {
    if (batch_norm == nullptr) return packed;
    const BatchNormSpec bn = *parse_batch_norm(*batch_norm);
    const auto channels = static_cast<std::size_t>(out_channels);
    if (packed.bias.empty()) packed.bias.assign(channels, 0.0f);
    const std::size_t per_channel = packed.weights.size() / channels;
    for (std::size_t channel = 0; channel < channels; ++channel) {
      const double scale = static_cast<double>(bn.scale->values<float>()[channel]) /
                           std::sqrt(static_cast<double>(bn.variance->values<float>()[channel]) +
                                     static_cast<double>(bn.epsilon));
      for (std::size_t i = 0; i < per_channel; ++i) {
        float& weight = packed.weights[channel * per_channel + i];
        weight = static_cast<float>(weight * scale);
      }
      packed.bias[channel] =
          static_cast<float>((packed.bias[channel] - bn.mean->values<float>()[channel]) * scale +
                             bn.shift->values<float>()[channel]);
    }
    return packed;
  }

  // The blocked or channels-last layout of a 4-D activation, if it is one of those.
  static std::optional<memory::format_tag> activation_layout(const memory::desc& md) {
    if (md.dims().size() != 4) return std::nullopt;
    for (memory::format_tag tag :
         {memory::format_tag::aBcd16b, memory::format_tag::acdb, memory::format_tag::aBcd8b}) {
      if (md == memory::desc(md.dims(), memory::data_type::f32, tag)) return tag;
    }
    return std::nullopt;
  }

  bool has_winograd_candidate() const {
    for (std::size_t index = first_; index < last_; ++index) {
      if (!enabled_[index]) continue;
      const std::optional<ConvSpec> spec = parse_conv(planned(index));
      if (spec && winograd_candidate(*spec)) return true;
    }
    return false;
  }

  static bool winograd_candidate(const ConvSpec& spec) {
    const Shape& w = spec.weights->shape();
    const auto all_ones = [](const auto& values) {
      return std::all_of(values.begin(), values.end(), [](auto v) { return v == 1; });
    };
    return spec.group == 1 && w.size() == 4 && w[2] == 3 && w[3] == 3 && all_ones(spec.strides) &&
           spec.dilations.size() == 2 && spec.dilations[0] == 0 && spec.dilations[1] == 0;
  }

  static bool is_reference_impl(const dnnl::primitive_desc_base& pd) {
    return std::string_view(pd.impl_info_str()).starts_with("ref");
  }

  // The common tail of a conv or inner product: pack the weights (and bias) once into
  // the primitive's layout, claim the fused chain, define its output and add the op.
  template <typename Primitive, typename PrimitiveDesc>
  void add_weighted_op(const PrimitiveDesc& pd, std::size_t index, const std::string& src,
                       const memory::desc& plain_weights, const memory::desc& bias_md,
                       const PackedWeights& packed, const std::vector<ChainLink>& links,
                       std::size_t count) {
    std::vector<std::pair<int, int>> args = {
        {DNNL_ARG_SRC, use_as(src, pd.src_desc())},
        {DNNL_ARG_WEIGHTS,
         constant_slot(pack(pd.weights_desc(), plain_weights, packed.weights.data()))}};
    if (!packed.bias.empty()) {
      args.emplace_back(DNNL_ARG_BIAS,
                        constant_slot(pack(pd.bias_desc(), bias_md, packed.bias.data())));
    }
    claim(links, count);
    args.emplace_back(DNNL_ARG_DST,
                      define_chain_output(links, count, output_of(index), pd.dst_desc()));
    add_compute_op(Primitive(pd), std::move(args), pd.scratchpad_desc());
  }

  void lower_conv(std::size_t index, const ConvSpec& spec) {
    const PlannedNode& node = planned(index);
    const std::string& x = node.node->inputs[0];
    const Shape& w = spec.weights->shape();
    const Shape weight_dims =
        spec.group == 1 ? w : Shape{spec.group, w[0] / spec.group, w[1], w[2], w[3]};
    const std::vector<ChainLink> links = collect_chain(index, true, true);
    const bool folds = !links.empty() && links[0].fold_batch_norm;
    const PackedWeights packed = fold_batch_norm({to_vector(spec.weights), to_vector(spec.bias)},
                                                 w[0], folds ? &planned(links[0].node) : nullptr);
    const memory::desc bias_md = packed.bias.empty() ? memory::desc() : plain_desc({w[0]});
    const memory::desc x_md = value(x).md;

    auto make_pd = [&](const memory::desc& src, const memory::desc& dst, std::size_t count,
                       algorithm kind) -> std::optional<dnnl::convolution_forward::primitive_desc> {
      try {
        dnnl::convolution_forward::desc desc(prop_kind::forward_inference, kind, src,
                                             any_desc(weight_dims), bias_md, dst, spec.strides,
                                             spec.dilations, spec.pad_left, spec.pad_right);
        dnnl::primitive_attr attr = base_attr();
        attr.set_post_ops(make_post_ops(links, count));
        return dnnl::convolution_forward::primitive_desc(desc, attr, engine_);
      } catch (const dnnl::error&) {
        return std::nullopt;
      }
    };

    const std::size_t minimum = folds ? 1 : 0;
    const std::optional<memory::format_tag> x_layout = activation_layout(x_md);
    for (std::size_t count = links.size() + 1; count-- > minimum;) {
      const ChainLink* sum = sum_link(links, count);
      // Keep the producer's layout when an optimized implementation takes it, so
      // consecutive convs need no reorder; otherwise let oneDNN choose.
      std::optional<dnnl::convolution_forward::primitive_desc> pd;
      if (winograd_candidate(spec)) {
        // A 3x3 stride-1 conv does about half the multiplies in the Winograd domain;
        // oneDNN's convolution_auto does not pick it, so ask for it by name.
        pd = make_pd(any_desc(x_md.dims()),
                     sum ? value(sum->sum_operand).md : any_desc(node.outputs[0].shape), count,
                     algorithm::convolution_winograd);
        if (pd && is_reference_impl(*pd)) pd.reset();
      }
      if (!pd && x_layout) {
        const memory::desc dst =
            sum ? value(sum->sum_operand).md
                : memory::desc(node.outputs[0].shape, memory::data_type::f32, *x_layout);
        pd = make_pd(x_md, dst, count, algorithm::convolution_direct);
        if (pd && is_reference_impl(*pd)) pd.reset();
      }
      if (!pd && prefer_blocked_ && !sum) {
        // Winograd convs work in 16-channel blocks; producing that layout here saves
        // a reorder before each of them.
        pd = make_pd(any_desc(x_md.dims()),
                     memory::desc(node.outputs[0].shape, memory::data_type::f32,
                                  memory::format_tag::aBcd16b),
                     count, algorithm::convolution_direct);
        if (pd && is_reference_impl(*pd)) pd.reset();
      }
      if (!pd) {
        pd = make_pd(any_desc(x_md.dims()),
                     sum ? value(sum->sum_operand).md : any_desc(node.outputs[0].shape), count,
                     algorithm::convolution_direct);
      }
      if (!pd) continue;
      add_weighted_op<dnnl::convolution_forward>(*pd, index, x, plain_desc(weight_dims), bias_md,
                                                 packed, links, count);
      return;
    }
    throw NodeRejected{index};
  }

  // Adds the op computing the values just defined, then their export reorders.
  void add_compute_op(dnnl::primitive primitive, std::vector<std::pair<int, int>> args,
                      const memory::desc& scratchpad, CustomOp custom = {}) {
    add_op(std::move(primitive), std::move(args), scratchpad, std::move(custom));
    flush_exports();
  }

  void flush_exports() {
    for (const auto& [from, to, pd] : pending_exports_) {
      add_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, pd.scratchpad_desc());
    }
    pending_exports_.clear();
  }

  // A row-major [k, n] matrix as [n, k].
  template <typename T>
  static std::vector<T> transposed_kn(std::span<const T> values, std::int64_t k, std::int64_t n) {
    std::vector<T> transposed(values.size());
    for (std::int64_t row = 0; row < k; ++row) {
      for (std::int64_t column = 0; column < n; ++column) {
        transposed[static_cast<std::size_t>(column * k + row)] =
            values[static_cast<std::size_t>(row * n + column)];
      }
    }
    return transposed;
  }

  // Gemm/MatMul as inner_product, whose weights are [N, K] (a transposed B).
  static std::vector<float> gemm_weights_nk(const GemmSpec& spec) {
    if (spec.weights_transposed) return to_vector(spec.weights);
    return transposed_kn<float>(spec.weights->values<float>(), spec.weights->dim(0),
                                spec.weights->dim(1));
  }

  void lower_gemm(std::size_t index, const GemmSpec& spec) {
    const PlannedNode& node = planned(index);
    const std::string& a = node.node->inputs[0];
    const std::int64_t n = node.outputs[0].shape[1];
    const std::int64_t k = node.inputs[0].shape[1];
    const std::vector<ChainLink> links = collect_chain(index, true, false);
    const bool folds = !links.empty() && links[0].fold_batch_norm;
    const PackedWeights packed = fold_batch_norm({gemm_weights_nk(spec), to_vector(spec.bias)}, n,
                                                 folds ? &planned(links[0].node) : nullptr);
    const memory::desc bias_md = packed.bias.empty() ? memory::desc() : plain_desc({n});
    for (std::size_t count = links.size() + 1; count-- > (folds ? 1 : 0);) {
      std::optional<dnnl::inner_product_forward::primitive_desc> pd;
      try {
        dnnl::inner_product_forward::desc desc(prop_kind::forward_inference,
                                               any_desc(node.inputs[0].shape), any_desc({n, k}),
                                               bias_md, any_desc(node.outputs[0].shape));
        dnnl::primitive_attr attr = base_attr();
        attr.set_post_ops(make_post_ops(links, count));
        pd.emplace(desc, attr, engine_);
      } catch (const dnnl::error&) {
        continue;
      }
      add_weighted_op<dnnl::inner_product_forward>(*pd, index, a, plain_desc({n, k}), bias_md,
                                                   packed, links, count);
      return;
    }
    throw NodeRejected{index};
  }

  void lower_pool(std::size_t index, const PoolSpec& spec) {
    const PlannedNode& node = planned(index);
    const std::string& x = node.node->inputs[0];
    const memory::desc x_md = value(x).md;
    dnnl::pooling_v2_forward::desc desc(prop_kind::forward_inference, spec.algorithm, x_md,
                                        any_desc(node.outputs[0].shape), spec.strides, spec.kernel,
                                        spec.dilations, spec.pad_left, spec.pad_right);
    dnnl::pooling_v2_forward::primitive_desc pd(desc, base_attr(), engine_);
    std::vector<std::pair<int, int>> args = {{DNNL_ARG_SRC, use_as(x, pd.src_desc())}};
    args.emplace_back(DNNL_ARG_DST, define_new(output_of(index), pd.dst_desc()));
    add_compute_op(dnnl::pooling_v2_forward(pd), std::move(args), pd.scratchpad_desc());
  }

  void lower_activation(std::size_t index, const std::vector<EltwiseOp>& ops) {
    const PlannedNode& node = planned(index);
    const std::string& x = node.node->inputs[0];
    const memory::desc md = value(x).md;
    int src = use_as(x, md);
    const int storage = new_storage(md.get_size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
      dnnl::eltwise_forward::desc desc(prop_kind::forward_inference, ops[i].algorithm, md,
                                       ops[i].alpha, ops[i].beta);
      dnnl::eltwise_forward::primitive_desc pd(desc, base_attr(), engine_);
      const bool last = i + 1 == ops.size();
      const int dst = last ? define_value(output_of(index), storage, md)
                           : activation_slot(storage, md);  // later ops run in place
      add_compute_op(dnnl::eltwise_forward(pd), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}},
                     pd.scratchpad_desc());
      src = dst;
    }
  }

  void lower_batch_norm(std::size_t index, const BatchNormSpec& spec) {
    const PlannedNode& node = planned(index);
    const std::string& x = node.node->inputs[0];
    const memory::desc md = value(x).md;
    dnnl::batch_normalization_forward::desc desc(
        prop_kind::forward_inference, md, spec.epsilon,
        dnnl::normalization_flags::use_global_stats | dnnl::normalization_flags::use_scale_shift);
    dnnl::batch_normalization_forward::primitive_desc pd(desc, base_attr(), engine_);
    const std::int64_t channels = md.dims()[1];
    std::vector<float> scale_shift(spec.scale->values<float>().begin(),
                                   spec.scale->values<float>().end());
    scale_shift.insert(scale_shift.end(), spec.shift->values<float>().begin(),
                       spec.shift->values<float>().end());
    const memory::desc channel_md = plain_desc({channels});
    std::vector<std::pair<int, int>> args = {
        {DNNL_ARG_SRC, use_as(x, md)},
        {DNNL_ARG_MEAN, constant_slot(pack(pd.mean_desc(), channel_md, spec.mean->data<float>()))},
        {DNNL_ARG_VARIANCE,
         constant_slot(pack(pd.variance_desc(), channel_md, spec.variance->data<float>()))},
        {DNNL_ARG_SCALE_SHIFT,
         constant_slot(pack(pd.weights_desc(), plain_desc({2, channels}), scale_shift.data()))}};
    args.emplace_back(DNNL_ARG_DST, define_new(output_of(index), pd.dst_desc()));
    add_compute_op(dnnl::batch_normalization_forward(pd), std::move(args), pd.scratchpad_desc());
  }

  void lower_add(std::size_t index) {
    const PlannedNode& node = planned(index);
    const std::string& a = node.node->inputs[0];
    const std::string& b = node.node->inputs[1];
    const memory::desc md = value(a).md;
    const std::vector<ChainLink> links = collect_chain(index, false, false);
    for (std::size_t count = links.size() + 1; count-- > 0;) {
      std::optional<dnnl::binary::primitive_desc> pd;
      try {
        dnnl::binary::desc desc(algorithm::binary_add, md, md, md);
        dnnl::primitive_attr attr = base_attr();
        attr.set_post_ops(make_post_ops(links, count));
        pd.emplace(desc, attr, engine_);
      } catch (const dnnl::error&) {
        continue;
      }
      std::vector<std::pair<int, int>> args = {{DNNL_ARG_SRC_0, use_as(a, md)},
                                               {DNNL_ARG_SRC_1, use_as(b, md)}};
      claim(links, count);
      args.emplace_back(DNNL_ARG_DST, define_chain_output(links, count, output_of(index), md));
      add_compute_op(dnnl::binary(*pd), std::move(args), pd->scratchpad_desc());
      return;
    }
    throw NodeRejected{index};
  }

  // Flatten/Reshape: free when the value is plain row-major, one reorder otherwise.
  void lower_reshape(std::size_t index) {
    const PlannedNode& node = planned(index);
    const std::string& x = node.node->inputs[0];
    const memory::desc plain = plain_desc(node.inputs[0].shape);
    const int slot = use_as(x, plain);
    define_value(output_of(index), slots_[slot].storage, plain_desc(node.outputs[0].shape));
    flush_exports();
  }

  // ---- int8 (QDQ) ----
  // A DequantizeLinear output stays an alias of its int8 source: int8 consumers read
  // the source directly; anything else gets the f32 value computed on first use.

  const QuantizedAlias* alias_of(const std::string& name) const {
    auto found = aliases_.find(name);
    return found == aliases_.end() ? nullptr : &found->second;
  }

  static memory::data_type type_of(const memory::desc& md) {
    return static_cast<memory::data_type>(md.data.data_type);
  }

  static memory::desc with_type(memory::desc md, memory::data_type type) {
    md.data.data_type = static_cast<dnnl_data_type_t>(type);
    return md;
  }

  void lower_dequantize(std::size_t index, const ActivationQuant& quant) {
    const std::string& output = output_of(index);
    aliases_[output] = QuantizedAlias{planned(index).node->inputs[0], quant};
    if (output_index_.count(output)) materialize(output);
  }

  // Computes a DequantizeLinear output in f32, in the layout of its int8 source.
  void materialize(const std::string& name) {
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

  void materialize_inputs(std::size_t index) {
    for (const std::string& name : planned(index).node->inputs) {
      if (!name.empty()) materialize(name);
    }
  }

  // QuantizeLinear of an f32 value, in its layout (except RGB images, emit_image_quantize):
  // oneDNN's reorder quantizing a plain NCHW image straight into channels-last takes twice
  // as long as quantizing then reordering the bytes.
  void lower_quantize(std::size_t index, const ActivationQuant& quant) {
    if (emit_image_quantize(index, quant)) return;
    const Value source = value(planned(index).node->inputs[0]);
    const memory::desc md = with_type(source.md, quant.type);
    dnnl::primitive_attr attr = base_attr();
    attr.set_output_scales(0, {1.0f / quant.scale});
    if (quant.zero_point != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {quant.zero_point});
    dnnl::reorder::primitive_desc pd(engine_, source.md, engine_, md, attr);
    const int from = activation_slot(source.storage, source.md);
    const int to = define_new(output_of(index), md);
    add_compute_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
                   pd.scratchpad_desc());
  }

  // A planar RGB f32 image quantized to u8 goes straight to channels-last, the layout
  // int8 convs read, in one pass of our own.
  bool emit_image_quantize(std::size_t index, const ActivationQuant& quant) {
    const Value source = value(planned(index).node->inputs[0]);
    const memory::dims dims = source.md.dims();
    if (!input_.own_int8_kernels || !image_quantize_available() ||
        quant.type != memory::data_type::u8 || dims.size() != 4 || dims[1] != 3 ||
        source.md != memory::desc(dims, memory::data_type::f32, memory::format_tag::abcd) ||
        quant.zero_point < 0 || quant.zero_point > 255 || !(quant.scale > 0.0f)) {
      return false;
    }
    const ImageQuantize job{dims[0], dims[2] * dims[3], 1.0f / quant.scale,
                            static_cast<std::uint8_t>(quant.zero_point)};
    const int from = activation_slot(source.storage, source.md);
    const int to = define_new(output_of(index),
                              memory::desc(dims, memory::data_type::u8, memory::format_tag::acdb));
    const int threads = input_.threads;
    add_compute_op({}, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, memory::desc(),
                   [job, threads](const ArgMap& bound) {
                     quantize_rgb_to_nhwc_u8(
                         job, static_cast<const float*>(bound.at(DNNL_ARG_FROM).get_data_handle()),
                         static_cast<std::uint8_t*>(bound.at(DNNL_ARG_TO).get_data_handle()),
                         threads);
                   });
    return true;
  }

  // Q(DQ(q)): the int8 source itself when the parameters agree, else one int8 reorder
  // q_out = s_in / s_out * (q - z_in) + z_out.
  bool lower_requantize(std::size_t index, const ActivationQuant& quant) {
    const QuantizedAlias* alias = alias_of(planned(index).node->inputs[0]);
    if (alias == nullptr) return false;
    const Value source = value(alias->source);
    if (alias->quant.scale == quant.scale && alias->quant.zero_point == quant.zero_point &&
        alias->quant.type == quant.type) {
      define_value(output_of(index), source.storage, source.md);
      flush_exports();
      return true;
    }
    const memory::desc md = with_type(source.md, quant.type);
    dnnl::primitive_attr attr = base_attr();
    attr.set_output_scales(0, {alias->quant.scale / quant.scale});
    if (alias->quant.zero_point != 0) {
      attr.set_zero_points(DNNL_ARG_SRC, 0, {alias->quant.zero_point});
    }
    if (quant.zero_point != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {quant.zero_point});
    dnnl::reorder::primitive_desc pd(engine_, source.md, engine_, md, attr);
    const int from = activation_slot(source.storage, source.md);
    const int to = define_new(output_of(index), md);
    add_compute_op(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
                   pd.scratchpad_desc());
    return true;
  }

  // Activations then (optionally) a QuantizeLinear that follow an int8 op.
  struct QuantizedChain {
    std::vector<std::size_t> nodes;
    std::vector<EltwiseOp> eltwise;        // in real units
    std::optional<ActivationQuant> quant;  // set when the chain ends in QuantizeLinear
    std::string output;

    memory::data_type dst_type() const { return quant ? quant->type : memory::data_type::f32; }
    float dst_scale() const { return quant ? quant->scale : 1.0f; }
  };

  QuantizedChain collect_quantized_chain(std::size_t anchor) const {
    QuantizedChain chain;
    chain.output = output_of(anchor);
    while (!is_graph_output(chain.output) && consumers(chain.output).size() == 1) {
      const std::size_t next = consumers(chain.output)[0];
      if (next <= anchor || !in_region(next) || !enabled_[next] || claimed_[next]) break;
      const PlannedNode& node = planned(next);
      if (node.node->inputs[0] != chain.output) break;
      if (auto quant = parse_quantize(node)) {
        if (quantized_activation(chain.eltwise, quant->scale, quant->zero_point)) {
          chain.quant = quant;
          chain.nodes.push_back(next);
          chain.output = output_of(next);
        }
        break;
      }
      auto activation = parse_activation(node);
      if (!activation) break;
      chain.eltwise.insert(chain.eltwise.end(), activation->begin(), activation->end());
      chain.nodes.push_back(next);
      chain.output = output_of(next);
    }
    return chain;
  }

  // Post-ops of an int8 op whose scaled result is in output units: alpha * v + beta
  // plus the output zero point as one linear op (oneDNN 2.6 mixes up the constants of
  // two linear post-ops in one primitive), then the activations as clips.
  static std::optional<dnnl::post_ops> quantized_post_ops(const QuantizedChain& chain, float alpha,
                                                          float beta) {
    const float zero = chain.quant ? static_cast<float>(chain.quant->zero_point) : 0.0f;
    std::vector<EltwiseOp> activations = chain.eltwise;
    if (chain.quant) {
      auto clips = quantized_activation(chain.eltwise, chain.quant->scale, chain.quant->zero_point);
      if (!clips) return std::nullopt;
      activations = *clips;
    }
    dnnl::post_ops post_ops;
    if (alpha != 1.0f || beta + zero != 0.0f) {
      for (const EltwiseOp& op : activations) {
        if (op.algorithm == algorithm::eltwise_linear) return std::nullopt;
      }
      post_ops.append_eltwise(1.0f, algorithm::eltwise_linear, alpha, beta + zero);
    }
    for (const EltwiseOp& op : activations) {
      post_ops.append_eltwise(1.0f, op.algorithm, op.alpha, op.beta);
    }
    return post_ops;
  }

  void claim_chain(const QuantizedChain& chain) {
    for (std::size_t node : chain.nodes) claimed_[node] = true;
  }

  // Output scales s_in * s_w[c] / s_out and the f32 bias in accumulator units, with the
  // input zero point folded in (sum_k z_in * w[c, k]) when `fold_zero_point`.
  struct Requantization {
    std::vector<float> scales;
    std::vector<float> bias;
  };

  static Requantization requantization(const ActivationQuant& input,
                                       const QuantizedWeights& weights,
                                       const std::vector<std::int8_t>& weights_by_channel,
                                       const Tensor* bias, std::int64_t channels, float dst_scale,
                                       bool fold_zero_point) {
    Requantization result;
    const std::size_t per_channel = weights_by_channel.size() / static_cast<std::size_t>(channels);
    for (std::int64_t c = 0; c < channels; ++c) {
      const double accumulator_scale = static_cast<double>(input.scale) * weights.scale(c);
      result.scales.push_back(static_cast<float>(accumulator_scale / dst_scale));
      double value = 0.0;
      const auto at = static_cast<std::size_t>(c);
      if (bias != nullptr && bias->dtype() == DType::i32) {
        value = bias->values<std::int32_t>()[at];  // QLinearConv: already accumulator units
      } else if (bias != nullptr && accumulator_scale > 0.0) {
        value = bias->values<float>()[at] / accumulator_scale;
      }
      if (fold_zero_point) {
        std::int64_t sum = 0;
        for (std::size_t i = 0; i < per_channel; ++i) {
          sum += weights_by_channel[static_cast<std::size_t>(c) * per_channel + i];
        }
        value -= static_cast<double>(input.zero_point) * static_cast<double>(sum);
      }
      result.bias.push_back(static_cast<float>(value));
    }
    return result;
  }

  memory scalar_s32(std::int32_t value) {
    memory result(memory::desc({1}, memory::data_type::s32, memory::format_tag::x), engine_);
    *static_cast<std::int32_t*>(result.get_data_handle()) = value;
    return result;
  }

  // The tail shared by int8 conv and inner product: packed s8 weights, f32 bias, the
  // runtime source zero point when the primitive applies it, the fused chain's output.
  template <typename Primitive, typename PrimitiveDesc>
  void add_int8_weighted_op(const PrimitiveDesc& pd, const QuantizedAlias& input,
                            const memory::desc& plain_weights,
                            const std::vector<std::int8_t>& weights, const std::vector<float>& bias,
                            bool runtime_zero_point, const QuantizedChain& chain) {
    std::vector<std::pair<int, int>> args = {
        {DNNL_ARG_SRC, use_as(input.source, pd.src_desc())},
        {DNNL_ARG_WEIGHTS, constant_slot(pack(pd.weights_desc(), plain_weights, weights.data()))},
        {DNNL_ARG_BIAS,
         constant_slot(pack(pd.bias_desc(), plain_desc({static_cast<std::int64_t>(bias.size())}),
                            bias.data()))}};
    if (runtime_zero_point) {
      args.emplace_back(DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC,
                        constant_slot(scalar_s32(input.quant.zero_point)));
    }
    claim_chain(chain);
    args.emplace_back(DNNL_ARG_DST, define_new(chain.output, pd.dst_desc()));
    add_compute_op(Primitive(pd), std::move(args), pd.scratchpad_desc());
  }

  static bool has_padding(const ConvSpec& spec) {
    for (std::int64_t pad : spec.pad_left) {
      if (pad != 0) return true;
    }
    for (std::int64_t pad : spec.pad_right) {
      if (pad != 0) return true;
    }
    return false;
  }

  // DQ(x) -> Conv(DQ(W_s8), DQ(B)) -> [Relu|Clip] -> [Q].
  bool lower_int8_conv(std::size_t index, const ConvSpec& spec) {
    const PlannedNode& node = planned(index);
    const std::optional<QuantizedWeights> weights =
        find_quantized_weights(input_.graph, node.node->inputs[1]);
    if (!weights || weights->values->shape() != spec.weights->shape() ||
        (weights->scales.size() != 1 && weights->axis != 0)) {
      return false;
    }
    return emit_int8_conv(index, spec, *alias_of(node.node->inputs[0]), *weights,
                          collect_quantized_chain(index));
  }

  // An int8 conv; spec.bias is f32 (real units) or int32 (accumulator units).
  bool emit_int8_conv(std::size_t index, const ConvSpec& spec, const QuantizedAlias& input,
                      const QuantizedWeights& weights, const QuantizedChain& chain) {
    if (!int8_products_exact(*weights.values)) return false;
    if (emit_depthwise_u8(index, spec, input, weights, chain)) return true;
    const PlannedNode& node = planned(index);
    const Shape& w = spec.weights->shape();
    // Padding holds the zero point, so only an unpadded conv can fold it into the bias.
    const bool runtime_zero_point = input.quant.zero_point != 0 && has_padding(spec);
    auto values = weights.values->values<std::int8_t>();
    const std::vector<std::int8_t> weight_values(values.begin(), values.end());
    const Requantization requant =
        requantization(input.quant, weights, weight_values, spec.bias, w[0], chain.dst_scale(),
                       input.quant.zero_point != 0 && !runtime_zero_point);
    const Shape weight_dims =
        spec.group == 1 ? w : Shape{spec.group, w[0] / spec.group, w[1], w[2], w[3]};
    const std::optional<dnnl::post_ops> post_ops = quantized_post_ops(chain, 1.0f, 0.0f);
    if (!post_ops) return false;
    dnnl::primitive_attr attr = base_attr();
    attr.set_output_scales(1 << 1, requant.scales);
    attr.set_post_ops(*post_ops);
    if (runtime_zero_point) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    const memory::desc src_md = value(input.source).md;
    const memory::desc dst_md(node.outputs[0].shape, chain.dst_type(), memory::format_tag::any);
    auto make_pd =
        [&](const memory::desc& src) -> std::optional<dnnl::convolution_forward::primitive_desc> {
      try {
        dnnl::convolution_forward::desc desc(
            prop_kind::forward_inference, algorithm::convolution_direct, src,
            memory::desc(weight_dims, memory::data_type::s8, memory::format_tag::any),
            plain_desc({w[0]}), dst_md, spec.strides, spec.dilations, spec.pad_left,
            spec.pad_right);
        return dnnl::convolution_forward::primitive_desc(desc, attr, engine_);
      } catch (const dnnl::error&) {
        return std::nullopt;
      }
    };
    std::optional<dnnl::convolution_forward::primitive_desc> pd = make_pd(src_md);
    if (!pd || is_reference_impl(*pd)) {
      pd = make_pd(memory::desc(src_md.dims(), type_of(src_md), memory::format_tag::any));
    }
    if (!pd) return false;
    add_int8_weighted_op<dnnl::convolution_forward>(
        *pd, input, plain_desc(weight_dims, memory::data_type::s8), weight_values, requant.bias,
        runtime_zero_point, chain);
    return true;
  }

  // The geometry of a 3x3 depthwise conv that DepthwiseConvU8 runs, if it is one.
  static std::optional<DepthwiseU8Shape> depthwise_u8_shape(const ConvSpec& spec, const Shape& x,
                                                            const Shape& y) {
    const Shape& w = spec.weights->shape();
    if (x.size() != 4 || w.size() != 4 || spec.group != x[1] || w[0] != x[1] || w[1] != 1 ||
        w[2] != 3 || w[3] != 3 || spec.strides.size() != 2 || spec.strides[0] != spec.strides[1] ||
        spec.dilations != Dims{0, 0}) {
      return std::nullopt;
    }
    const DepthwiseU8Shape shape{
        x[0], x[1], x[2], x[3], y[2], y[3], spec.strides[0], spec.pad_left[0], spec.pad_left[1]};
    // Below 32 channels most of each 64-byte vector idles. At 32 (MobileNetV2's first
    // block) ours is still faster in the model: 48 against oneDNN's 82 us at 1 thread.
    if (!DepthwiseConvU8::supports(shape) || shape.channels < 32) return std::nullopt;
    return shape;
  }

  // The output clamp of a u8 chain's activations, in quantized steps.
  static std::optional<std::pair<std::uint8_t, std::uint8_t>> u8_clamp(
      const QuantizedChain& chain) {
    const std::optional<std::vector<EltwiseOp>> clips =
        quantized_activation(chain.eltwise, chain.quant->scale, chain.quant->zero_point);
    if (!clips) return std::nullopt;
    const auto to_u8 = [](float bound) {
      return static_cast<int>(std::clamp(std::nearbyint(bound), 0.0f, 255.0f));
    };
    int low = 0;
    int high = 255;
    for (const EltwiseOp& clip : *clips) {
      // round(clip(v, a, b)) = clip(round(v), round(a), round(b)): rounding is monotonic.
      low = std::clamp(low, to_u8(clip.alpha), to_u8(clip.beta));
      high = std::clamp(high, to_u8(clip.alpha), to_u8(clip.beta));
    }
    return std::pair{static_cast<std::uint8_t>(low), static_cast<std::uint8_t>(high)};
  }

  // A u8 -> u8 3x3 depthwise conv runs on our VNNI kernel (channels-last) rather than
  // oneDNN 2.6's, which is barely faster in int8 than in f32.
  bool emit_depthwise_u8(std::size_t index, const ConvSpec& spec, const QuantizedAlias& input,
                         const QuantizedWeights& weights, const QuantizedChain& chain) {
    const PlannedNode& node = planned(index);
    if (input.quant.type != memory::data_type::u8 || !chain.quant ||
        chain.quant->type != memory::data_type::u8 || !input_.own_int8_kernels) {
      return false;
    }
    const std::optional<DepthwiseU8Shape> shape =
        depthwise_u8_shape(spec, node.inputs[0].shape, node.outputs[0].shape);
    const auto clamp = u8_clamp(chain);
    if (!shape || !clamp) return false;
    auto values = weights.values->values<std::int8_t>();
    const std::vector<std::int8_t> weight_values(values.begin(), values.end());
    // Padding reads the input zero point, so folding z_in * sum(w) is exact everywhere.
    const Requantization requant = requantization(input.quant, weights, weight_values, spec.bias,
                                                  shape->channels, chain.dst_scale(), true);
    DepthwiseU8Requant params;
    params.input_zero_point = static_cast<std::uint8_t>(input.quant.zero_point);
    params.scale = requant.scales;
    for (std::size_t c = 0; c < requant.scales.size(); ++c) {
      params.offset.push_back(requant.bias[c] * requant.scales[c] +
                              static_cast<float>(chain.quant->zero_point));
    }
    std::tie(params.min, params.max) = *clamp;
    auto kernel = std::make_shared<const DepthwiseConvU8>(*shape, weight_values, params);
    packed_weight_bytes_ += kernel->packed_bytes();
    custom_workspace_bytes_ += kernel->workspace_bytes();
    const memory::desc src_md(node.inputs[0].shape, memory::data_type::u8,
                              memory::format_tag::acdb);
    const memory::desc dst_md(node.outputs[0].shape, memory::data_type::u8,
                              memory::format_tag::acdb);
    std::vector<std::pair<int, int>> args = {{DNNL_ARG_SRC, use_as(input.source, src_md)}};
    claim_chain(chain);
    args.emplace_back(DNNL_ARG_DST, define_new(chain.output, dst_md));
    const int threads = input_.threads;
    add_compute_op({}, std::move(args), memory::desc(), [kernel, threads](const ArgMap& bound) {
      kernel->run(static_cast<const std::uint8_t*>(bound.at(DNNL_ARG_SRC).get_data_handle()),
                  static_cast<std::uint8_t*>(bound.at(DNNL_ARG_DST).get_data_handle()), threads);
    });
    return true;
  }

  // s8 weights of a Gemm/MatMul as [N, K] rows, the inner product's layout.
  static std::optional<std::vector<std::int8_t>> int8_weights_nk(const GemmSpec& spec,
                                                                 const QuantizedWeights& weights) {
    const std::int64_t n_axis = spec.weights_transposed ? 0 : 1;
    if (weights.values->shape() != spec.weights->shape() ||
        (weights.scales.size() != 1 && weights.axis != n_axis)) {
      return std::nullopt;
    }
    auto values = weights.values->values<std::int8_t>();
    if (spec.weights_transposed) return std::vector<std::int8_t>(values.begin(), values.end());
    return transposed_kn<std::int8_t>(values, weights.values->dim(0), weights.values->dim(1));
  }

  bool lower_int8_gemm(std::size_t index, const GemmSpec& spec) {
    const PlannedNode& node = planned(index);
    const std::optional<QuantizedWeights> weights =
        find_quantized_weights(input_.graph, node.node->inputs[1]);
    if (!weights) return false;
    return emit_int8_gemm(index, spec, *alias_of(node.node->inputs[0]), *weights,
                          collect_quantized_chain(index));
  }

  bool emit_int8_gemm(std::size_t index, const GemmSpec& spec, const QuantizedAlias& input,
                      const QuantizedWeights& weights, const QuantizedChain& chain) {
    if (!int8_products_exact(*weights.values)) return false;
    const PlannedNode& node = planned(index);
    if (value(input.source).md.dims().size() != 2) return false;
    const std::optional<std::vector<std::int8_t>> weight_values = int8_weights_nk(spec, weights);
    if (!weight_values) return false;
    const std::int64_t n = node.outputs[0].shape[1];
    const std::int64_t k = node.inputs[0].shape[1];
    const Requantization requant =
        requantization(input.quant, weights, *weight_values, spec.bias, n, chain.dst_scale(),
                       input.quant.zero_point != 0);
    const std::optional<dnnl::post_ops> post_ops = quantized_post_ops(chain, 1.0f, 0.0f);
    if (!post_ops) return false;
    dnnl::primitive_attr attr = base_attr();
    attr.set_output_scales(1 << 1, requant.scales);
    attr.set_post_ops(*post_ops);
    std::optional<dnnl::inner_product_forward::primitive_desc> pd;
    try {
      dnnl::inner_product_forward::desc desc(
          prop_kind::forward_inference,
          memory::desc(node.inputs[0].shape, input.quant.type, memory::format_tag::any),
          memory::desc({n, k}, memory::data_type::s8, memory::format_tag::any), plain_desc({n}),
          memory::desc(node.outputs[0].shape, chain.dst_type(), memory::format_tag::any));
      pd.emplace(desc, attr, engine_);
    } catch (const dnnl::error&) {
      return false;
    }
    add_int8_weighted_op<dnnl::inner_product_forward>(*pd, input,
                                                      plain_desc({n, k}, memory::data_type::s8),
                                                      *weight_values, requant.bias, false, chain);
    return true;
  }

  // Pooling commutes with the affine map: q_out = s_in/s_out * (pool(q_in) - z_in) + z_out.
  bool lower_int8_pool(std::size_t index, const PoolSpec& spec) {
    const PlannedNode& node = planned(index);
    const QuantizedAlias input = *alias_of(node.node->inputs[0]);
    const QuantizedChain chain = collect_quantized_chain(index);
    if (!chain.quant) return false;
    const float ratio = input.quant.scale / chain.quant->scale;
    const std::optional<dnnl::post_ops> post_ops =
        quantized_post_ops(chain, ratio, -static_cast<float>(input.quant.zero_point) * ratio);
    if (!post_ops) return false;
    dnnl::primitive_attr attr = base_attr();
    attr.set_post_ops(*post_ops);
    const memory::desc src_md = value(input.source).md;
    std::optional<dnnl::pooling_v2_forward::primitive_desc> pd;
    try {
      dnnl::pooling_v2_forward::desc desc(
          prop_kind::forward_inference, spec.algorithm, src_md,
          memory::desc(node.outputs[0].shape, chain.quant->type, memory::format_tag::any),
          spec.strides, spec.kernel, spec.dilations, spec.pad_left, spec.pad_right);
      pd.emplace(desc, attr, engine_);
    } catch (const dnnl::error&) {
      return false;
    }
    std::vector<std::pair<int, int>> args = {{DNNL_ARG_SRC, use_as(input.source, src_md)}};
    claim_chain(chain);
    args.emplace_back(DNNL_ARG_DST, define_new(chain.output, pd->dst_desc()));
    add_compute_op(dnnl::pooling_v2_forward(*pd), std::move(args), pd->scratchpad_desc());
    return true;
  }

  // DQ(a) + DQ(b): binary add with per-input scales s_a/s_out and s_b/s_out, then the
  // constant -(s_a*z_a + s_b*z_b)/s_out, the activations and the output zero point.
  bool lower_int8_add(std::size_t index) {
    const PlannedNode& node = planned(index);
    const QuantizedAlias* a = alias_of(node.node->inputs[0]);
    const QuantizedAlias* b = alias_of(node.node->inputs[1]);
    if (a == nullptr || b == nullptr) return false;
    const QuantizedChain chain = collect_quantized_chain(index);
    const float out_scale = chain.dst_scale();
    const double offset = -(static_cast<double>(a->quant.scale) * a->quant.zero_point +
                            static_cast<double>(b->quant.scale) * b->quant.zero_point) /
                          out_scale;
    const memory::desc a_md = value(a->source).md;
    const memory::desc b_md = with_type(a_md, type_of(value(b->source).md));
    const memory::desc dst_md = with_type(a_md, chain.dst_type());
    dnnl::primitive_attr attr = base_attr();
    attr.set_scales(DNNL_ARG_SRC_0, 0, {a->quant.scale / out_scale});
    attr.set_scales(DNNL_ARG_SRC_1, 0, {b->quant.scale / out_scale});
    const std::optional<dnnl::post_ops> post_ops =
        quantized_post_ops(chain, 1.0f, static_cast<float>(offset));
    if (!post_ops) return false;
    attr.set_post_ops(*post_ops);
    std::optional<dnnl::binary::primitive_desc> pd;
    try {
      pd.emplace(dnnl::binary::desc(algorithm::binary_add, a_md, b_md, dst_md), attr, engine_);
    } catch (const dnnl::error&) {
      return false;
    }
    std::vector<std::pair<int, int>> args = {{DNNL_ARG_SRC_0, use_as(a->source, a_md)},
                                             {DNNL_ARG_SRC_1, use_as(b->source, b_md)}};
    claim_chain(chain);
    args.emplace_back(DNNL_ARG_DST, define_new(chain.output, dst_md));
    add_compute_op(dnnl::binary(*pd), std::move(args), pd->scratchpad_desc());
    return true;
  }

  // Flatten/Reshape of a dequantized value reshapes the int8 source instead.
  bool lower_int8_reshape(std::size_t index) {
    const PlannedNode& node = planned(index);
    const QuantizedAlias input = *alias_of(node.node->inputs[0]);
    const memory::data_type type = type_of(value(input.source).md);
    const int slot = use_as(input.source, plain_desc(node.inputs[0].shape, type));
    const std::string reshaped = output_of(index) + "#int8";
    define_value(reshaped, slots_[slot].storage, plain_desc(node.outputs[0].shape, type));
    flush_exports();
    aliases_[output_of(index)] = QuantizedAlias{reshaped, input.quant};
    if (output_index_.count(output_of(index))) materialize(output_of(index));
    return true;
  }

  // QLinearConv / QLinearMatMul: the same int8 primitives, parameters from the node.
  bool lower_qlinear(std::size_t index, const QLinearSpec& spec) {
    const PlannedNode& node = planned(index);
    const QuantizedAlias input{node.node->inputs[0], spec.input};
    QuantizedChain chain;
    chain.quant = spec.output;
    chain.output = output_of(index);
    if (node.node->op_type == "QLinearConv") {
      ConvSpec conv;
      conv.weights = spec.weights.values;
      conv.bias = spec.bias;
      const std::optional<ConvSpec> geometry =
          parse_conv_geometry(*node.node, node.inputs[0].shape, node.outputs[0].shape, conv);
      return geometry && emit_int8_conv(index, *geometry, input, spec.weights, chain);
    }
    if (node.inputs[0].shape.size() != 2 || node.outputs[0].shape.size() != 2) return false;
    GemmSpec gemm;
    gemm.weights = spec.weights.values;
    return emit_int8_gemm(index, gemm, input, spec.weights, chain);
  }

  // Ops reading a dequantized value as input 0 that run on the int8 source.
  bool lower_int8_node(std::size_t index) {
    const PlannedNode& node = planned(index);
    if (node.node->inputs.empty() || alias_of(node.node->inputs[0]) == nullptr) return false;
    if (auto conv = parse_conv(node)) return lower_int8_conv(index, *conv);
    if (auto gemm = parse_gemm(node)) return lower_int8_gemm(index, *gemm);
    if (auto pool = parse_pool(node)) return lower_int8_pool(index, *pool);
    if (is_same_shape_add(node)) return lower_int8_add(index);
    if (is_free_reshape(node)) return lower_int8_reshape(index);
    return false;
  }

  // ---- finishing ----

  // Greedy offsets, largest first: a buffer goes at the lowest offset that does not
  // overlap any placed buffer whose live range intersects its own.
  std::size_t assign_offsets() {
    std::vector<int> order;
    for (std::size_t i = 0; i < storages_.size(); ++i) {
      const Storage& storage = storages_[i];
      if (storage.input_index < 0 && storage.output_index < 0 && storage.first_op >= 0) {
        order.push_back(static_cast<int>(i));
      }
    }
    std::stable_sort(order.begin(), order.end(), [&](int left, int right) {
      return storages_[left].bytes > storages_[right].bytes;
    });
    std::vector<int> placed;
    std::size_t total = 0;
    for (int id : order) {
      Storage& storage = storages_[id];
      std::vector<std::pair<std::size_t, std::size_t>> busy;
      for (int other_id : placed) {
        const Storage& other = storages_[other_id];
        if (other.first_op <= storage.last_op && storage.first_op <= other.last_op) {
          busy.emplace_back(other.offset, other.offset + align_up(other.bytes));
        }
      }
      std::sort(busy.begin(), busy.end());
      std::size_t offset = 0;
      for (const auto& [begin, end] : busy) {
        if (offset + align_up(storage.bytes) <= begin) break;
        offset = std::max(offset, end);
      }
      storage.offset = offset;
      total = std::max(total, offset + align_up(storage.bytes));
      placed.push_back(id);
    }
    return total;
  }

  Step finish() {
    auto kernel = std::make_unique<RegionKernel>(engine_);
    kernel->arena_bytes_ = assign_offsets();
    kernel->arena_ = allocate_aligned(kernel->arena_bytes_);
    std::size_t scratchpad = 0;
    for (const PendingOp& op : ops_) scratchpad = std::max(scratchpad, op.scratchpad.get_size());
    kernel->scratchpad_bytes_ = scratchpad;
    kernel->scratchpad_ = allocate_aligned(scratchpad);
    kernel->packed_weight_bytes_ = packed_weight_bytes_;
    kernel->custom_workspace_bytes_ = custom_workspace_bytes_;
    kernel->input_count_ = step_.inputs.size();
    kernel->output_count_ = step_.outputs.size();

    std::vector<memory> memories;
    for (const Slot& slot : slots_) memories.push_back(make_memory(slot, *kernel));
    for (PendingOp& op : ops_) {
      CompiledOp compiled{std::move(op.primitive), {}, std::move(op.custom)};
      for (const auto& [arg, slot] : op.args) compiled.args.emplace(arg, memories[slot]);
      if (op.scratchpad.get_size() > 0) {
        compiled.args.emplace(DNNL_ARG_SCRATCHPAD,
                              memory(op.scratchpad, engine_, kernel->scratchpad_.get()));
      }
      kernel->ops_.push_back(std::move(compiled));
    }
    step_.kernel = std::move(kernel);
    for (std::size_t index = first_; index < last_; ++index) step_.nodes.push_back(index);
    step_.backend = "onednn";
    step_.label = fmt::format("oneDNN region '{}'..'{}' ({} nodes, {} primitives)",
                              planned(first_).node->name, planned(last_ - 1).node->name,
                              last_ - first_, ops_.size());
    return std::move(step_);
  }

  memory make_memory(const Slot& slot, RegionKernel& kernel) {
    if (slot.storage < 0) return slot.owned;
    const Storage& storage = storages_[slot.storage];
    if (storage.input_index >= 0 || storage.output_index >= 0) {
      memory handle(slot.md, engine_, DNNL_MEMORY_NONE);
      const bool is_input = storage.input_index >= 0;
      auto& bindings = is_input ? kernel.input_bindings_ : kernel.output_bindings_;
      bindings.push_back(ExternalBinding{
          handle, static_cast<std::size_t>(is_input ? storage.input_index : storage.output_index)});
      return handle;
    }
    return memory(slot.md, engine_, kernel.arena_.get() + storage.offset);
  }

  const LoweringInput& input_;
  bool prefer_blocked_ = false;  // the region has Winograd convs (blocked layout)
  std::size_t first_;
  std::size_t last_;
  const std::vector<bool>& enabled_;
  std::vector<bool> claimed_;
  dnnl::engine engine_;
  Step step_;
  std::map<std::string, std::size_t> output_index_;
  std::map<std::string, Value> values_;
  std::vector<Storage> storages_;
  std::vector<Slot> slots_;
  std::vector<PendingOp> ops_;
  std::size_t packed_weight_bytes_ = 0;
  std::size_t custom_workspace_bytes_ = 0;
  struct PendingExport {
    int from;
    int to;
    dnnl::reorder::primitive_desc pd;
  };
  std::vector<PendingExport> pending_exports_;
  std::map<std::string, QuantizedAlias> aliases_;
};

}  // namespace

Step build_region(const LoweringInput& input, std::size_t first, std::size_t last,
                  const std::vector<bool>& enabled) {
  return RegionBuilder(input, first, last, enabled).build();
}

}  // namespace edgeperf::runtime::onednn
