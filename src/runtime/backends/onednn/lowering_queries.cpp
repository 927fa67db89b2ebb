#include "lowering_queries.h"

#include <algorithm>

namespace edgeperf::runtime::onednn {

bool is_graph_output(const LoweringInput& input, const std::string& value) {
  return std::find(input.graph_outputs.begin(), input.graph_outputs.end(), value) !=
         input.graph_outputs.end();
}

const std::vector<std::size_t>& consumers_of(const LoweringInput& input, const std::string& value) {
  static const std::vector<std::size_t> kNone;  // immutable
  auto found = input.consumers.find(value);
  return found == input.consumers.end() ? kNone : found->second;
}

}  // namespace edgeperf::runtime::onednn
