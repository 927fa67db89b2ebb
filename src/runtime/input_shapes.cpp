#include "edgeperf/runtime/input_shapes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>

#include "edgeperf/core/error.h"

namespace edgeperf::runtime {
namespace {

std::string input_names(const graph::Graph& graph) {
  std::string names;
  for (const graph::ValueInfo& input : graph.inputs)
    names += (names.empty() ? "" : ", ") + input.name;
  return names.empty() ? "none" : names;
}

const graph::ValueInfo* find_input(const graph::Graph& graph, const std::string& name) {
  for (const graph::ValueInfo& input : graph.inputs) {
    if (input.name == name) return &input;
  }
  return nullptr;
}

std::string dim_name(const graph::Dim& dim) { return dim.symbol.empty() ? "?" : dim.symbol; }

class DimBindings {
 public:
  void bind(const std::string& symbol, std::int64_t size, const std::string& input) {
    if (symbol.empty()) return;
    const auto [entry, inserted] = sizes_.emplace(symbol, std::make_pair(size, input));
    EP_CHECK(inserted || entry->second.first == size,
             "dim '{}' is {} in input '{}' but {} in input '{}'", symbol, entry->second.first,
             entry->second.second, size, input);
  }
  std::optional<std::int64_t> find(const std::string& symbol) const {
    const auto found = sizes_.find(symbol);
    if (symbol.empty() || found == sizes_.end()) return std::nullopt;
    return found->second.first;
  }

 private:
  std::map<std::string, std::pair<std::int64_t, std::string>> sizes_;
};

void check_given(const graph::ValueInfo& input, const Shape& shape) {
  if (!input.has_shape) return;
  EP_CHECK(shape.size() == input.dims.size(),
           "input '{}' is given rank {} ({}) but the model has {}", input.name, shape.size(),
           shape_to_string(shape), input.to_string());
  for (std::size_t i = 0; i < shape.size(); ++i) {
    EP_CHECK(shape[i] >= 0, "input '{}' is given a negative dim in {}", input.name,
             shape_to_string(shape));
    EP_CHECK(!input.dims[i].is_static() || input.dims[i].size == shape[i],
             "input '{}' is given {} but the model fixes dim {} to {} ({})", input.name,
             shape_to_string(shape), i, input.dims[i].size, input.to_string());
  }
}

}  // namespace

BoundInputShapes bind_input_shapes(const graph::Graph& graph,
                                   const std::map<std::string, Shape>& given,
                                   std::int64_t batch_default) {
  DimBindings bindings;
  for (const auto& [name, shape] : given) {
    const graph::ValueInfo* input = find_input(graph, name);
    EP_CHECK(input != nullptr, "the model has no input '{}' (its inputs: {})", name,
             input_names(graph));
    check_given(*input, shape);
    if (!input->has_shape) continue;
    for (std::size_t i = 0; i < shape.size(); ++i)
      bindings.bind(input->dims[i].symbol, shape[i], name);
  }
  BoundInputShapes bound;
  for (const graph::ValueInfo& input : graph.inputs) {
    if (const auto found = given.find(input.name); found != given.end()) {
      bound.shapes[input.name] = found->second;
      continue;
    }
    if (!input.has_shape) {
      bound.unbound.push_back(
          fmt::format("input '{}' has no shape in the model; give one with --shape {}=DIMS",
                      input.name, input.name));
      continue;
    }
    Shape shape;
    std::vector<std::string> open;
    for (std::size_t i = 0; i < input.dims.size(); ++i) {
      const graph::Dim& dim = input.dims[i];
      if (dim.is_static()) {
        shape.push_back(dim.size);
      } else if (const auto size = bindings.find(dim.symbol)) {
        shape.push_back(*size);
      } else if (i == 0) {
        shape.push_back(batch_default);
        bindings.bind(dim.symbol, batch_default, input.name);
        bound.notes.push_back(fmt::format("input '{}': batch dim '{}' set to {}", input.name,
                                          dim_name(dim), batch_default));
      } else {
        open.push_back(dim_name(dim));
        shape.push_back(-1);
      }
    }
    if (open.empty()) {
      bound.shapes[input.name] = shape;
      continue;
    }
    std::string example;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      example +=
          (i ? "x" : "") + (shape[i] >= 0 ? std::to_string(shape[i]) : dim_name(input.dims[i]));
    }
    bound.unbound.push_back(
        fmt::format("input '{}' has unbound symbolic dims {} ({}); give them with --shape {}={}",
                    input.name, fmt::join(open, ", "), input.to_string(), input.name, example));
  }
  return bound;
}

BoundInputShapes require_bound_input_shapes(const graph::Graph& graph,
                                            const std::map<std::string, Shape>& given,
                                            std::int64_t batch_default) {
  BoundInputShapes bound = bind_input_shapes(graph, given, batch_default);
  if (!bound.complete()) fail("{}", bound.unbound.front());
  return bound;
}

graph::Graph with_bound_inputs(graph::Graph graph, const std::map<std::string, Shape>& given,
                               std::int64_t batch_default) {
  const BoundInputShapes bound = bind_input_shapes(graph, given, batch_default);
  for (graph::ValueInfo& input : graph.inputs) {
    auto shape = bound.shapes.find(input.name);
    if (shape == bound.shapes.end()) continue;
    input.dims.clear();
    for (std::int64_t dim : shape->second) input.dims.push_back(graph::Dim::fixed(dim));
    input.has_shape = true;
  }
  return graph;
}

std::pair<std::string, Shape> parse_shape_spec(const std::string& spec) {
  const auto equals = spec.rfind('=');
  EP_CHECK(equals != std::string::npos && equals > 0 && equals + 1 < spec.size(),
           "--shape '{}' is not NAME=DIMS (e.g. images=1x3x640x640)", spec);
  const std::string dims = spec.substr(equals + 1);
  Shape shape;
  std::size_t begin = 0;
  while (begin <= dims.size()) {
    const std::size_t end = std::min(dims.find('x', begin), dims.size());
    std::int64_t size = 0;
    const auto [rest, error] = std::from_chars(dims.data() + begin, dims.data() + end, size);
    EP_CHECK(error == std::errc() && rest == dims.data() + end && end > begin,
             "--shape '{}': '{}' is not a dim (dims are positive integers joined by 'x')", spec,
             dims.substr(begin, end - begin));
    EP_CHECK(size > 0, "--shape '{}': dim {} must be positive", spec, size);
    shape.push_back(size);
    begin = end + 1;
  }
  return {spec.substr(0, equals), shape};
}

}  // namespace edgeperf::runtime
