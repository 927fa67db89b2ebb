// Pad: pads as a constant input (opset 11+) or attribute, modes constant/reflect/edge/wrap,
// optional constant_value input and axes input (opset 18). Negative pads crop.
#include <cstring>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

enum class PadMode { constant, reflect, edge, wrap };

struct PadPlan {
  PadMode mode = PadMode::constant;
  Shape input;
  Shape output;
  // Per dim, per output index: input index, or -1 for the constant value.
  std::vector<std::vector<std::int64_t>> source;
  bool value_input = false;  // constant_value comes from input 2
  float value_attr = 0.0f;
};

std::int64_t source_index(PadMode mode, std::int64_t index, std::int64_t size) {
  if (index >= 0 && index < size) return index;
  if (mode == PadMode::constant || size == 0) return -1;
  if (mode == PadMode::edge) return index < 0 ? 0 : size - 1;
  if (mode == PadMode::wrap) return ((index % size) + size) % size;
  if (size == 1) return 0;
  const std::int64_t period = 2 * (size - 1);
  index = ((index % period) + period) % period;
  return index < size ? index : period - index;
}

PadPlan pad_plan(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 1, 4);
  PadPlan plan;
  plan.input = context.inputs[0].shape;
  const auto rank = static_cast<std::int64_t>(plan.input.size());
  const std::string mode = node.attr_string("mode", "constant");
  if (mode == "constant")
    plan.mode = PadMode::constant;
  else if (mode == "reflect")
    plan.mode = PadMode::reflect;
  else if (mode == "edge")
    plan.mode = PadMode::edge;
  else if (mode == "wrap")
    plan.mode = PadMode::wrap;
  else
    fail("node {}: unknown mode '{}'", node.label(), mode);
  std::vector<std::int64_t> pads =
      context.inputs.size() > 1 ? constant_ints(context, 1, "pads") : node.attr_ints("pads");
  std::vector<std::int64_t> axes;
  if (context.has_input(3)) {
    axes = normalize_axes(node, constant_ints(context, 3, "axes"), rank);
  } else {
    for (std::int64_t i = 0; i < rank; ++i) axes.push_back(i);
  }
  const std::size_t count = axes.size();
  EP_CHECK(pads.size() == 2 * count, "node {}: pads has {} values, expected {}", node.label(),
           pads.size(), 2 * count);
  for (std::int64_t pad : pads) {
    EP_CHECK(pad >= -kMaxParameter && pad <= kMaxParameter, "node {}: pad {} is out of range",
             node.label(), pad);
  }
  std::vector<std::int64_t> begin(plan.input.size(), 0), end(plan.input.size(), 0);
  for (std::size_t i = 0; i < count; ++i) {
    begin[static_cast<std::size_t>(axes[i])] = pads[i];
    end[static_cast<std::size_t>(axes[i])] = pads[i + count];
  }
  if (context.has_input(2) && context.inputs[2].numel() > 0) {
    check_same_dtype(context, 0, 2);
    plan.value_input = true;
  }
  plan.value_attr = node.attr_float("value", 0.0f);
  for (std::size_t d = 0; d < plan.input.size(); ++d) {
    const std::int64_t size = plan.input[d] + begin[d] + end[d];
    EP_CHECK(size >= 0, "node {}: pads make dim {} negative", node.label(), d);
    EP_CHECK(plan.mode == PadMode::constant || plan.input[d] > 0 || size == 0,
             "node {}: cannot pad an empty dim in mode '{}'", node.label(), mode);
    plan.output.push_back(size);
    std::vector<std::int64_t> source(static_cast<std::size_t>(size));
    for (std::int64_t o = 0; o < size; ++o) {
      source[static_cast<std::size_t>(o)] = source_index(plan.mode, o - begin[d], plan.input[d]);
    }
    plan.source.push_back(std::move(source));
  }
  return plan;
}

template <typename T>
void run_pad(const PadPlan& plan, const T* in, T value, T* out) {
  const std::size_t rank = plan.output.size();
  const std::int64_t total = element_count(plan.output);
  if (total == 0) return;
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const std::vector<std::int64_t> strides = contiguous_strides(plan.input);
  std::vector<std::int64_t> index(rank, 0);
  const std::vector<std::int64_t>& last = plan.source[rank - 1];
  const std::int64_t inner = plan.output[rank - 1];
  for (std::int64_t row = 0; row < total / inner; ++row) {
    std::int64_t offset = 0;
    bool fill = false;
    for (std::size_t d = 0; d + 1 < rank; ++d) {
      const std::int64_t s = plan.source[d][static_cast<std::size_t>(index[d])];
      if (s < 0) fill = true;
      offset += s * strides[d];
    }
    for (std::int64_t i = 0; i < inner; ++i) {
      const std::int64_t s = last[static_cast<std::size_t>(i)];
      out[i] = (fill || s < 0) ? value : in[offset + s];
    }
    out += inner;
    for (std::size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < plan.output[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

void infer_pad(PrepareContext& context) {
  const PadPlan plan = pad_plan(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, plan.output);
}

std::unique_ptr<Kernel> create_pad(const PrepareContext& context) {
  const PadPlan plan = pad_plan(context);
  const DType dtype = context.inputs[0].dtype;
  const graph::Node node = context.node;
  return make_kernel([plan, dtype, node](std::span<const Tensor> in, std::span<Tensor> out) {
    if (dtype == DType::boolean) {
      const bool value = plan.value_input && *in[2].data<bool>();
      run_pad<bool>(plan, in[0].data<bool>(), value, out[0].data<bool>());
      return;
    }
    if (dtype == DType::f16) {
      const std::uint16_t value =
          plan.value_input ? *in[2].data<std::uint16_t>() : float_to_half(plan.value_attr);
      run_pad<std::uint16_t>(plan, in[0].data<std::uint16_t>(), value,
                             out[0].data<std::uint16_t>());
      return;
    }
    dispatch_numeric(node, dtype, [&](auto tag) {
      using T = decltype(tag);
      T value = 0;
      if (plan.value_input)
        value = *static_cast<const T*>(in[2].raw());
      else if constexpr (std::is_floating_point_v<T>)
        value = plan.value_attr;
      run_pad<T>(plan, static_cast<const T*>(in[0].raw()), value, static_cast<T*>(out[0].raw()));
    });
  });
}

}  // namespace edgeperf::runtime::reference
