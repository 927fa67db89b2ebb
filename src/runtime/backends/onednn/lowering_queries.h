#pragma once
// Graph questions the oneDNN backend asks of a LoweringInput. Each is written once
// here; they belong on graph::Graph and move there once it answers them.
#include <string>
#include <vector>

#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime::onednn {

bool is_graph_output(const LoweringInput& input, const std::string& value);
// Indices into input.nodes of the nodes reading `value` (none for an unread value).
const std::vector<std::size_t>& consumers_of(const LoweringInput& input, const std::string& value);

}  // namespace edgeperf::runtime::onednn
