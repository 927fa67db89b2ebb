#pragma once
// Clip's bounds, which moved with opset 11: attributes `min`/`max` before it, optional
// inputs 1 and 2 from it on.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "edgeperf/graph/editor.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::graph::ops {

enum class ClipBound { min = 1, max = 2 };  // the value is the input index from opset 11

inline bool clip_bounds_are_inputs(std::int64_t opset) { return opset >= 11; }

// The value a name holds when it is known before running (an initializer, or a value a
// session folded); null otherwise.
using ConstantLookup = std::function<const Tensor*(const std::string& value)>;
// The graph's initializers.
ConstantLookup initializers_of(const Graph& graph);

// One bound of `clip` as `opset` places it: nullopt when absent (unbounded), a reason
// when it is an input that is not a constant scalar.
std::variant<std::optional<float>, std::string> read_clip_bound(std::int64_t opset,
                                                                const ConstantLookup& constant,
                                                                const Node& clip, ClipBound bound);
// The same in `graph`, whose constants are its initializers.
std::variant<std::optional<float>, std::string> read_clip_bound(const Graph& graph,
                                                                const Node& clip, ClipBound bound);

struct ClipBounds {
  std::optional<float> min, max;  // absent: unbounded on that side

  // Both bounds of `clip` in `graph` (see read_clip_bound), or the first reason.
  static std::variant<ClipBounds, std::string> read(const Graph& graph, const Node& clip);
  static std::variant<ClipBounds, std::string> read(std::int64_t opset,
                                                    const ConstantLookup& constant,
                                                    const Node& clip);
  // The bounds given as `min`/`max` attributes (any opset; inputs are not looked at).
  static ClipBounds from_attributes(const Node& clip);
  bool has_any() const { return min.has_value() || max.has_value(); }

  // Sets both bounds (which must be present) on `clip` the way the editor's graph opset
  // wants: attributes, or new scalar initializers named after `name_base` + "/clip_min"|max.
  void write_to(Node& clip, Editor& editor, const std::string& name_base) const;
};

}  // namespace edgeperf::graph::ops
