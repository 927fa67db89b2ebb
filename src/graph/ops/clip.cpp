#include "edgeperf/graph/ops/clip.h"

#include <fmt/format.h>

#include "edgeperf/core/error.h"

namespace edgeperf::graph::ops {
namespace {

const char* attribute_name(ClipBound bound) { return bound == ClipBound::min ? "min" : "max"; }

std::optional<float> attribute_bound(const Node& clip, ClipBound bound) {
  const char* key = attribute_name(bound);
  if (!clip.has_attr(key)) return std::nullopt;
  return clip.attr_float(key, 0.0f);
}

}  // namespace

ConstantLookup initializers_of(const Graph& graph) {
  return [&graph](const std::string& value) -> const Tensor* {
    const auto found = graph.initializers.find(value);
    return found == graph.initializers.end() ? nullptr : &found->second;
  };
}

std::variant<std::optional<float>, std::string> read_clip_bound(std::int64_t opset,
                                                                const ConstantLookup& constant,
                                                                const Node& clip, ClipBound bound) {
  if (!clip_bounds_are_inputs(opset)) return attribute_bound(clip, bound);
  const auto index = static_cast<std::size_t>(bound);
  if (!clip.has_input(index)) return std::optional<float>();
  const Tensor* value = constant(clip.inputs[index]);
  if (value == nullptr || value->numel() != 1) {
    return fmt::format("Clip {} '{}' is not a constant scalar", attribute_name(bound),
                       clip.inputs[index]);
  }
  return std::optional<float>(static_cast<float>(value->to_doubles()[0]));
}

std::variant<std::optional<float>, std::string> read_clip_bound(const Graph& graph,
                                                                const Node& clip, ClipBound bound) {
  return read_clip_bound(graph.opset, initializers_of(graph), clip, bound);
}

std::variant<ClipBounds, std::string> ClipBounds::read(const Graph& graph, const Node& clip) {
  return read(graph.opset, initializers_of(graph), clip);
}

std::variant<ClipBounds, std::string> ClipBounds::read(std::int64_t opset,
                                                       const ConstantLookup& constant,
                                                       const Node& clip) {
  ClipBounds bounds;
  for (ClipBound bound : {ClipBound::min, ClipBound::max}) {
    auto value = read_clip_bound(opset, constant, clip, bound);
    if (auto* why = std::get_if<std::string>(&value)) return *why;
    (bound == ClipBound::min ? bounds.min : bounds.max) = std::get<std::optional<float>>(value);
  }
  return bounds;
}

ClipBounds ClipBounds::from_attributes(const Node& clip) {
  return ClipBounds{attribute_bound(clip, ClipBound::min), attribute_bound(clip, ClipBound::max)};
}

void ClipBounds::write_to(Node& clip, Editor& editor, const std::string& name_base) const {
  EP_CHECK(min && max, "node {}: Clip bounds to write need both min and max", clip.label());
  if (!clip_bounds_are_inputs(editor.graph().opset)) {
    clip.attrs["min"] = *min;
    clip.attrs["max"] = *max;
    return;
  }
  clip.inputs.resize(1);
  clip.inputs.push_back(
      editor.add_initializer(name_base + "/clip_min", make_tensor<float>({}, {*min})));
  clip.inputs.push_back(
      editor.add_initializer(name_base + "/clip_max", make_tensor<float>({}, {*max})));
}

}  // namespace edgeperf::graph::ops
