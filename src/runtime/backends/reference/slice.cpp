// Slice: starts/ends/axes/steps as constant inputs (opset 10+) or attributes (opset 1),
// with negative, clamped and INT_MAX bounds and negative steps.
#include <algorithm>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct SliceView {
  Shape output;
  std::vector<std::int64_t> strides;  // input element strides per output dim
  std::int64_t offset = 0;
};

std::vector<std::int64_t> slice_param(const PrepareContext& context, std::size_t index,
                                      const char* name) {
  if (context.inputs.size() > 1) {
    return context.has_input(index) ? constant_ints(context, index, name)
                                    : std::vector<std::int64_t>{};
  }
  return context.node.attr_ints(name);
}

SliceView slice_view(const PrepareContext& context) {
  const graph::Node& node = context.node;
  check_input_count(context, 1, 5);
  EP_CHECK(context.inputs.size() == 1 || context.inputs.size() >= 3,
           "node {}: expects data, starts and ends", node.label());
  const Shape& input = context.inputs[0].shape;
  const auto rank = static_cast<std::int64_t>(input.size());
  const auto starts = slice_param(context, 1, "starts");
  const auto ends = slice_param(context, 2, "ends");
  auto axes = slice_param(context, 3, "axes");
  auto steps = slice_param(context, 4, "steps");
  EP_CHECK(starts.size() == ends.size(), "node {}: starts and ends differ in length", node.label());
  if (axes.empty()) {
    for (std::size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<std::int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  EP_CHECK(axes.size() == starts.size() && steps.size() == starts.size(),
           "node {}: starts, ends, axes and steps differ in length", node.label());
  axes = normalize_axes(node, axes, rank);
  SliceView view;
  view.output = input;
  view.strides = contiguous_strides(input);
  std::vector<std::int64_t> begin(input.size(), 0);
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const auto axis = static_cast<std::size_t>(axes[i]);
    const std::int64_t dim = input[axis];
    const std::int64_t step = steps[i];
    EP_CHECK(step != 0 && step >= -kMaxParameter && step <= kMaxParameter,
             "node {}: step {} on axis {} is invalid", node.label(), step, axis);
    std::int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    std::int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
    std::int64_t count = 0;
    if (step > 0) {
      start = std::clamp<std::int64_t>(start, 0, dim);
      end = std::clamp<std::int64_t>(end, 0, dim);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<std::int64_t>(start, 0, dim - 1);
      end = std::clamp<std::int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end - step - 1) / -step : 0;
    }
    view.output[axis] = count;
    begin[axis] = count > 0 ? start : 0;
    view.strides[axis] *= step;
  }
  const std::vector<std::int64_t> dense = contiguous_strides(input);
  for (std::size_t d = 0; d < input.size(); ++d) view.offset += begin[d] * dense[d];
  return view;
}

}  // namespace

void infer_slice(PrepareContext& context) {
  const SliceView view = slice_view(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, view.output);
}

std::unique_ptr<Kernel> create_slice(const PrepareContext& context) {
  const SliceView view = slice_view(context);
  const std::size_t size = dtype_size(context.inputs[0].dtype);
  return make_kernel([view, size](std::span<const Tensor> in, std::span<Tensor> out) {
    copy_strided(static_cast<const std::byte*>(in[0].raw()), view.offset, view.strides, view.output,
                 size, static_cast<std::byte*>(out[0].raw()));
  });
}

}  // namespace edgeperf::runtime::reference
