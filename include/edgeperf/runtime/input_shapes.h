#pragma once
// Input shapes for a model with symbolic dims ([N, 3, H, W]): what the user gives
// (--shape, input files) binds the named dims, a named dim takes one value across all
// inputs, and only a leading (batch) dim may fall back to a default. Anything else left
// open is an error, never a guess.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/core/shape.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::runtime {

struct BoundInputShapes {
  std::map<std::string, Shape> shapes;  // every input whose dims are all bound
  // One line per input left with open dims (empty when all are bound).
  std::vector<std::string> unbound;
  // One line per dim that took a default (a leading batch dim), for reports.
  std::vector<std::string> notes;

  bool complete() const { return unbound.empty(); }
};

// Binds every graph input's shape from `given` (by input name), named dims shared
// between inputs, and `batch_default` for a leading symbolic dim. Throws a one-line
// error for a name that is not an input, a rank mismatch, a dim contradicting a fixed
// one, a negative dim, or a named dim given two different values.
BoundInputShapes bind_input_shapes(const graph::Graph& graph,
                                   const std::map<std::string, Shape>& given,
                                   std::int64_t batch_default = 1);

// As bind_input_shapes, but an input left unbound is a one-line error naming it and its
// open dims.
BoundInputShapes require_bound_input_shapes(const graph::Graph& graph,
                                            const std::map<std::string, Shape>& given,
                                            std::int64_t batch_default = 1);

// The graph with the dims of every input bound from `given` (and the batch default)
// fixed, for what shapes data for a model (calibration and evaluation sets). Inputs left
// open keep their symbolic dims. Bad shapes throw as bind_input_shapes does.
graph::Graph with_bound_inputs(graph::Graph graph, const std::map<std::string, Shape>& given,
                               std::int64_t batch_default = 1);

// Parses "NAME=1x3x640x640" (the last '=' splits; every dim a positive integer).
std::pair<std::string, Shape> parse_shape_spec(const std::string& spec);

}  // namespace edgeperf::runtime
